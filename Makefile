# The two commands of the README: `make up` (Airflow + sandbox + demo channels) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv up test lint bench distributed-test clean

venv: $(STAMP)

# compileall: every Airflow task is a fresh interpreter; without .pyc files (uv writes none, and with
# PYTHONDONTWRITEBYTECODE Python never caches them) each task compiles great_expectations, pandas, ...
# from source again: about 10 s more per gate task.
$(STAMP): requirements.txt pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt -e .
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null
	@touch $(STAMP)

up: venv
	$(BIN)/python scripts/up.py

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# the build's rules (docs/build-rules.md): style, import contracts, types
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo --cache-dir .local/import-linter
	$(BIN)/mypy

# CeleryExecutor with two workers vs LocalExecutor on the local PostgreSQL and Redis (scripts/distributed_test.py)
distributed-test: venv
	$(BIN)/python scripts/distributed_test.py $(DIST_ARGS)

bench: venv
	$(BIN)/python bench/run_all.py

clean:
	rm -rf .local
