# Two commands on a fresh machine: `make run` (ingest the demo catalog, serve the chat) and
# `make test` (everything CI runs). Both create .venv and install on first use.
VENV    ?= .venv
PY      := $(VENV)/bin/python
SK      := $(VENV)/bin/shopkeeper
HOST    ?= 127.0.0.1
PORT    ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run ingest serve test test-fast lint bench eval clean

# torch is installed first and pinned: a bare `torch` requirement pulls a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

ingest: install
	$(SK) ingest

serve: install
	$(SK) serve --host $(HOST) --port $(PORT)

run: ingest serve

test: install
	scripts/test

test-fast: install
	$(PY) -m pytest -q -m "not slow and not browser and not postgres and not redis"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy app agents ingestion search catalog

bench: install
	scripts/bench

eval: install
	$(SK) eval --catalog ../shared/data/icecat --judgments ../shared/data/judgments_dev.csv --mode all --json

clean:
	rm -rf .shopkeeper .pytest_cache .mypy_cache .ruff_cache
