# Quick start: `make demo`, then `make test`. Both create .venv/ on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_LEDGER ?= demo.db
# The documentation's Python (its Markdown examples run as tests instead of being linted).
DOCS_PY := docs/conf.py docs/conftest.py docs/_ext

.PHONY: demo test lint typecheck pytest docs bench bench-quick bench-smoke clean screenshot fuzz mutation mutation-security

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "rectflow needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[postgres,xlsx,cli,charts,graphviz,test,dev,docs,bench,web,mutation]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rectflow --ledger $(DEMO_LEDGER) demo --fresh
	$(BIN)/rectflow --ledger $(DEMO_LEDGER) verify

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks typing_tests scripts/screenshot-report scripts/hand-mutants scripts/workflow-mutants examples $(DOCS_PY)
	$(BIN)/ruff format --check src tests benchmarks typing_tests scripts/screenshot-report scripts/hand-mutants scripts/workflow-mutants examples $(DOCS_PY)

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --strict typing_tests
	$(BIN)/mypy --strict examples/service/app.py

pytest: $(STAMP)
	$(BIN)/pytest

# The documentation site, warnings as errors; its code blocks run in `pytest` (docs/conftest.py).
docs: $(STAMP)
	$(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html

test: lint typecheck pytest docs bench-smoke

# The demo report in headless Chromium (Debian: apt-get install chromium fonts-noto-cjk).
screenshot: $(STAMP)
	$(BIN)/python scripts/screenshot-report -o report.png

# Benchmarks (issue 10): results in benchmarks/results/latest.json, tables regenerated
# in docs/performance.md and README.md. bench-smoke only checks the harness runs (N = 10^3,
# no timing judged, nothing regenerated).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick

bench-smoke: $(STAMP)
	$(BIN)/python benchmarks/run.py --smoke --skip-agenda --out $(or $(TMPDIR),/tmp)/rectflow-bench-smoke.json

# The file readers fuzzed (issue 17): 20,000 generated CSV, XLSX, damaged-zip and YAML files,
# each imported; any untyped error, hang (> 10 s) or changed ledger fails. Not part of `test`
# (tests/test_io_fuzz.py runs a seeded 500 there). FUZZ_ARGS: e.g. --seed 1 --jobs 1.
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz_support.py --keep $(or $(TMPDIR),/tmp)/rectflow-fuzz-failures $(FUZZ_ARGS)

# Mutation of the workflow (issue 15, docs/testing.md): each guard deleted and each effect left
# out in turn, the default rectflow.testing machine run against each mutant at hypothesis'
# default settings; prints the table, fails below 95 % caught. Minutes, not in `make test`.
# MUTATION_ARGS: e.g. --jobs 1, --only extend.
mutation: $(STAMP)
	$(BIN)/python scripts/workflow-mutants $(MUTATION_ARGS)

# Mutation testing of the security checks (issue 17, docs/testing.md); minutes, not in `make test`.
# First the hand-made mutations of issue 17, each against the tests that must kill it; then
# mutmut over the modules in pyproject.toml's [tool.mutmut] (results cached in mutants/; delete
# it for a fresh run). mypy (its type filter) is looked up on PATH.
mutation-security: $(STAMP)
	$(BIN)/python scripts/hand-mutants --pytest $(BIN)/pytest
	PATH="$(abspath $(BIN)):$$PATH" RECTFLOW_HYPOTHESIS_PROFILE=dev $(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean:
	rm -rf mutants report.png $(VENV) docs/_build .pytest_cache .mypy_cache .ruff_cache .hypothesis $(DEMO_LEDGER) $(DEMO_LEDGER)-wal $(DEMO_LEDGER)-shm
