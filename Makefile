# Two commands do all set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := .make

.PHONY: run reset-demo bench test lint typecheck schema-check migration-check pytest web chromium node-clients venv deps test-deps clean

$(STAMP):
	mkdir -p $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes.
$(STAMP)/deps: pyproject.toml | $(BIN)/python $(STAMP)
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP)/test-deps: pyproject.toml $(STAMP)/deps
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(STAMP)/bench-deps: pyproject.toml $(STAMP)/deps
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

venv: $(BIN)/python
deps: $(STAMP)/deps
test-deps: $(STAMP)/test-deps

web:
	bash scripts/build-web.sh

# The Node graphql-ws client the live tests run (tests/node), exactly as locked.
NODE_CLIENTS := tests/node/node_modules/.package-lock.json
$(NODE_CLIENTS): tests/node/package.json tests/node/package-lock.json
	npm ci --prefix tests/node --no-audit --no-fund
node-clients: $(NODE_CLIENTS)

chromium:
	bash scripts/ensure-chromium.sh

## make run: install everything and serve the demo on http://127.0.0.1:8000 (embedded PostgreSQL)
run: deps web
	$(BIN)/portal serve --demo

## make reset-demo: start over (drop everything, migrate, load the demo data again)
reset-demo: deps
	$(BIN)/portal reset-demo --yes

## make bench: install what the benchmarks need (the `bench` extra, wrk with apt-get when
## missing and allowed, and PostGraphile v5 with its Node 22 from the npm registry as
## bench/postgraphile/package-lock.json pins them) and run them; they print figures and never
## fail on time (without wrk or PostGraphile they say so and go on). They need a
## PostgreSQL to make scratch databases on: PORTAL_BENCH_DATABASE_URL, default 127.0.0.1:5432.
## BENCH_ARGS passes options to the side-by-side run, e.g. make bench BENCH_ARGS="--scale 1000000".
BENCH_DB_URL ?= $(or $(PORTAL_BENCH_DATABASE_URL),postgresql://postgres@127.0.0.1:5432/postgres)
BENCH_ARGS ?=
bench: $(STAMP)/bench-deps
	bash scripts/ensure-wrk.sh
	bash scripts/ensure-postgraphile.sh
	PORTAL_BENCH_DATABASE_URL=$(BENCH_DB_URL) $(BIN)/python -m bench.side_by_side $(BENCH_ARGS)
	PORTAL_TEST_DATABASE_URL=$(BENCH_DB_URL) $(BIN)/python -m bench.document_search --runs 10

lint: test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: test-deps
	$(BIN)/mypy

schema-check: test-deps
	$(BIN)/portal export-schema --check

# Use the machine's PostgreSQL when it answers; otherwise the tests start an embedded one.
TEST_DB_URL := $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo postgresql://postgres@127.0.0.1:5432/postgres)
export PORTAL_TEST_DATABASE_URL ?= $(TEST_DB_URL)

migration-check: test-deps
	$(BIN)/pytest -m migrations -q

pytest: test-deps web chromium node-clients
	$(BIN)/pytest -m "not migrations"

## make test: install test dependencies and run every check
test: lint typecheck schema-check migration-check pytest

clean:
	rm -rf $(VENV) $(STAMP) src/portal/web/node_modules src/portal/web/dist tests/node/node_modules \
		bench/postgraphile/node_modules
