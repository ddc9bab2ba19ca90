"""Embedded Qdrant Edge backend: in-process, no server, one process per data dir."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from catalog import IndexUnavailable
from search.fusion import rrf
from search.index.base import (
    DENSE,
    SPARSE,
    Direction,
    Hit,
    IndexedState,
    IndexPoint,
    SearchFilter,
    SparseVector,
    check_order,
)
from search.index.conditions import (
    LOOKUP_LIMIT,
    SCROLL_PAGE,
    STATE_FIELDS,
    Cond,
    check_payload_patch,
    check_point,
    filter_conditions,
    hashable,
    ids_for,
    lookup_conditions,
    lookup_filter,
    order_lookup,
    to_hit,
    to_state,
)
from search.payload import PAYLOAD_INDEXES, point_id

_SETTING = "SHOPKEEPER_DATA_DIR"
_CONFIG_FILE = "edge_config.json"
# Ours, beside the engine's files: which embedder the vectors come from (``check_embedder``).
META_FILE = "shopkeeper_index.json"

_SCHEMAS: dict[str, qe.PayloadSchemaType | qe.PayloadSchemaParams] = {
    "tenant": qe.KeywordIndexParams(is_tenant=True),
    "keyword": qe.PayloadSchemaType.Keyword,
    "float": qe.PayloadSchemaType.Float,
    "integer": qe.PayloadSchemaType.Integer,
}
_STATE_PAYLOAD = qe.PayloadSelector.Include(STATE_FIELDS)


def _edge_config(dense_size: int) -> qe.EdgeConfig:
    """Named dense (cosine) + BM25 sparse with IDF; HNSW is only built by ``optimize()``."""
    return qe.EdgeConfig(
        vectors={DENSE: qe.EdgeVectorParams(size=dense_size, distance=qe.Distance.Cosine)},
        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
    )


def _cond(c: Cond) -> qe.FieldCondition:
    if c.kind == "value":
        return qe.FieldCondition(c.key, match=qe.MatchValue(c.value))
    if c.kind == "any":
        return qe.FieldCondition(c.key, match=qe.MatchAny(list(c.value)))
    gte, lte = c.value
    return qe.FieldCondition(c.key, range=qe.RangeFloat(gte=gte, lte=lte))


def _tenant_filter(tenant: str) -> qe.Filter:
    return qe.Filter(must=[qe.FieldCondition("tenant", match=qe.MatchValue(tenant))])


def _filter(flt: SearchFilter) -> qe.Filter:
    """Agents repeat filters (tenant, stock, budget), so built ones are reused by value."""
    return _cached_filter(hashable(flt))


@lru_cache(maxsize=1024)
def _cached_filter(flt: SearchFilter) -> qe.Filter:
    return _build_filter(flt)


def _build_filter(flt: SearchFilter) -> qe.Filter:
    must, must_not = filter_conditions(flt)
    return qe.Filter(must=[_cond(c) for c in must], must_not=[_cond(c) for c in must_not] or None)


def _sparse(v: SparseVector) -> qe.SparseVector:
    return qe.SparseVector(list(v.indices), list(v.values))


def _unavailable(path: Path, err: Exception) -> IndexUnavailable:
    """One line: a WAL lock means another process owns the dir, anything else is damage."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if "WouldBlock" in text or "locked" in text.lower():
        msg = f"embedded index at {path} is in use by another process (one process per data dir)"
    else:
        msg = f"embedded index at {path} cannot be opened: {text}"
    return IndexUnavailable(msg, setting=_SETTING)


def recorded_embedder(path: str | Path) -> str | None:
    """The embedder an embedded index at ``path`` records; readable while another process
    owns the index (``shopkeeper status`` beside a running server)."""
    try:
        value = json.loads((Path(path) / META_FILE).read_text()).get("embedder")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else None


class EdgeIndex:
    """VectorIndex on an in-process ``qdrant_edge.EdgeShard``; opens an existing shard at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._shard: qe.EdgeShard | None = None
        if (self.path / _CONFIG_FILE).exists():
            self._shard = self._open(lambda: qe.EdgeShard.load(str(self.path)))

    def _open(self, make: Any) -> qe.EdgeShard:
        try:
            shard: qe.EdgeShard = make()
        except Exception as err:  # the bindings raise bare Exception for every failure
            raise _unavailable(self.path, err) from err
        return shard

    @property
    def shard(self) -> qe.EdgeShard:
        """The open shard, or a clear error when nothing was ingested here yet."""
        if self._shard is None:
            raise IndexUnavailable(
                f"no embedded index at {self.path} yet; ingest a catalog first", setting=_SETTING
            )
        return self._shard

    # -- schema --------------------------------------------------------------------------

    def ensure_collection(self, dense_size: int) -> None:
        """Create (or check and load) the shard, then any missing payload index before bulk load."""
        config = _edge_config(dense_size)
        if self._shard is not None:
            self._check_size(dense_size)
        else:
            if (self.path / _CONFIG_FILE).exists():
                self._shard = self._open(lambda: qe.EdgeShard.load(str(self.path), config))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._shard = self._open(lambda: qe.EdgeShard.create(str(self.path), config))
        existing = self._shard.info().payload_schema
        for field_name, kind in PAYLOAD_INDEXES.items():
            if field_name not in existing:
                op = qe.UpdateOperation.create_field_index(field_name, _SCHEMAS[kind])
                self._shard.update(op)

    def _check_size(self, dense_size: int) -> None:
        """A different embedding size means a different model: refuse rather than mix spaces."""
        try:
            saved = json.loads((self.path / _CONFIG_FILE).read_text())
            size = int(saved["vectors"][DENSE]["size"])
        except (OSError, ValueError, KeyError, TypeError):
            return  # the engine validated the config when it loaded the shard
        if size != dense_size:
            raise IndexUnavailable(
                f"embedded index at {self.path} holds {size}-d vectors, not {dense_size}-d;"
                " re-ingest into a fresh data dir",
                setting=_SETTING,
            )

    # -- writes ----------------------------------------------------------------------------

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        """One update operation per batch: one WAL record, far cheaper than per-point writes."""
        if not points:
            return
        out = []
        for p in points:
            check_point(p.id, p.payload)
            vector: dict[str, Any] = {DENSE: list(p.dense), SPARSE: _sparse(p.sparse)}
            out.append(qe.Point(p.id, vector, p.payload))
        self.shard.update(qe.UpdateOperation.upsert_points(out))

    def set_payload(self, tenant: str, sku: str, payload: dict[str, Any]) -> None:
        """By id filter, so an unknown SKU is a no-op instead of an error or a new point."""
        check_payload_patch(tenant, sku, payload)
        if not payload:
            return
        only = qe.Filter(must=[qe.HasIdCondition({point_id(tenant, sku)})])
        self.shard.update(qe.UpdateOperation.set_payload_by_filter(only, payload))

    def delete(self, tenant: str, skus: Sequence[str]) -> None:
        if skus:
            self.shard.update(qe.UpdateOperation.delete_points(list(ids_for(tenant, skus))))

    # -- reads -----------------------------------------------------------------------------

    def _nearest(
        self, f: qe.Filter, vector: Sequence[float] | SparseVector, limit: int, *, payload: bool
    ) -> list[Any]:
        query = (
            qe.Query.Nearest(_sparse(vector), using=SPARSE)
            if isinstance(vector, SparseVector)
            else qe.Query.Nearest(list(vector), using=DENSE)
        )
        request = qe.QueryRequest(limit=limit, query=query, filter=f, with_payload=payload)
        return list(self.shard.query(request))

    def query(
        self,
        flt: SearchFilter,
        *,
        dense: Sequence[float] | None = None,
        sparse: SparseVector | None = None,
        limit: int = 10,
        prefetch_limit: int = 100,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[Hit]:
        """One leg, or both under one filter fused by ``search.fusion``, then the top's payloads."""
        f = _filter(flt)
        if dense is not None and sparse is not None:
            legs = [[str(p.id) for p in self._nearest(f, v, prefetch_limit, payload=False)]
                    for v in (dense, sparse)]
            fused = rrf(legs, weights)[:limit]
            records = self.shard.retrieve([i for i, _ in fused], with_payload=True,
                                          with_vector=False)
            payloads = {str(r.id): r.payload for r in records}
            return [to_hit(score, payloads[i]) for i, score in fused if i in payloads]
        vector = dense if dense is not None else sparse
        if vector is None:
            raise ValueError("query needs a dense vector, a sparse vector, or both")
        return [to_hit(p.score, p.payload) for p in self._nearest(f, vector, limit, payload=True)]

    def ordered(
        self, flt: SearchFilter, *, key: str = "price", direction: Direction = "asc",
        limit: int = 60,
    ) -> list[Hit]:
        """Qdrant Edge's order-by scroll under the filter (the float range index sorts)."""
        check_order(key, direction, limit)
        way = qe.Direction.Asc if direction == "asc" else qe.Direction.Desc
        records, _ = self.shard.scroll(qe.ScrollRequest(
            limit=limit, filter=_filter(flt), with_payload=True, with_vector=False,
            order_by=qe.OrderBy(key, direction=way)))
        return [to_hit(float(r.order_value), r.payload) for r in records
                if r.order_value is not None]

    def lookup(
        self,
        tenant: str,
        *,
        skus: Sequence[str] = (),
        model_numbers: Sequence[str] = (),
        eans: Sequence[str] = (),
        flt: SearchFilter | None = None,
        product_ids: Sequence[str] = (),
    ) -> list[Hit]:
        """Exact payload match under ``flt``'s conditions; score 1.0 because nothing is ranked."""
        should = lookup_conditions(skus, model_numbers, eans, product_ids)
        if not should:
            return []
        must, must_not = lookup_filter(tenant, flt)
        f = qe.Filter(
            must=[_cond(c) for c in must],
            should=[_cond(c) for c in should],
            must_not=[_cond(c) for c in must_not] or None,
        )
        records, _ = self.shard.scroll(
            qe.ScrollRequest(limit=LOOKUP_LIMIT, filter=f, with_payload=True, with_vector=False)
        )
        return order_lookup([to_hit(1.0, r.payload) for r in records], skus)

    def states(self, tenant: str, skus: Sequence[str]) -> dict[str, IndexedState]:
        """By point id: the cheapest read, no filter needed since ids embed the tenant."""
        if not skus:
            return {}
        records = self.shard.retrieve(
            list(ids_for(tenant, skus)), with_payload=_STATE_PAYLOAD, with_vector=False
        )
        out = {}
        for r in records:
            state = to_state(r.payload)
            out[state.sku] = state
        return out

    def iter_states(self, tenant: str) -> Iterator[IndexedState]:
        """Scroll the tenant in pages, only the state fields."""
        f = _tenant_filter(tenant)
        offset: Any = None
        while True:
            records, offset = self.shard.scroll(
                qe.ScrollRequest(
                    offset=offset,
                    limit=SCROLL_PAGE,
                    filter=f,
                    with_payload=_STATE_PAYLOAD,
                    with_vector=False,
                )
            )
            for r in records:
                yield to_state(r.payload)
            if offset is None:
                return

    def count(self, tenant: str) -> int:
        return self.shard.count(qe.CountRequest(exact=True, filter=_tenant_filter(tenant)))

    # -- which vectors it holds ------------------------------------------------------------

    def embedder_id(self) -> str | None:
        return recorded_embedder(self.path)

    def record_embedder(self, model_id: str) -> None:
        """Written whole (temp file + rename), so a crash leaves the old record or the new."""
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f".{META_FILE}.tmp"
        tmp.write_text(json.dumps({"embedder": model_id}))
        tmp.replace(self.path / META_FILE)

    def count_other_embedders(self, model_id: str) -> int:
        if self._shard is None:
            return 0
        other = qe.Filter(must_not=[qe.FieldCondition("embedder", match=qe.MatchValue(model_id))])
        return self._shard.count(qe.CountRequest(exact=True, filter=other))

    # -- lifecycle -------------------------------------------------------------------------

    def flush(self) -> None:
        if self._shard is not None:
            self._shard.flush()

    def optimize(self) -> None:
        """Merge segments and build HNSW (segments above the indexing threshold), blocking."""
        if self._shard is not None:
            self._shard.optimize()

    def close(self) -> None:
        """Flush and release the WAL lock so another process (or a reopen) can load the dir."""
        if self._shard is not None:
            shard, self._shard = self._shard, None
            shard.flush()
            shard.close()

    def __enter__(self) -> EdgeIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
