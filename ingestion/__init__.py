"""Ingestion: sources, the atomic chunker, the embedder, the index writer and the change worker."""
