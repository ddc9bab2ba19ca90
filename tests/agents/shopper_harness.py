"""Run shopper questions through the real agent and judge each answer against the SoR.

    python -m tests.agents.shopper_harness --data-dir /tmp/sq-demo [--suite demo|homeware]
        [--class typo] [--json out.json] [--ingest]

The data dir holds an ingested catalog (SoR + embedded index). An empty one is ingested first
with the ``shopkeeper`` CLI (the demo catalog, or the homeware fixture for ``--suite homeware``),
and the store pages are loaded when the CLI has a ``pages`` command. The agent runs on the
embedded defaults with the grounded responder (no LLM), one fresh thread per question. Prints
the pass rate per class and every failure with its reasons; ``--json`` writes the full report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.agents.shopper_judge import Q, Row, Truth, judge, wording_only

HERE = Path(__file__).resolve().parent
HOMEWARE_CATALOG = HERE.parent / "data" / "homeware_catalog.jsonl"
HOMEWARE_PAGES = HERE.parent / "data" / "homeware_pages"
HOMEWARE_TENANT = "homeware"


@dataclass
class Result:
    """One question, the answer it got and why it failed (no reasons: it passed)."""

    q: Q
    text: str
    cards: list[dict[str, Any]]
    reasons: list[str]

    @property
    def passed(self) -> bool:
        return not self.reasons

    @property
    def cards_ok(self) -> bool:
        """Right cards and sources, whatever the wording."""
        return wording_only(self.reasons)


@dataclass
class Report:
    """Every result, with the pass rate per class and overall."""

    results: list[Result] = field(default_factory=list)

    def by_class(self) -> dict[str, tuple[int, int, int]]:
        """Class -> (passed, cards right, total), in the order the classes first appear."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for r in self.results:
            out[r.q.cls][0] += r.passed
            out[r.q.cls][1] += r.cards_ok
            out[r.q.cls][2] += 1
        return {k: (v[0], v[1], v[2]) for k, v in out.items()}

    def class_rate(self, cls: str) -> float:
        passed, _, total = self.by_class().get(cls, (0, 0, 0))
        return passed / max(total, 1)

    @property
    def rate(self) -> float:
        return sum(r.passed for r in self.results) / max(len(self.results), 1)

    def failures(self, cls: str | None = None) -> list[Result]:
        return [r for r in self.results if not r.passed and (cls is None or r.q.cls == cls)]

    def as_json(self) -> dict[str, Any]:
        return {
            "overall": {"passed": sum(r.passed for r in self.results),
                        "cards_ok": sum(r.cards_ok for r in self.results),
                        "total": len(self.results), "rate": round(self.rate, 3)},
            "classes": {k: {"passed": p, "cards_ok": c, "total": t, "rate": round(p / t, 3)}
                        for k, (p, c, t) in self.by_class().items()},
            "results": [{"class": r.q.cls, "question": r.q.text, "passed": r.passed,
                         "reasons": r.reasons, "text": r.text, "cards": r.cards}
                        for r in self.results],
        }

    def summary(self) -> str:
        lines = [f"{'class':<14} passed   rate  cards right (wording aside)"]
        for cls, (p, c, t) in self.by_class().items():
            lines.append(f"{cls:<14} {p:>3}/{t:<3} {p / t:>5.0%}  {c:>3}/{t:<3} {c / t:>5.0%}")
        total = len(self.results)
        cards = sum(r.cards_ok for r in self.results)
        lines.append(f"{'overall':<14} {sum(r.passed for r in self.results):>3}/{total:<3} "
                     f"{self.rate:>5.0%}  {cards:>3}/{total:<3} {cards / max(total, 1):>5.0%}")
        return "\n".join(lines)

    def failure_lines(self) -> str:
        out = []
        for r in self.failures():
            out.append(f"[{r.q.cls}] {r.q.text!r} -> {r.text[:140]!r}")
            out += [f"    - {reason}" for reason in r.reasons]
        return "\n".join(out)


async def load_truth(sor: Any, tenant: str) -> Truth:
    """Every SKU of the tenant with its product (only that SKU) and its live offer."""
    rows: dict[str, Row] = {}
    products = [p async for p in sor.iter_products(tenant)]
    skus = [s.sku for p in products for s in p.skus]
    offers: dict[str, Any] = {}
    for i in range(0, len(skus), 500):
        offers.update(await sor.get_offers(tenant, skus[i:i + 500]))
    for p in products:
        for s in p.skus:
            rows[s.sku] = Row(p.model_copy(update={"skus": [s]}), offers.get(s.sku))
    return Truth(rows)


async def ask(agent: Any, q: Q, tenant: str) -> Any:
    """The answer to ``q`` in a fresh thread, after its ``before`` turns."""
    from agents.schemas import AgentRequest

    thread = None
    for turn in q.before:
        prior = await agent.answer(AgentRequest(message=turn, tenant=tenant, thread_id=thread))
        thread = prior.thread_id
    return await agent.answer(AgentRequest(message=q.text, tenant=tenant, thread_id=thread))


async def run_questions(agent: Any, sor: Any, questions: list[Q], tenant: str) -> Report:
    """Ask and judge every question; an exception is a failure, not a crash."""
    truth = await load_truth(sor, tenant)
    report = Report()
    for q in questions:
        try:
            answer = await ask(agent, q, tenant)
        except Exception as exc:  # a crash is a wrong answer: report it, go on
            report.results.append(Result(q, "", [], [f"raised {type(exc).__name__}: {exc}"]))
            continue
        cards = [{"sku": c.sku, "title": c.title[:80], "price": c.price, "in_stock": c.in_stock}
                 for c in answer.products]
        report.results.append(Result(q, answer.text, cards, judge(q, answer, truth)))
    return report


def settings_for(data_dir: Path, tenant: str, **overrides: Any) -> Any:
    """Embedded settings on ``data_dir``; a generous SoR timeout, since this judges answers,
    not latency."""
    from tests.fixtures_demo import demo_settings_for

    values: dict[str, Any] = {"TENANT": tenant, "SOR_TIMEOUT_S": 5.0, "SOR_RETRIES": 2}
    values.update(overrides)
    return demo_settings_for(data_dir, **values)


async def run(data_dir: Path, questions: list[Q], tenant: str, embedder: Any = None) -> Report:
    """Open the data dir's services and agent, and run every question."""
    from app.wiring import open_agent, services

    settings = settings_for(data_dir, tenant)
    async with services(settings, embedder=embedder) as svc, \
            open_agent(svc, settings) as agent:
        return await run_questions(agent, svc.sor, questions, tenant)


def _cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "SHOPKEEPER_DATA_DIR": str(data_dir),
               "SHOPKEEPER_WORKER_MODE": "off", "HF_HUB_OFFLINE": "1",
               "TRANSFORMERS_OFFLINE": "1", **env}
    return subprocess.run([sys.executable, "-c", "from app.cli import main; main()", *args],
                          env=environ, capture_output=True, text=True, check=False)


def _has_pages_command() -> bool:
    from app.cli import cli

    names = {c.name for c in cli.registered_commands} | {g.name for g in cli.registered_groups}
    return "pages" in names


async def _ingest(data_dir: Path, catalog: Path | None, tenant: str, embedder: Any) -> int:
    """As ``shopkeeper ingest`` does it: every product into the SoR and the index."""
    from app.wiring import build_embedder, services
    from catalog.importers import DEMO_CATALOG, load_products
    from ingestion.pipeline import ingest_products

    settings = settings_for(data_dir, tenant)
    products = load_products(catalog or DEMO_CATALOG, tenant=tenant).products
    embedder = embedder or build_embedder(settings, bulk=True)
    async with services(settings, embedder=embedder, reembed=True) as svc:
        report = await ingest_products(products, tenant=tenant, sor=svc.sor, writer=svc.writer,
                                       batch_size=settings.EMBED_BATCH)
        svc.index.flush()
    return report.skus


def ingest(data_dir: Path, catalog: Path | None, tenant: str, pages: Path | None,
           embedder: Any = None) -> None:
    """Ingest a catalog (None: the demo), then its store pages once the CLI can load them
    (``shopkeeper pages load``; ``pages`` None: the CLI's default, the demo pages)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(_ingest(data_dir, catalog, tenant, embedder))
    if _has_pages_command():
        env = {"SHOPKEEPER_PAGES_DIR": str(pages)} if pages else {}
        loaded = _cli(data_dir, "pages", "load", "--tenant", tenant, **env)
        if loaded.returncode:
            print(f"note: `shopkeeper pages load` failed: {loaded.stderr[-500:]}",
                  file=sys.stderr)


def is_ingested(data_dir: Path) -> bool:
    return (data_dir / "catalog.db").exists() and (data_dir / "qdrant").exists()


def suite(name: str) -> tuple[list[Q], str, Path | None, Path | None]:
    """(questions, tenant, catalog file or None for the demo, pages folder or None)."""
    if name == "homeware":
        from tests.agents.homeware_questions import HOMEWARE_QUESTIONS

        return HOMEWARE_QUESTIONS, HOMEWARE_TENANT, HOMEWARE_CATALOG, HOMEWARE_PAGES
    from tests.agents.shopper_questions import QUESTIONS

    return QUESTIONS, "demo", None, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--suite", choices=("demo", "homeware"), default="demo")
    parser.add_argument("--class", dest="cls", help="only this class of questions")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--ingest", action="store_true", help="ingest even if not empty")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    questions, tenant, catalog, pages = suite(args.suite)
    if args.cls:
        questions = [q for q in questions if q.cls == args.cls]
    if args.ingest or not is_ingested(args.data_dir):
        print(f"ingesting {catalog or 'the demo catalog'} into {args.data_dir} ...",
              file=sys.stderr)
        ingest(args.data_dir, catalog, tenant, pages)
    report = asyncio.run(run(args.data_dir, questions, tenant))
    print(report.failure_lines())
    print(report.summary())
    if args.json:
        args.json.write_text(json.dumps(report.as_json(), indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
