"""Bm25Encoder: the client-side sparse vectors both index backends store."""

from __future__ import annotations

from search.index.base import SparseVector
from search.sparse import DEFAULT_AVG_LEN, Bm25Encoder


def test_documents_and_queries_share_a_vocabulary() -> None:
    enc = Bm25Encoder()
    [doc] = enc.embed_documents(["HP 301 black ink cartridges for Deskjet printers"])
    query = enc.embed_query("black cartridge")  # singular: the English stemmer folds plurals
    assert isinstance(doc, SparseVector) and isinstance(query, SparseVector)
    assert set(query.indices) <= set(doc.indices)
    assert query.values == [1.0] * len(query.indices)
    assert all(v > 0 for v in doc.values)
    assert len(doc.indices) == len(doc.values)


def test_stopwords_dropped_and_accents_folded() -> None:
    enc = Bm25Encoder()
    assert enc.embed_query("the and of").indices == []
    assert set(enc.embed_query("cafe").indices) == set(enc.embed_query("Café").indices)


def test_avg_len_is_realistic_for_chunks() -> None:
    assert Bm25Encoder().config.avg_len == DEFAULT_AVG_LEN == 80.0
    # a longer document than avg_len gets lower term weights than a short one
    enc = Bm25Encoder()
    short = enc.embed_documents(["toner"])[0]
    long = enc.embed_documents(["toner " + " ".join(f"word{i}" for i in range(200))])[0]
    tid = short.indices[0]
    assert long.values[long.indices.index(tid)] < short.values[0]


def test_order_is_kept() -> None:
    enc = Bm25Encoder()
    texts = ["mouse", "toner", "ink"]
    assert [v.indices for v in enc.embed_documents(texts)] == [
        enc.embed_query(t).indices for t in texts
    ]
