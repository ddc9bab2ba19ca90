"""qdrant-client backend: a Qdrant server or cluster by URL, or ``:memory:`` local mode (tests)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import httpx
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

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

_SETTING = "SHOPKEEPER_QDRANT_URL"

_SCHEMAS: dict[str, models.PayloadSchemaType | models.KeywordIndexParams] = {
    "tenant": models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True),
    "keyword": models.PayloadSchemaType.KEYWORD,
    "float": models.PayloadSchemaType.FLOAT,
    "integer": models.PayloadSchemaType.INTEGER,
}
# Bulk load without a global graph (m=0); optimize() switches HNSW on once the data is in.
_LOAD_HNSW = models.HnswConfigDiff(m=0)
_SERVE_HNSW = models.HnswConfigDiff(m=16, ef_construct=100)


def _cond(c: Cond) -> models.FieldCondition:
    if c.kind == "value":
        return models.FieldCondition(key=c.key, match=models.MatchValue(value=c.value))
    if c.kind == "any":
        return models.FieldCondition(key=c.key, match=models.MatchAny(any=list(c.value)))
    gte, lte = c.value
    return models.FieldCondition(key=c.key, range=models.Range(gte=gte, lte=lte))


def _tenant_cond(tenant: str) -> models.FieldCondition:
    return models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant))


def _filter(flt: SearchFilter) -> models.Filter:
    """Agents repeat filters (tenant, stock, budget), so built ones are reused by value."""
    return _cached_filter(hashable(flt))


@lru_cache(maxsize=1024)
def _cached_filter(flt: SearchFilter) -> models.Filter:
    return _build_filter(flt)


def _build_filter(flt: SearchFilter) -> models.Filter:
    must, must_not = filter_conditions(flt)
    return models.Filter(
        must=[_cond(c) for c in must], must_not=[_cond(c) for c in must_not] or None
    )


def _sparse(v: SparseVector) -> models.SparseVector:
    return models.SparseVector(indices=list(v.indices), values=list(v.values))


class QdrantClientIndex:
    """VectorIndex over qdrant-client; the same payload, filters and RRF as the edge backend."""

    def __init__(self, url: str, *, collection: str, api_key: str | None = None) -> None:
        self.url = url
        self.collection = collection
        self.local = url == ":memory:"
        if self.local:
            # qdrant-client local mode: pure Python, for API-level tests only.
            self.client = QdrantClient(location=":memory:")
        else:
            # No version probe in the constructor: failures surface on first use, as one line.
            self.client = QdrantClient(url=url, api_key=api_key, check_compatibility=False)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Translate transport and auth failures into one-line IndexUnavailable errors."""
        try:
            yield
        except (ResponseHandlingException, httpx.TransportError, ConnectionError) as err:
            raise IndexUnavailable(
                f"Qdrant at {self.url} is unreachable: {_first_line(err)}", setting=_SETTING
            ) from err
        except UnexpectedResponse as err:
            if err.status_code in (401, 403):
                raise IndexUnavailable(
                    f"Qdrant at {self.url} rejected the API key",
                    setting="SHOPKEEPER_QDRANT_API_KEY",
                ) from err
            if err.status_code == 404:
                raise self._missing() from err
            if err.status_code is not None and err.status_code >= 500:
                raise IndexUnavailable(
                    f"Qdrant at {self.url} failed: HTTP {err.status_code}", setting=_SETTING
                ) from err
            raise
        except ValueError as err:
            # local mode reports a missing collection as ValueError("Collection x not found")
            if self.local and "not found" in str(err):
                raise self._missing() from err
            raise

    def _missing(self) -> IndexUnavailable:
        return IndexUnavailable(
            f"collection {self.collection!r} does not exist at {self.url}; ingest a catalog first",
            setting=_SETTING,
        )

    # -- schema --------------------------------------------------------------------------

    def ensure_collection(self, dense_size: int) -> None:
        """Create the collection (HNSW off for bulk load) and every missing payload index."""
        with self._guard():
            if not self.client.collection_exists(self.collection):
                self.client.create_collection(
                    self.collection,
                    vectors_config={
                        DENSE: models.VectorParams(size=dense_size, distance=models.Distance.COSINE)
                    },
                    sparse_vectors_config={
                        SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                    },
                    hnsw_config=_LOAD_HNSW,
                )
                existing: set[str] = set()
            else:
                info = self.client.get_collection(self.collection)
                size = _dense_size(info)
                if size is not None and size != dense_size:
                    raise IndexUnavailable(
                        f"collection {self.collection!r} has {size}-d vectors, not {dense_size}",
                        setting="SHOPKEEPER_COLLECTION",
                    )
                existing = set(info.payload_schema)
            with warnings.catch_warnings():
                # local mode warns that payload indexes are no-ops there; we know.
                warnings.simplefilter("ignore", UserWarning)
                for field_name, kind in PAYLOAD_INDEXES.items():
                    if field_name not in existing:
                        self.client.create_payload_index(
                            self.collection, field_name, field_schema=_SCHEMAS[kind], wait=True
                        )

    # -- writes ----------------------------------------------------------------------------

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        """wait=True so a write is visible (and acknowledged) before the caller commits offsets."""
        if not points:
            return
        out = []
        for p in points:
            check_point(p.id, p.payload)
            vector: dict[str, Any] = {DENSE: list(p.dense), SPARSE: _sparse(p.sparse)}
            out.append(models.PointStruct(id=p.id, vector=vector, payload=p.payload))
        with self._guard():
            self.client.upsert(self.collection, out, wait=True)

    def set_payload(self, tenant: str, sku: str, payload: dict[str, Any]) -> None:
        """By id filter, so an unknown SKU is a no-op instead of a 404 or a new point."""
        check_payload_patch(tenant, sku, payload)
        if not payload:
            return
        only = models.Filter(must=[models.HasIdCondition(has_id=[point_id(tenant, sku)])])
        with self._guard():
            self.client.set_payload(self.collection, payload, points=only, wait=True)

    def delete(self, tenant: str, skus: Sequence[str]) -> None:
        if not skus:
            return
        with self._guard():
            self.client.delete(
                self.collection,
                points_selector=models.PointIdsList(points=list(ids_for(tenant, skus))),
                wait=True,
            )

    # -- reads -----------------------------------------------------------------------------

    def _request(
        self, f: models.Filter, vector: Sequence[float] | SparseVector, limit: int, *,
        payload: bool,
    ) -> models.QueryRequest:
        if isinstance(vector, SparseVector):
            return models.QueryRequest(query=_sparse(vector), using=SPARSE, filter=f,
                                       limit=limit, with_payload=payload)
        return models.QueryRequest(query=list(vector), using=DENSE, filter=f, limit=limit,
                                   with_payload=payload)

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
        """One leg, or both in one batch request fused by ``search.fusion`` (then the top's
        payloads in a second request, so a leg never ships a hundred payloads)."""
        f = _filter(flt)
        if dense is not None and sparse is not None:
            with self._guard():
                batch = self.client.query_batch_points(self.collection, requests=[
                    self._request(f, dense, prefetch_limit, payload=False),
                    self._request(f, sparse, prefetch_limit, payload=False),
                ])
                fused = rrf([[str(p.id) for p in r.points] for r in batch], weights)[:limit]
                records = self.client.retrieve(
                    self.collection, ids=[i for i, _ in fused], with_payload=True,
                    with_vectors=False,
                ) if fused else []
            payloads = {str(r.id): r.payload for r in records}
            return [to_hit(score, payloads[i]) for i, score in fused if i in payloads]
        vector = dense if dense is not None else sparse
        if vector is None:
            raise ValueError("query needs a dense vector, a sparse vector, or both")
        request = self._request(f, vector, limit, payload=True)
        with self._guard():
            res = self.client.query_points(
                self.collection, query=request.query, using=request.using, query_filter=f,
                limit=limit, with_payload=True,
            )
        return [to_hit(p.score, p.payload) for p in res.points]

    def ordered(
        self, flt: SearchFilter, *, key: str = "price", direction: Direction = "asc",
        limit: int = 60,
    ) -> list[Hit]:
        """A scroll with ``order_by`` under the filter (needs the float range index)."""
        check_order(key, direction, limit)
        way = models.Direction.ASC if direction == "asc" else models.Direction.DESC
        with self._guard():
            records, _ = self.client.scroll(
                self.collection, scroll_filter=_filter(flt), limit=limit, with_payload=True,
                with_vectors=False, order_by=models.OrderBy(key=key, direction=way),
            )
        values = [(r.order_value, r) for r in records]
        return [to_hit(float(v), r.payload) for v, r in values if v is not None]

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
        f = models.Filter(
            must=[_cond(c) for c in must],
            should=[_cond(c) for c in should],
            must_not=[_cond(c) for c in must_not] or None,
        )
        with self._guard():
            records, _ = self.client.scroll(
                self.collection,
                scroll_filter=f,
                limit=LOOKUP_LIMIT,
                with_payload=True,
                with_vectors=False,
            )
        return order_lookup([to_hit(1.0, r.payload) for r in records], skus)

    def states(self, tenant: str, skus: Sequence[str]) -> dict[str, IndexedState]:
        """By point id: the cheapest read, no filter needed since ids embed the tenant."""
        if not skus:
            return {}
        with self._guard():
            records = self.client.retrieve(
                self.collection,
                ids=list(ids_for(tenant, skus)),
                with_payload=STATE_FIELDS,
                with_vectors=False,
            )
        out = {}
        for r in records:
            state = to_state(r.payload)
            out[state.sku] = state
        return out

    def iter_states(self, tenant: str) -> Iterator[IndexedState]:
        """Scroll the tenant in pages, only the state fields."""
        f = models.Filter(must=[_tenant_cond(tenant)])
        offset: Any = None
        while True:
            with self._guard():
                records, offset = self.client.scroll(
                    self.collection,
                    scroll_filter=f,
                    limit=SCROLL_PAGE,
                    offset=offset,
                    with_payload=STATE_FIELDS,
                    with_vectors=False,
                )
            for r in records:
                yield to_state(r.payload)
            if offset is None:
                return

    def count(self, tenant: str) -> int:
        with self._guard():
            return self.client.count(
                self.collection, count_filter=models.Filter(must=[_tenant_cond(tenant)]), exact=True
            ).count

    # -- which vectors it holds ------------------------------------------------------------

    def embedder_id(self) -> str | None:
        """From the collection's metadata (Qdrant >= 1.16 stores arbitrary JSON there)."""
        with self._guard():
            metadata = self.client.get_collection(self.collection).config.metadata or {}
        value = metadata.get("embedder")
        return str(value) if value else None

    def record_embedder(self, model_id: str) -> None:
        with self._guard():
            self.client.update_collection(self.collection, metadata={"embedder": model_id})

    def count_other_embedders(self, model_id: str) -> int:
        other = models.Filter(must_not=[
            models.FieldCondition(key="embedder", match=models.MatchValue(value=model_id))])
        with self._guard():
            return self.client.count(self.collection, count_filter=other, exact=True).count

    # -- lifecycle -------------------------------------------------------------------------

    def flush(self) -> None:
        """Writes already wait for the server's WAL (wait=True); nothing is buffered here."""

    def optimize(self) -> None:
        """Switch HNSW on after bulk load; the server builds it in the background."""
        with self._guard():
            self.client.update_collection(self.collection, hnsw_config=_SERVE_HNSW)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> QdrantClientIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dense_size(info: models.CollectionInfo) -> int | None:
    vectors = info.config.params.vectors
    if isinstance(vectors, dict) and DENSE in vectors:
        return vectors[DENSE].size
    return None


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
