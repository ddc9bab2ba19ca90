"""``shopkeeper eval``: index an Icecat catalog once (cached by content hash) and score retrieval.

``build_eval_index`` is wiring (settings, the write side and the query engine together), so it
lives here rather than in ``search``, which keeps only the metrics.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import friendly_errors, progress_bar
from app.settings import Settings
from app.wiring import build_embedder
from ingestion import IndexWriter, chunk_products, write_chunks
from search import Bm25Encoder, Retriever, check_embedder, settle_embedder
from search.evaluation import EVAL_TENANT, catalog_hash, evaluate, load_judgments, searcher
from search.index.edge import EdgeIndex


def build_eval_index(
    settings: Settings,
    catalog_dir: Path,
    cache_root: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Retriever, Callable[[], None]]:
    """Index ``catalog_dir`` into ``cache_root/<content hash>`` (reused when present)."""
    from catalog.importers import load_icecat

    files = sorted(catalog_dir.glob("products_part*.json.gz"))
    if not files:
        raise ValueError(f"{catalog_dir}: no products_part*.json.gz files")
    embedder = build_embedder(settings, bulk=True)
    cache = cache_root / catalog_hash(files)
    cache.mkdir(parents=True, exist_ok=True)
    index = EdgeIndex(str(cache / "qdrant"))
    index.ensure_collection(embedder.dim)
    check_embedder(index, embedder.model_id, reembed=True)  # another backend's cache: re-embed
    bm25 = Bm25Encoder()
    products = load_icecat(catalog_dir, tenant=EVAL_TENANT).products
    chunks = list(chunk_products(products, model_id=embedder.model_id))
    states = {s.sku: s for s in index.iter_states(EVAL_TENANT)}
    writer = IndexWriter(index, embedder, bm25)
    report = (lambda n: progress(n, len(chunks))) if progress else None
    embedded = write_chunks(writer, chunks, states, batch_size=512, progress=report).embedded
    index.flush()
    if embedded:
        index.optimize()
    settle_embedder(index, embedder.model_id)
    retriever = Retriever(
        index,
        embedder,
        bm25,
        weights=settings.FUSION_WEIGHTS,
        prefetch_limit=settings.PREFETCH_LIMIT,
    )
    return retriever, index.close


@friendly_errors
def eval_cmd(
    catalog: Annotated[Path, typer.Option(help="Dir with products_part*.json.gz (Icecat)")],
    judgments: Annotated[Path, typer.Option(help="CSV with query,docid,final_rating")],
    mode: Annotated[str, typer.Option(help="hybrid | dense | bm25 | all")] = "all",
    k: Annotated[int, typer.Option(min=1, max=100)] = 10,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Index cache (default DATA_DIR/eval-cache)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Index a catalog (cached by content hash) and score retrieval against human judgments."""
    modes = ["hybrid", "dense", "bm25"] if mode == "all" else [mode]
    if any(m not in ("hybrid", "dense", "bm25") for m in modes):
        raise ValueError("--mode must be hybrid, dense, bm25 or all")
    if not judgments.is_file():
        raise ValueError(f"judgments file not found: {judgments}")
    settings = Settings()
    grades = load_judgments(judgments)
    with progress_bar() as bar:
        task = bar.add_task("indexing catalog", total=None)
        retriever, closer = build_eval_index(
            settings,
            catalog,
            cache_dir or settings.DATA_DIR / "eval-cache",
            progress=lambda n, total: bar.update(task, advance=n, total=total),
        )
    try:
        for m in modes:
            row = evaluate(searcher(retriever), grades, mode=m, k=k)  # type: ignore[arg-type]
            print(json.dumps(row) if json_out else row)
    finally:
        closer()


def register(cli: typer.Typer) -> None:
    cli.command("eval")(eval_cmd)
