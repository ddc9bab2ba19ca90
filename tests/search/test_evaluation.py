"""Retrieval metrics: the formulas the eval command reports, checked on hand-worked cases."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from search.evaluation import dcg, evaluate, load_judgments, score_ranking


def test_ndcg_uses_exponential_gain_and_ideal_from_all_grades() -> None:
    grades = {"a": 3, "b": 2, "c": 0, "d": 1}
    perfect = score_ranking(["a", "b", "d", "c"], grades, k=10)
    assert perfect.ndcg == pytest.approx(1.0)
    swapped = score_ranking(["b", "a"], grades, k=10)
    ideal = 7 + 3 / math.log2(3) + 1 / 2
    assert swapped.ndcg == pytest.approx((3 + 7 / math.log2(3)) / ideal)
    assert dcg([3]) == 7


def test_recall_mrr_and_judged_use_grade_two_as_relevant() -> None:
    grades = {"a": 3, "b": 2, "c": 1}
    s = score_ranking(["x", "c", "b", "y"], grades, k=4)
    assert s.recall == pytest.approx(0.5)
    assert s.rr == pytest.approx(1 / 3)
    assert s.judged == pytest.approx(2 / 4)


def test_queries_without_a_relevant_product_are_left_out(tmp_path: Path) -> None:
    csv = tmp_path / "j.csv"
    csv.write_text("query,docid,final_rating\nmouse,a,3\nmouse,b,0\niphone 7,c,1\n")
    judgments = load_judgments(csv)
    row = evaluate(lambda q, mode, k: ["a"], judgments, mode="bm25", k=10)
    assert row["queries"] == 1 and row["ndcg@10"] == 1.0 and row["mode"] == "bm25"


def test_missing_columns_are_a_clear_error(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("q,doc,grade\nx,y,1\n")
    with pytest.raises(ValueError, match="missing column"):
        load_judgments(csv)
