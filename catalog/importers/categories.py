"""A small, data-driven keyword table that gives each product a coarse, shopper-facing category."""

from __future__ import annotations

import re

# Nouns that turn a device word into an accessory when they follow it closely
# ("monitor cable", "tablet case", "keyboard cover", "notebook dock"): the device rule then
# does not match and the accessory's own rule (or none) decides.
_ACCESSORY = (
    r"cables?|cords?|cases?|covers?|sleeves?|bags?|stands?|mounts?|arms?|pads?|mats?|adapters?"
    r"|chargers?|batter(?:y|ies)|docks?|docking|lamps?|filters?|protectors?|converters?"
    r"|extenders?|extensions?|switch(?:es)?|kits?|holders?|brackets?|replicators?|spares?"
    r"|parts?|skins?|straps?|lens(?:es)?|drums?|ribbons?|belts?|rollers?|trays?|feeders?"
    r"|motherboards?|boards?|coolers?|fans?|labels?|enclosures?|screens?|folios?"
)
_NOT_ACCESSORY = rf"(?!(?:[\s/,-]+[^\s/,]+){{0,3}}?[\s/,-]+(?:{_ACCESSORY})\b)"

# (category, keyword regex, is_device). Order breaks ties when two rules match at the same
# position in the title; otherwise the match that starts first wins, because Icecat titles
# read "<brand> <model> <category> <specs...>".
RULES: tuple[tuple[str, str, bool], ...] = (
    ("ink cartridge", r"ink cartridges?|ink tanks?|ink bottles?|inkjet cartridges?", False),
    ("toner cartridge", r"toner(?: cartridges?)?|laser cartridges?", False),
    (
        "printer supplies",
        r"printer (?:drums?|ribbons?|belts?|rollers?|kits?)|fusers?|print ?heads?"
        r"|imaging units?|drum units?|maintenance kits?|transfer kits?",
        False,
    ),
    (
        "paper & labels",
        r"photo paper|printing paper|art paper|large format media|labels?(?! printers?)"
        r"|label-making tape",
        False,
    ),
    ("card reader", r"card readers?", False),
    (
        "memory card",
        r"memory cards?|micro ?sd(?:hc|xc)?|sd(?:hc|xc)? cards?|compactflash"
        r"|secure digital",
        False,
    ),
    (
        "usb flash drive",
        r"usb flash drives?|flash drives?|usb drives?|usb sticks?|pen drives?",
        False,
    ),
    ("cable", r"cables?|cords?", False),
    ("case", r"cases?|sleeves?|backpacks?|bags?|covers?|skins?|folios?", False),
    ("screen protector", r"screen protectors?|privacy (?:filters?|screens?)", False),
    ("docking station", r"docking stations?|docks?|port replicators?", False),
    (
        "power adapter",
        r"chargers?|power adapters?|ac adapters?|power supply units?|power supplies"
        r"|power adapter/inverter",
        False,
    ),
    (
        "power strip",
        r"power distribution units?|surge protectors?|power extensions?|power strips?",
        False,
    ),
    ("battery", r"batter(?:y|ies)", False),
    ("ups", r"uninterruptible power suppl(?:y|ies)|ups", True),
    ("motherboard", r"motherboards?|mainboards?|desktop boards?|server/workstation boards?", False),
    ("graphics card", r"graphics cards?|video cards?|graphics adapters?", False),
    ("memory module", r"memory modules?|ram modules?", False),
    ("hard drive", r"hard (?:disk )?drives?|hdds?|ssds?|solid state drives?", True),
    (
        "optical drive",
        r"optical disc drives?|dvd (?:burners?|writers?|drives?)|blu-ray drives?",
        False,
    ),
    (
        "networking",
        r"routers?|network switch(?:es)?|access points?|network(?:ing)? cards?"
        r"|network interface cards?|network adapters?|network media converters?"
        r"|network transceiver modules?",
        True,
    ),
    ("notebook", r"notebooks?|laptops?|chromebooks?|netbooks?|ultrabooks?|2-in-1", True),
    ("tablet", r"tablets?|ipads?|e-book readers?|e-readers?", True),
    ("smartphone", r"smartphones?|mobile phones?|cell phones?", True),
    ("monitor", r"monitors?|computer monitors?", True),
    ("keyboard", r"keyboards?", True),
    ("mouse", r"mouse|mice|trackballs?", True),
    ("headphones", r"headphones?|headsets?|earphones?|earbuds?|headphones/headset", True),
    ("speaker", r"speakers?|loudspeakers?|soundbars?|speaker sets?", True),
    ("printer", r"printers?|multifunctionals?|all-in-one printers?|scanners?", True),
    ("projector", r"projectors?", True),
    ("camera", r"cameras?|camcorders?|webcams?", True),
    ("processor", r"processors?|cpus?", True),
    ("server", r"servers?|server barebones?", True),
    (
        "desktop computer",
        r"(?<!\d )pcs?(?!\(s\))|desktops?|workstations?|all-in-one pcs?|mini pcs?",
        True,
    ),
    ("calculator", r"calculators?", True),
    ("coffee machine", r"coffee makers?|coffee machines?|espresso machines?", True),
    ("toy", r"dolls?|toys?|playhouse|kids' (?:craft|knitting)", True),
)

# One alternation: the regex engine returns the leftmost match, and at one position the first
# alternative in table order, which is exactly the rule above.
_PATTERN = re.compile(
    r"(?<![\w-])(?=\w)(?:"
    + "|".join(
        rf"(?P<r{i}>(?:{rx})(?![\w-]){_NOT_ACCESSORY if device else ''})"
        for i, (_, rx, device) in enumerate(RULES)
    )
    + ")",
    re.I,
)
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(cat for cat, _, _ in RULES))


def categorise(text: str | None) -> str | None:
    """The category whose keyword appears first in ``text`` (ties: earlier rule), else None."""
    if not text:
        return None
    m = _PATTERN.search(text)
    return RULES[int(m.lastgroup[1:])][0] if m and m.lastgroup else None


def category_for(
    title: str, product_type: str | None = None, hint: str | None = None
) -> str | None:
    """Category from an explicit product type first, then the title, then a caller's hint."""
    return categorise(product_type) or categorise(title) or hint
