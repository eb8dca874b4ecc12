# The two commands of the README: `make up` (Airflow + sandbox + demo channels) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv up test lint bench distributed-test clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt -e .
	@touch $(STAMP)

up: venv
	$(BIN)/python scripts/up.py

test: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# CeleryExecutor with two workers vs LocalExecutor on the local PostgreSQL and Redis (scripts/distributed_test.py)
distributed-test: venv
	$(BIN)/python scripts/distributed_test.py $(DIST_ARGS)

bench: venv
	$(BIN)/python bench/run_all.py

clean:
	rm -rf .local
