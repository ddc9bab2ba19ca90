"""Catalog domain shared by ingestion, agents and the HTTP app: models, errors, the SoR."""
