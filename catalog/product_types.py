"""Product types learned from the tenant's own catalog: the head noun phrase of each product.

Nothing here knows what a shop sells. The words that name a product type are learned from the
batch itself, in four steps, each only for the products the one before left untyped:

1. the title's type phrase after brand and model code: many catalogs (Icecat among them) title
   a product "<brand> <model> <type phrase> <specs>", so the lower-case words right after the
   model number name its type ("… toner cartridge Original Black" -> "toner cartridge");
2. the product's own "product type" attribute, when it is a phrase and not a code;
3. a lexicon of the phrases steps 1 and 2 found (and their head words), matched in the title
   at the rightmost position before "for"/"with"/a comma: the head of a noun phrase is its last
   noun, so "laptop lock" is a lock and "cable for monitors" a cable;
4. a naive Bayes classifier on title words and attribute names, trained on the typed products,
   for the rest; its guess is kept only when it is confident.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from catalog.models import Product

MIN_PROBABILITY = 0.7  # a classifier guess below this leaves the product untyped
MAX_WORDS = 4  # a type phrase longer than this is a description, not a type
TYPE_ATTRIBUTES = ("product type",)
_TOKEN = re.compile(r"[^\s,;|()\[\]{}]+")
_ALPHA = re.compile(r"[^\W\d_]{2,}(?:[-/'&][^\W\d_]+)*", re.UNICODE)
# Words that end a noun phrase: what follows them is what the product is for or comes with.
_BREAKS = frozenset({"for", "with", "to", "from", "in", "on", "by", "of", "and", "or", "incl",
                     "including", "compatible", "w", "plus", "&", "-", "–", "+"})
_SEGMENT = re.compile(r"[,;|(\[{:]| [-–] | (?:for|with|incl\.?|including|compatible)(?= )", re.I)


def words_of(text: str) -> list[str]:
    """Lower-case tokens of ``text``, punctuation kept inside words ("all-in-one")."""
    return [t.strip(".\"'!?*®™").lower() for t in _TOKEN.findall(text) if t.strip(".\"'!?*®™")]


def is_phrase_word(word: str) -> bool:
    """A word a type name can hold: letters (with inner - / ' &), no digits, not a break word."""
    return bool(_ALPHA.fullmatch(word)) and word not in _BREAKS


def clean_phrase(text: str) -> str | None:
    """A type phrase from free text ("Desktop Board" -> "desktop board"), or None if not one."""
    kept = []
    for word in words_of(re.sub(r"\([^)]*\)", " ", text)):
        if not is_phrase_word(word):
            break
        kept.append(word)
    phrase = " ".join(kept[-MAX_WORDS:])
    return phrase if kept and len(phrase) >= 3 else None


def _strip_brand(title: str, brand: str) -> str:
    if brand and title.lower().startswith(brand.lower()):
        return title[len(brand):].strip()
    return title.strip()


def _after_model(text: str, models: Iterable[str]) -> tuple[str, str] | None:
    """(text up to and including the model code, text after it), if the title names it."""
    low = text.lower()
    for model in sorted({m.strip() for m in models if m and m.strip()}, key=len, reverse=True):
        at = low.find(model.lower())
        if at >= 0:
            return text[: at + len(model)], text[at + len(model):]
    return None


def lower_run(text: str, stop: frozenset[str] = frozenset()) -> str | None:
    """The lower-case phrase that opens ``text`` ("toner cartridge Original …" -> "toner
    cartridge"); it ends at a capitalised word, a number, a break word or a ``stop`` word."""
    kept: list[str] = []
    for raw in _TOKEN.findall(text):
        word = raw.strip(".\"'!?*®™")
        if not word or word != word.lower() or not is_phrase_word(word) or word in stop:
            break
        kept.append(word)
        if raw.endswith((".", "!", "?")):
            break
    phrase = " ".join(kept[-MAX_WORDS:])
    return phrase if kept and len(phrase) >= 3 else None


def abbreviated(phrase: str, text: str) -> str:
    """The phrase with the abbreviation that follows it in ``text``, when its initials spell
    one ("uninterruptible power supply (UPS)"), so shoppers may use either."""
    m = re.search(re.escape(phrase) + r"\s*\(([^\W\d_]{2,8})\)", text, re.I)
    abbr = m.group(1).lower() if m else ""
    initials = "".join(w[0] for w in phrase.split())
    return f"{phrase} ({abbr})" if abbr and initials.endswith(abbr) else phrase


def singular(word: str) -> str:
    """Plural folding for counting only ("cables" and "cable" are one type)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def fold(phrase: str) -> str:
    """The counting key of a phrase: its last word singular ("mouse pads" -> "mouse pad")."""
    head, _, last = phrase.rpartition(" ")
    return f"{head} {singular(last)}".strip()


@dataclass(frozen=True)
class Lexicon:
    """Type phrases of one catalog: folded phrase -> the form shown, and the longest phrase."""

    names: dict[str, str]
    longest: int = 1

    def head(self, text: str, stop: frozenset[str] = frozenset()) -> str | None:
        """The rightmost (then longest) known phrase in the first noun phrase of ``text``;
        ``stop`` words (specs, colours) are stepped over and never part of a type."""
        toks = words_of(_SEGMENT.split(text, maxsplit=1)[0])
        for end in range(len(toks), 0, -1):
            for size in range(min(self.longest, end), 0, -1):
                part = toks[end - size: end]
                if not all(is_phrase_word(w) and w not in stop for w in part):
                    continue
                name = self.names.get(fold(" ".join(part)))
                if name:
                    return name
        return None


@dataclass(frozen=True)
class Learned:
    """What one pass over a catalog learned: lexicons, spec words, each product's phrase."""

    lexicon: Lexicon  # from structured titles and type attributes
    heads: Lexicon  # the same plus the head nouns that unstructured titles end on
    found: list[str | None]
    stop: frozenset[str]


_COLOUR_KEYS = frozenset({"colour", "color", "colours", "colors"})


def _colour_words(products: Sequence[Product]) -> frozenset[str]:
    """Words of the catalog's own colour values, which trail titles but never name a type."""
    out: set[str] = set()
    for p in products:
        sources: list[Mapping[str, object]] = [p.attributes]
        sources += [s.variant_attributes for s in p.skus]
        for attrs in sources:
            for key, value in attrs.items():
                parts = key.lower().split()
                if isinstance(value, str) and len(parts) <= 2 and parts[-1] in _COLOUR_KEYS:
                    out.update(w for w in words_of(value.replace(",", " ")) if is_phrase_word(w))
    return frozenset(out)


def _split(p: Product) -> tuple[str, str] | None:
    """The title (without brand) around its model code: (up to the code, after it)."""
    return _after_model(_strip_brand(p.title, p.brand), (s.model_number or "" for s in p.skus))


def _attribute(p: Product) -> str | None:
    """Step 2: the product's own "product type" attribute, when it reads as a phrase."""
    for key in TYPE_ATTRIBUTES:
        value = p.attributes.get(key)
        if isinstance(value, str):
            phrase = clean_phrase(value)
            if phrase:
                return phrase
    return None


def _last_word(text: str, stop: frozenset[str]) -> str | None:
    """The last phrase word of the title's first noun phrase (its head noun, unlearned)."""
    for word in reversed(words_of(_SEGMENT.split(text, maxsplit=1)[0])):
        if is_phrase_word(word) and word not in stop and len(word) >= 3:
            return word
    return None


def _lexicon(counts: Counter[str], shown: dict[str, Counter[str]], min_count: int,
             stop: frozenset[str]) -> Lexicon:
    names = {k: shown[k].most_common(1)[0][0] for k, n in counts.items()
             if n >= min_count and k.split()[-1] not in stop}
    return Lexicon(names, max((len(k.split()) for k in names), default=1))


def learn(products: Sequence[Product], *, min_count: int = 2) -> Learned:
    """Learn the catalog's type phrases; words that mostly trail type phrases are specs."""
    colours = _colour_words(products)
    runs: list[str | None] = []
    tails: Counter[str] = Counter()  # words seen after a structured type phrase
    for p in products:
        split = _split(p)
        run = lower_run(split[1], colours) if split else None
        runs.append(abbreviated(run, split[1]) if split and run else run)
        if split and run:
            tail = split[1].lower().split(run.split(" (")[0], 1)[-1]
            tails.update({w for w in words_of(tail) if is_phrase_word(w)})
    found: list[str | None] = []
    counts: Counter[str] = Counter()
    shown: dict[str, Counter[str]] = {}
    for p, run in zip(products, runs, strict=True):
        phrase = run or _attribute(p)
        found.append(phrase)
        if phrase:
            parts = phrase.split(" (")[0].split()  # an abbreviation is shown, not counted
            for size in range(1, len(parts) + 1):  # the phrase and each of its head suffixes
                sub = " ".join(parts[-size:])
                counts[fold(sub)] += 1
                shown.setdefault(fold(sub), Counter())[sub if size < len(parts) else phrase] += 1
    heads_of = Counter(fold(f.split(" (")[0].split()[-1]) for f in found if f)
    stop = colours | {w for w, n in tails.items()
                      if n >= min_count and heads_of[fold(w)] < max(min_count, n / 10)}
    lexicon = _lexicon(counts, shown, min_count, stop)
    # Titles without structure still share head nouns ("… Slim Fit Jeans"): learned too, for
    # the products that neither the lexicon nor the classifier could type.
    heads = Counter(
        w for p, f in zip(products, found, strict=True)
        if f is None and (w := _last_word(_strip_brand(p.title, p.brand), stop))
    )
    head_counts: Counter[str] = Counter()
    for word, n in heads.items():
        head_counts[fold(word)] += n
        shown.setdefault(fold(word), Counter())[word] += n
    for key, n in head_counts.items():
        if n >= max(3, min_count) and key not in counts:
            counts[key] = n
    return Learned(lexicon, _lexicon(counts, shown, min_count, stop), found, stop)


def _features(p: Product) -> str:
    """Classifier input: the title's words and the names of the attributes the product has."""
    title = " ".join(w for w in words_of(_strip_brand(p.title, p.brand)) if is_phrase_word(w))
    keys = " ".join("attr_" + re.sub(r"\W+", "_", k) for k in p.attributes)
    return f"{title} {keys}"


def _classify(train: list[tuple[Product, str]], rest: list[Product]) -> list[str | None]:
    """Step 4: multinomial naive Bayes; a type needs two examples, a guess ``MIN_PROBABILITY``."""
    per_type = Counter(t for _, t in train)
    train = [(p, t) for p, t in train if per_type[t] >= 2]
    if not rest or len({t for _, t in train}) < 2:
        return [None] * len(rest)
    from sklearn.feature_extraction.text import CountVectorizer  # heavy: only when needed
    from sklearn.naive_bayes import MultinomialNB

    vec = CountVectorizer(token_pattern=r"\S+", binary=True)
    x = vec.fit_transform([_features(p) for p, _ in train])
    model = MultinomialNB(alpha=0.1).fit(x, [t for _, t in train])
    rows = vec.transform([_features(p) for p in rest])
    probs = model.predict_proba(rows)
    known = rows.getnnz(axis=1)  # a title of unseen words gets only the prior: no guess
    best = probs.argmax(axis=1)
    return [str(model.classes_[i]) if probs[row, i] >= MIN_PROBABILITY and known[row] >= 2
            else None for row, i in enumerate(best)]


def assign_types(products: Sequence[Product], *, min_count: int = 2) -> list[Product]:
    """Every product of one tenant's batch with ``product_type`` set where it can be learned.

    A type the catalog already states (``product_type`` in the source) is kept as given.
    """
    learned = learn(products, min_count=min_count)
    types: list[str | None] = []
    for p, phrase in zip(products, learned.found, strict=True):
        given = (p.product_type or "").strip().lower() or None
        name = learned.lexicon.names.get(fold(phrase)) if phrase else None
        text = _strip_brand(p.title, p.brand)
        types.append(given or name or phrase or learned.lexicon.head(text, learned.stop))
    untyped = [i for i, t in enumerate(types) if t is None]
    guesses = _classify([(p, t) for p, t in zip(products, types, strict=True) if t],
                        [products[i] for i in untyped])
    for i, guess in zip(untyped, guesses, strict=True):
        p = products[i]
        types[i] = guess or learned.heads.head(_strip_brand(p.title, p.brand), learned.stop)
    return [p if p.product_type == t else p.model_copy(update={"product_type": t})
            for p, t in zip(products, types, strict=True)]


def untyped_share(products: Sequence[Product]) -> float:
    """Fraction of products with no product type (the figure the importers are judged by)."""
    return sum(1 for p in products if not p.product_type) / len(products) if products else 0.0
