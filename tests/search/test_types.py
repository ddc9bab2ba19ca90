"""The head product type of a question: the type wanted, never the one it is for."""

from __future__ import annotations

from typing import Any

import pytest

from search.types import TypeMatcher, aliases, split_purpose

SHOP = TypeMatcher({"notebook": 200, "notebook case": 90, "cable lock": 12, "mouse": 100,
                    "ink cartridge": 300, "power adapter": 40, "printer": 70,
                    "uninterruptible power supply (ups)": 60, "headphones/headset": 20,
                    "jeans": 30, "duvet cover": 8})


@pytest.mark.parametrize(("question", "types", "confident"), [
    ("wireless mouse", ("mouse",), True),
    ("cheap notebooks", ("notebook",), True),  # plural folded
    ("a notebook case for my notebook", ("notebook case",), True),  # the head, not the object
    ("ups", ("uninterruptible power supply (ups)",), True),  # parenthesised abbreviation
    ("uninterruptible power supply", ("uninterruptible power supply (ups)",), True),
    ("gaming headset", ("headphones/headset",), True),  # each side of a slash
    ("slim fit jeans", ("jeans",), True),
    ("laptop lock", ("cable lock",), False),  # same head noun: a guess (no embedder here)
    ("mouse pad", (), False),  # a pad: never the mouse it is for
    ("ink for my printer", (), False),  # ink is wanted, the printer is what it is for
    ("something to charge my notebook", (), False),  # nothing named: the embedding decides
])
def test_lexical_match(question: str, types: tuple[str, ...], confident: bool) -> None:
    m = SHOP.match(question)
    assert (m.types, m.confident) == (types, confident)


def test_purpose_split() -> None:
    assert split_purpose("something to charge my laptop") == (["something"], ["laptop"])
    assert split_purpose("ink for my hp printer") == (["ink"], ["hp", "printer"])
    assert split_purpose("wireless mouse") == (["wireless", "mouse"], [])


def test_aliases() -> None:
    assert aliases("uninterruptible power supply (ups)") == [  # as matched: words, folded
        "uninterruptible power supply ups", "uninterruptible power supply", "ups"]
    assert aliases("notebook dock/port replicator") == [
        "notebook dock/port replicator", "notebook dock", "port replicator"]


@pytest.mark.model
@pytest.mark.parametrize(("question", "wanted"), [
    ("I need to charge my notebook", "power adapter"),
    ("something to charge my laptop", "power adapter"),
    ("a laptop", "notebook"),
])
def test_paraphrase_by_embedding(embedder: Any, question: str, wanted: str) -> None:
    m = SHOP.match(question, embedder)
    assert m.how == "embedding" and not m.confident
    assert m.types[0] == wanted
    assert "notebook" not in m.types or wanted == "notebook"  # the purpose's object is out
