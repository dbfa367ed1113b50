# Quick start: `make demo`, then `make test`. Both create .venv/ on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_LEDGER ?= demo.db

.PHONY: demo test lint typecheck pytest bench bench-quick bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "rectflow needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[postgres,test,dev,bench]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rectflow --ledger $(DEMO_LEDGER) demo --fresh
	$(BIN)/rectflow --ledger $(DEMO_LEDGER) verify

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks typing_tests
	$(BIN)/ruff format --check src tests benchmarks typing_tests

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --strict typing_tests

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest bench-smoke

# Benchmarks (issue 10): results in benchmarks/results/latest.json, tables regenerated
# in docs/performance.md and README.md. bench-smoke only checks the harness runs (N = 10^3,
# no timing judged, nothing regenerated).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick

bench-smoke: $(STAMP)
	$(BIN)/python benchmarks/run.py --smoke --skip-agenda --out $(or $(TMPDIR),/tmp)/rectflow-bench-smoke.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis $(DEMO_LEDGER) $(DEMO_LEDGER)-wal $(DEMO_LEDGER)-shm
