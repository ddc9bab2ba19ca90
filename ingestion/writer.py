"""The index writer: turns chunks into points, embedding only what changed.

Shared by bulk ingest and the change worker, so both decide "re-embed, payload-only or skip"
the same way: by the content hash of the embedded text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ingestion.chunker import Chunk
from search import Bm25Encoder, Embedder, IndexedState, IndexPoint, VectorIndex

# Payload keys that change without the text changing: refreshed by a payload-only update
# (a new product page or picture is an SoR upsert whose text, and so embedding, is unchanged).
VOLATILE_PAYLOAD = ("price", "currency", "in_stock", "version", "image_url", "url")


@dataclass
class WriteResult:
    embedded: int = 0
    payload_only: int = 0
    unchanged: int = 0
    skus_embedded: list[str] = field(default_factory=list)

    def __iadd__(self, other: WriteResult) -> WriteResult:
        self.embedded += other.embedded
        self.payload_only += other.payload_only
        self.unchanged += other.unchanged
        self.skus_embedded.extend(other.skus_embedded)
        return self


class IndexWriter:
    """Write chunks to the index; embedding is the costly step, so it is skipped when possible."""

    def __init__(self, index: VectorIndex, embedder: Embedder, bm25: Bm25Encoder) -> None:
        self.index = index
        self.embedder = embedder
        self.bm25 = bm25

    def plan(
        self, chunks: Sequence[Chunk], states: Mapping[str, IndexedState]
    ) -> tuple[list[Chunk], list[Chunk], int]:
        """Split into (to embed, payload-only, unchanged count)."""
        to_embed: list[Chunk] = []
        payload_only: list[Chunk] = []
        unchanged = 0
        for chunk in chunks:
            state = states.get(chunk.sku)
            if state is None or state.content_hash != chunk.content_hash:
                to_embed.append(chunk)
            elif (
                state.price != chunk.payload["price"]
                or state.in_stock != chunk.payload["in_stock"]
                or state.version != chunk.payload["version"]
            ):
                payload_only.append(chunk)
            else:
                unchanged += 1
        return to_embed, payload_only, unchanged

    def embed(self, chunks: Sequence[Chunk]) -> list[IndexPoint]:
        """Both vectors of each chunk; every point names the embedder of its dense vector, so
        the index can tell whether it holds one vector space (``search.check_embedder``)."""
        texts = [c.text for c in chunks]
        dense = self.embedder.embed_documents(texts)
        sparse = self.bm25.embed_documents(texts)
        model_id = self.embedder.model_id
        return [
            IndexPoint(id=c.point_id, dense=dense[i].tolist(), sparse=sparse[i],
                       payload={**c.payload, "embedder": model_id})
            for i, c in enumerate(chunks)
        ]

    def apply(self, points: Sequence[IndexPoint], payload_only: Sequence[Chunk]) -> None:
        """Store embedded points and payload-only patches; apart from ``embed`` so the change
        worker can embed in a thread and write on the event loop."""
        if points:
            self.index.upsert(points)
        for chunk in payload_only:
            self.index.set_payload(
                chunk.tenant, chunk.sku, {k: chunk.payload[k] for k in VOLATILE_PAYLOAD}
            )

    def write(self, chunks: Sequence[Chunk], states: Mapping[str, IndexedState]) -> WriteResult:
        """Apply ``chunks`` (the current truth) against what the index holds (``states``)."""
        to_embed, payload_only, unchanged = self.plan(chunks, states)
        self.apply(self.embed(to_embed) if to_embed else [], payload_only)
        return WriteResult(
            embedded=len(to_embed),
            payload_only=len(payload_only),
            unchanged=unchanged,
            skus_embedded=[c.sku for c in to_embed],
        )
