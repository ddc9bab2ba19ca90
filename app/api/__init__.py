"""The HTTP API: routers (``main.py``), typed dependencies (``deps.py``), schemas and routes."""
