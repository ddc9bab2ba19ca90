# Two commands on a fresh machine: `make run` (ingest the demo catalog, serve the chat) and
# `make test` (everything CI runs). Both create .venv and install on first use.
VENV    ?= .venv
PY      := $(VENV)/bin/python
SK      := $(VENV)/bin/shopkeeper
HOST    ?= 127.0.0.1
PORT    ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install lock run ingest serve test test-fast lint bench eval clean

# torch is installed first and pinned (requirements-torch.txt): a bare `torch` requirement pulls
# a multi-GB CUDA build. Everything else installs at the versions requirements.lock pins.
$(VENV)/.installed: pyproject.toml requirements.lock requirements-torch.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -c requirements.lock --upgrade pip
	$(PY) -m pip install -q -r requirements-torch.txt
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Re-resolve requirements.lock from pyproject.toml (needs the package index); commit the result.
lock:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -c requirements.lock pip-tools
	$(PY) scripts/lock.py compile

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
	scripts/check-layout

bench: install
	scripts/bench

eval: install
	$(SK) eval --catalog ../shared/data/icecat --judgments ../shared/data/judgments_dev.csv --mode all --json

clean:
	rm -rf .shopkeeper .pytest_cache .mypy_cache .ruff_cache
