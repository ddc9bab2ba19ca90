"""Shopkeeper's HTTP app, settings, CLI and wiring."""
