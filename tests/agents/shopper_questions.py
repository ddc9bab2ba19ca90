"""Shopper questions on the demo catalog, in shoppers' words, each with what a right answer is.

Expectations are predicates over the SoR (see ``shopper_judge``), never SKUs: a card passes on
its type phrase, live price, brand, stock and units; "cheapest" is checked against every SoR SKU
that meets the question. Classes: type, paraphrase, typo, units, price_stock, cheapest, brand,
accessory, policy, store_unknown, not_carried, conversation. Policy questions name the page
(``<page_id>.md`` of the store pages) and a regex for the section heading.
"""

from __future__ import annotations

import re

from catalog.models import Product
from tests.agents.shopper_judge import Q, Where, attr, both, either, text, title

# A typo answer names what it searched instead ("Showing results for wireless keyboard").
CORRECTED = r"(?i)showing results for|did you mean|searched for|results for|instead"
# An honest "we don't sell that": no card, and words that say so.
NOT_SOLD = (r"(?i)(don't|do not|doesn't|does not) (seem to )?(carry|sell|stock|have|offer)"
            r"|couldn't find|could not find|no (such|matching)|not (something|an item) we")
DONT_KNOW = (r"(?i)(don't|do not) know|not sure|can't (say|answer|help)|no information"
             r"|contact|reach|customer service|support@")

LAPTOP = ("notebook", "laptop", "chromebook", "netbook", "ultrabook", "mobile workstation")
LAPTOP_GEAR = ("lock", "case", "bag", "backpack", "sleeve", "adapter", "charger", "power",
               "battery", "dock", "docking", "stand", "cooler", "filter", "keypad", "keyboard",
               "mouse", "service", "warranty", "care pack", "cable", "replicator", "hard drive",
               "memory", "screen protector", "privacy", "kit", "cover", "skin", "drive",
               "pad", "writing", "note", "sodimm", "so-dimm", "tip", "car", "quickdock",
               "headset", "speaker", "webcam", "spare part", "port replicator", "accessory",
               "accessories", "a5", "a4", "squared", "ruled", "hardcover", "paper", "sheets")
HEADPHONES = ("headphone", "headset", "earphone", "earbud", "in-ear", "headphones/headset")
PHONES_GEAR = ("pillow", "cushion", "ear pad", "cable", "adapter", "case", "stand", "amplifier",
               "connector", "splitter", "extension")
MONITOR = ("monitor", "display", "lcd")
MONITOR_GEAR = ("privacy", "filter", "mount", "arm", "stand", "bracket", "cable", "cleaning",
                "protector", "pc", "computer", "notebook", "tablet", "projector", "tv",
                "speaker", "sound bar", "camera", "desk", "case", "gps", "hood", "kit",
                "dvd player", "entertainment system")
PROJECTOR_GEAR = ("mount", "ceiling", "manager", "lamp", "screen", "bracket", "cable", "case",
                  "remote", "bag", "solution", "kit", "accessory", "accessories")
UPS = ("ups", "uninterruptible power supply", "uninterruptible power supplies")
UPS_GEAR = ("battery", "batteries", "card", "kit", "cable", "rail", "module", "bypass",
            "charger", "software", "service", "warranty", "pdu", "bracket")
STORAGE = ("hard drive", "hdd", "ssd", "solid state drive", "flash drive", "usb drive",
           "usb stick", "nas", "external drive", "portable drive")
STORAGE_GEAR = ("enclosure", "bay", "rack", "cable", "dock", "docking", "backplane", "adapter",
                "reader", "caddy", "bracket", "cage", "controller", "box", "tray", "kit",
                "carrier", "duplicator", "frame", "sled", "sleeve", "protector")
MEMORY = ("memory module", "memory", "ram", "dimm", "so-dimm")
MEMORY_GEAR = ("card", "flash", "usb", "reader", "drive", "stick", "graphics")
INK = ("ink", "ink cartridge", "inkjet cartridge", "ink tank")
TONER = ("toner", "toner cartridge", "print cartridge")
TONER_GEAR = ("ink", "inkjet", "drum", "collector", "waste", "fuser", "printer")
CARD = ("memory card", "sd card", "sdhc", "sdxc", "microsd", "micro sd", "microsdhc",
        "microsdxc", "compactflash", "cf card", "memory stick", "xd")
CAMERA_GEAR = ("lens", "housing", "cctv", "security", "flash", "case", "bag", "cap", "strap",
               "battery", "charger", "tripod", "light")
KEYBOARD_GEAR = ("cover", "skin", "wrist", "rest", "drawer", "tray", "cable", "switch",
                 "kvm", "protector", "adapter", "extender", "spare part")
MOUSE_GEAR = ("pad", "mat", "wrist", "rest", "pillow", "keyboard", "bungee", "cable",
              "receiver", "desktop", "kit", "set", "razor", "shaver", "playhouse", "gamepad")
CASE = ("case", "bag", "backpack", "sleeve", "briefcase", "messenger", "carrying case",
        "topload", "toploader", "slipcase")
CASE_GEAR = ("drive", "protector", "lock", "phone", "mp3", "camera", "gps", "tablet", "ipad",
             "stand", "cooler", "dock")
LAPTOP_CHARGER = ("power adapter", "ac adapter", "charger", "adapter/inverter", "notebook power",
                  "laptop power", "ac power adapter")
CHARGER_GEAR = ("cable", "gender", "car", "lock", "case", "bag", "ups", "bank", "supply unit",
                "psu", "tip", "plug", "auto", "mobile", "pin", "motherboard", "atx", "phone")
LAPTOP_WORDS = text(r"notebook|laptop")
FOR_LAPTOPS = text(r"notebook|laptop|netbook|ultrabook|\bAC\b")
A_PHONE = text(r"smartphone|\bSIM\b|android|\bGSM\b|\b[345]G\b|\bLTE\b")


def _va(product: Product) -> float | None:
    """A UPS's rating in VA, from its attribute or its title ("1500VA", "1kVA")."""
    value = product.attributes.get("output power capacity")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = re.search(r"(\d+(?:[.,]\d+)?)\s?(k?)VA\b", product.title, re.I)
    if not m:
        return None
    return float(m.group(1).replace(",", ".")) * (1000 if m.group(2) else 1)


def va_at_least(lo: float) -> Where:
    return lambda p: (_va(p) or 0) >= lo


def gb(n: int) -> Where:
    """Holds ``n`` GB: the memory/capacity attribute, or the title ("16GB", "16 GB")."""
    return either(attr(("internal memory", "capacity"), n, n), title(rf"(?<!\d){n}\s?GB\b"))


def inches(lo: float, hi: float) -> Where:
    """A screen between ``lo`` and ``hi`` inches: the diagonal attribute, or the title."""
    def in_title(p: Product) -> bool:
        for m in re.finditer(r"(\d+(?:\.\d)?)\s?(?:\"|”|''|-?inch|in\b|\")", p.title):
            if lo <= float(m.group(1)) <= hi:
                return True
        return False
    return either(attr(("display diagonal",), lo, hi), in_title)


WIRELESS = text(r"wireless|bluetooth|\bRF\b|2\.4 ?GHz")
CORE_I3 = either(title(r"core\W*(?:™)?\s*i3\b"), text(r"intel core i3"))
DDR4 = text(r"\bDDR4\b")

QUESTIONS: list[Q] = [
    # -- the head of the phrase is the product ----------------------------------------------
    Q("laptop lock", "type", kind=("lock",)),
    Q("do you sell something to lock my laptop to the desk?", "type", kind=("lock",)),
    Q("mouse pad", "type", kind=("mouse pad", "mouse mat", "mousepad", "mouse mats")),
    Q("ink for my printer", "type", kind=INK, not_kind=("toner", "paper")),
    Q("need a new battery for my laptop", "type", kind=("battery", "batteries"),
      not_kind=("charger", "ups"), where=LAPTOP_WORDS),
    Q("a case for my 15.6 inch laptop", "type", kind=CASE, not_kind=CASE_GEAR, where=LAPTOP_WORDS),
    Q("toner for my brother printer", "type", kind=TONER, not_kind=TONER_GEAR,
      where=text(r"brother")),
    Q("ceiling mount for a projector", "type", kind=("mount", "ceiling", "bracket"),
      where=text(r"projector")),
    Q("sticky labels for my printer", "type", kind=("label",), where=title(r"label")),
    Q("memory card for my camera", "type", kind=CARD, not_kind=("reader", "camera", "housing")),
    Q("a privacy screen for my monitor", "type", kind=("privacy", "privacy filter")),
    Q("replacement lamp for my projector", "type", kind=("lamp",)),
    Q("wrist rest for my keyboard", "type", kind=("wrist rest", "wrist pillow", "palm rest")),
    Q("a bag to carry my laptop", "type", kind=CASE, not_kind=CASE_GEAR, where=LAPTOP_WORDS),
    # -- purpose and paraphrase ---------------------------------------------------------------
    Q("something to charge my laptop", "paraphrase", kind=LAPTOP_CHARGER, not_kind=CHARGER_GEAR,
      where=FOR_LAPTOPS),
    Q("I need to back up my files", "paraphrase", kind=STORAGE, not_kind=STORAGE_GEAR),
    Q("something to keep my computer running when the power goes out", "paraphrase", kind=UPS,
      not_kind=UPS_GEAR),
    Q("I want to listen to music without bothering anyone", "paraphrase", kind=HEADPHONES,
      not_kind=PHONES_GEAR),
    Q("I need to make video calls from my desktop", "paraphrase",
      kind=("webcam", "web camera", "camera", "headset"), not_kind=CAMERA_GEAR + PHONES_GEAR),
    Q("I need more plugs at my desk", "paraphrase",
      kind=("surge protector", "power strip", "pdu", "power distribution unit",
            "surgearrest", "multi-plug", "socket strip")),
    Q("how do I hook my laptop up to the TV?", "paraphrase", kind=("cable", "adapter"),
      where=title(r"hdmi")),
    Q("I want to show slides on the wall at work", "paraphrase", kind=("projector",),
      not_kind=PROJECTOR_GEAR),
    Q("something to make coffee at home", "paraphrase",
      kind=("coffee maker", "coffee machine", "espresso machine", "coffee", "espresso"),
      not_kind=("filter", "descal", "kit", "capsule", "jug", "carafe", "sleeve", "case",
                "notebook", "toaster", "kettle")),
    Q("stop people reading my screen on the train", "paraphrase",
      kind=("privacy", "privacy filter")),
    Q("I need more space for photos on my camera", "paraphrase", kind=CARD,
      not_kind=("reader", "camera")),
    Q("something to do sums with for school", "paraphrase", kind=("calculator",)),
    # -- typos --------------------------------------------------------------------------------
    Q("earphnes", "typo", kind=HEADPHONES, not_kind=PHONES_GEAR, says=CORRECTED),
    Q("projecter", "typo", kind=("projector",), not_kind=PROJECTOR_GEAR, says=CORRECTED),
    Q("keybaord", "typo", kind=("keyboard",), not_kind=KEYBOARD_GEAR, says=CORRECTED),
    Q("wireles mouse", "typo", kind=("mouse", "mice"), not_kind=MOUSE_GEAR, where=WIRELESS,
      says=CORRECTED),
    Q("logitec mouse", "typo", kind=("mouse", "mice"), not_kind=MOUSE_GEAR, brand="Logitech",
      says=CORRECTED),
    Q("kensignton laptop lock", "typo", kind=("lock",), brand="Kensington", says=CORRECTED),
    Q("calculater", "typo", kind=("calculator",), says=CORRECTED),
    Q("hedphones under 20 dollars", "typo", kind=HEADPHONES, not_kind=PHONES_GEAR,
      max_price=20, says=CORRECTED),
    Q("philps headphones", "typo", kind=HEADPHONES, not_kind=PHONES_GEAR, brand="Philips",
      says=CORRECTED),
    Q("uninteruptible power supply", "typo", kind=UPS, not_kind=UPS_GEAR, says=CORRECTED),
    Q("laptp bag", "typo", kind=CASE, not_kind=CASE_GEAR, where=LAPTOP_WORDS, says=CORRECTED),
    Q("a cheap moniter", "typo", kind=MONITOR, not_kind=MONITOR_GEAR, says=CORRECTED),
    Q("tonner cartridge", "typo", kind=TONER, not_kind=TONER_GEAR, says=CORRECTED),
    # -- units and short codes ----------------------------------------------------------------
    Q("16GB RAM", "units", kind=MEMORY, not_kind=MEMORY_GEAR, where=gb(16)),
    Q("16 gigabytes of memory for my PC", "units", kind=MEMORY, not_kind=MEMORY_GEAR,
      where=gb(16)),
    Q("a 24 inch monitor", "units", kind=MONITOR, not_kind=MONITOR_GEAR,
      where=inches(23.5, 24.5)),
    Q("24\" screen for my desk", "units", kind=MONITOR, not_kind=MONITOR_GEAR,
      where=inches(23.5, 24.5)),
    Q("laptop with a Core i3", "units", kind=LAPTOP, not_kind=LAPTOP_GEAR, where=CORE_I3),
    Q("UPS of at least 1000 VA", "units", kind=UPS, not_kind=UPS_GEAR,
      where=va_at_least(1000)),
    Q("a ups over 1,500VA for my server", "units", kind=UPS, not_kind=UPS_GEAR,
      where=va_at_least(1500)),
    Q("32GB usb stick", "units", kind=("flash drive", "usb drive", "usb stick", "pen drive",
                                        "memory stick"), where=gb(32)),
    Q("64 gig micro sd card", "units", kind=CARD, not_kind=("reader",),
      where=both(gb(64), text(r"micro"))),
    Q("17 inch laptop", "units", kind=LAPTOP, not_kind=LAPTOP_GEAR, where=inches(17, 17.3)),
    Q("DDR4 memory", "units", kind=MEMORY, not_kind=MEMORY_GEAR, where=DDR4),
    Q("65W laptop charger", "units", kind=LAPTOP_CHARGER, not_kind=CHARGER_GEAR,
      where=either(title(r"\b65\s?W\b"), attr(("power", "output power", "ac adapter power"),
                                               65, 65))),
    Q("A4 labels", "units", kind=("label",), where=both(title(r"label"), text(r"\bA4\b"))),
    # -- price and stock ----------------------------------------------------------------------
    Q("any wireless mice for less than 30 bucks I can get right now?", "price_stock",
      kind=("mouse", "mice"), not_kind=MOUSE_GEAR, where=WIRELESS, max_price=30,
      in_stock=True),
    Q("headphones under $20", "price_stock", kind=HEADPHONES, not_kind=PHONES_GEAR,
      max_price=20),
    Q("a keyboard below 25 dollars", "price_stock", kind=("keyboard",),
      not_kind=KEYBOARD_GEAR, max_price=25),
    Q("monitor between 100 and 200 dollars", "price_stock", kind=MONITOR,
      not_kind=MONITOR_GEAR, min_price=100, max_price=200),
    Q("a webcam you have in stock", "price_stock", kind=("webcam", "web camera"),
      not_kind=CAMERA_GEAR, in_stock=True),
    Q("laptop under 500", "price_stock", kind=LAPTOP, not_kind=LAPTOP_GEAR, max_price=500),
    Q("calculator for less than $10", "price_stock", kind=("calculator",), max_price=10),
    Q("speakers under 50 bucks", "price_stock", kind=("speaker", "loudspeaker", "sound bar",
                                                      "soundbar"),
      not_kind=("wire", "cable", "stand", "mount", "bracket", "headset"), max_price=50),
    Q("toner under $40 that's available now", "price_stock", kind=TONER,
      not_kind=TONER_GEAR, max_price=40, in_stock=True),
    Q("surge protector for under $20", "price_stock",
      kind=("surge protector", "surge", "surgearrest"), max_price=20),
    Q("a UPS under $150 that you actually have in stock", "price_stock", kind=UPS,
      not_kind=UPS_GEAR, max_price=150, in_stock=True),
    Q("usb flash drive no more than $15", "price_stock",
      kind=("flash drive", "usb drive", "usb stick"), max_price=15),
    # -- cheapest / dearest, over every SoR SKU that matches ---------------------------------
    Q("cheapest laptop", "cheapest", kind=LAPTOP, not_kind=LAPTOP_GEAR, cheapest=True),
    Q("what's the cheapest in-stock toner from Brother?", "cheapest", kind=TONER,
      not_kind=TONER_GEAR, brand="Brother", in_stock=True, cheapest=True),
    Q("cheapest wireless mouse you've got in stock", "cheapest", kind=("mouse", "mice"),
      not_kind=MOUSE_GEAR, where=WIRELESS, in_stock=True, cheapest=True),
    Q("least expensive 24 inch monitor", "cheapest", kind=MONITOR, not_kind=MONITOR_GEAR,
      where=inches(23.5, 24.5), cheapest=True),
    Q("what's your most expensive projector?", "cheapest", kind=("projector",),
      not_kind=PROJECTOR_GEAR, priciest=True),
    Q("lowest price hdmi cable", "cheapest", kind=("cable",), where=title(r"hdmi"),
      cheapest=True),
    Q("cheapest ups", "cheapest", kind=UPS, not_kind=UPS_GEAR, cheapest=True),
    Q("the cheapest headphones you sell", "cheapest", kind=HEADPHONES, not_kind=PHONES_GEAR,
      cheapest=True),
    Q("most expensive keyboard", "cheapest", kind=("keyboard",), not_kind=KEYBOARD_GEAR,
      priciest=True),
    Q("cheapest 16gb memory", "cheapest", kind=MEMORY, not_kind=MEMORY_GEAR, where=gb(16),
      cheapest=True),
    Q("cheapest Kensington lock", "cheapest", kind=("lock",), brand="Kensington",
      cheapest=True),
    Q("what's the cheapest coffee machine?", "cheapest",
      kind=("coffee maker", "coffee machine", "espresso machine", "coffee"),
      not_kind=("filter", "descal", "kit", "jug", "carafe", "toaster", "kettle"), cheapest=True),
    # -- brand --------------------------------------------------------------------------------
    Q("logitech keyboard", "brand", kind=("keyboard",), not_kind=KEYBOARD_GEAR,
      brand="Logitech"),
    Q("got any Philips headphones?", "brand", kind=HEADPHONES, not_kind=PHONES_GEAR,
      brand="Philips"),
    Q("HP laptops", "brand", kind=LAPTOP, not_kind=LAPTOP_GEAR, brand="HP"),
    Q("a Lenovo notebook under 800", "brand", kind=LAPTOP, not_kind=LAPTOP_GEAR,
      brand="Lenovo", max_price=800),
    Q("Kingston memory card", "brand", kind=CARD, not_kind=("reader",), brand="Kingston"),
    Q("APC battery backup", "brand", kind=UPS, not_kind=UPS_GEAR, brand="APC"),
    Q("something from Targus for my laptop", "brand", brand="Targus"),
    Q("cherry keyboards", "brand", kind=("keyboard",), not_kind=KEYBOARD_GEAR,
      brand="CHERRY"),
    Q("motorola phone", "brand", kind=("smartphone", "mobile phone", "phone"),
      not_kind=("case", "cover", "screen protector", "charger", "cable"), brand="Motorola"),
    Q("Verbatim batteries", "brand", kind=("battery", "batteries"), brand="Verbatim"),
    # -- accessory versus product -------------------------------------------------------------
    Q("I want a laptop", "accessory", kind=LAPTOP, not_kind=LAPTOP_GEAR),
    Q("a laptop sleeve", "accessory", kind=("sleeve", "slipcase", "case"), not_kind=CASE_GEAR,
      where=LAPTOP_WORDS),
    Q("a printer", "accessory", kind=("printer",),
      not_kind=("drum", "fuser", "maintenance", "kit", "ribbon", "belt", "stand", "cabinet",
                "cable", "ink", "toner", "cartridge", "cart", "bin", "tray", "memory",
                "printer label", "tape", "server", "head", "printhead")),
    Q("printer ink", "accessory", kind=INK, not_kind=("toner", "paper")),
    Q("a projector", "accessory", kind=("projector",), not_kind=PROJECTOR_GEAR),
    Q("a mount for my projector", "accessory", kind=("mount", "ceiling", "bracket"),
      where=text(r"projector")),
    Q("a phone", "accessory", kind=("smartphone", "mobile phone", "phone"),
      not_kind=("case", "cover", "screen protector", "charger", "cable", "headset",
                "headphone", "adapter", "car", "holder"), where=A_PHONE),
    Q("a case for my samsung phone", "accessory", kind=("case", "cover", "folio"),
      not_kind=("notebook", "laptop", "mp3", "tablet", "camera"), where=text(r"phone|galaxy")),
    Q("a ups for my home office", "accessory", kind=UPS, not_kind=UPS_GEAR),
    Q("replacement battery for my UPS", "accessory", kind=("battery", "batteries",
                                                            "battery cartridge"),
      where=text(r"\bUPS\b|uninterruptible|replacement battery cartridge|\bRBC")),
    Q("a mouse", "accessory", kind=("mouse", "mice"), not_kind=MOUSE_GEAR),
    Q("a docking station for my laptop", "accessory",
      kind=("docking station", "dock", "port replicator", "dock/port replicator"),
      not_kind=("hard drive", "sata", "hdd", "speaker", "ipod", "phone", "cable")),
    # -- store pages: (page_id, section heading regex) ----------------------------------------
    Q("what's your return policy?", "policy", policy=("returns", r"return.policy")),
    Q("can I send it back if I change my mind?", "policy", policy=("returns", r"return")),
    Q("how do I get my money back?", "policy", policy=("returns", r"refund")),
    Q("do you ship to Canada?", "policy", policy=("shipping", r"abroad|international")),
    Q("do you deliver abroad?", "policy", policy=("shipping", r"abroad|international")),
    Q("how much is delivery?", "policy", policy=("shipping", r"cost|fee|price")),
    Q("how long will my order take to arrive?", "policy",
      policy=("shipping", r"delivery.times|time")),
    Q("how long is the warranty on things I buy from you?", "policy",
      policy=("warranty", r"period|warranty")),
    Q("my headphones broke after a month, what can I do?", "policy",
      policy=("warranty", r"claim|cover")),
    Q("can I pay with PayPal?", "policy", policy=("payment", r"method|accepted")),
    Q("do you take credit cards", "policy", policy=("payment", r"method|accepted")),
    Q("how can I get in touch with you?", "policy", policy=("contact", r"customer.service")),
    Q("are you open on Saturdays?", "policy", policy=("contact", r"opening|hours")),
    Q("where is my parcel?", "policy", policy=("shipping", r"track")),
    # -- neither a product nor on a page: say so, and how to reach the shop --------------------
    Q("do you price match?", "store_unknown", no_cards=True, says=DONT_KNOW),
    Q("can I book a repair appointment in store?", "store_unknown", no_cards=True,
      says=DONT_KNOW),
    Q("are you hiring?", "store_unknown", no_cards=True, says=DONT_KNOW),
    # -- we don't carry that: no invented card, an honest answer ------------------------------
    Q("a bicycle helmet", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("a sofa", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("do you have any running shoes?", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("I'm looking for a lawn mower", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("king size duvet", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("dog food", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("an acoustic guitar", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("winter tyres for my car", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("a washing machine", "not_carried", no_cards=True, says=NOT_SOLD),
    Q("wedding dress", "not_carried", no_cards=True, says=NOT_SOLD),
    # -- conversation: nothing to refer to yet, so ask -----------------------------------------
    Q("compare the first two", "conversation", clarify=True),
    Q("the second one please", "conversation", clarify=True),
    Q("I need a gift", "conversation", clarify=True),
    Q("something nice", "conversation", clarify=True),
]
