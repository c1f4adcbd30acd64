# OmniDesk — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

# Tests and benchmarks run on PostgreSQL + Redis (override to point elsewhere).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/omnidesk
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# Test processes (pytest-xdist; each has its own test database; the tests running real Celery workers take
# the broker one at a time: the broker_alone fixture of tests/conftest.py).
TEST_WORKERS ?= 2

.PHONY: help install lock demo test lint format bench services browser axe screenshots migrate run clean

help:
	@echo "make demo    set everything up and run OmniDesk on a simulated retailer (prints URL and logins)"
	@echo "make test    the whole test suite on PostgreSQL and Redis"
	@echo "make lint    ruff check + format check"
	@echo "make bench   benchmarks (sync, 1M-order lookup, 50-agent load); figures in .bench/latest.json"
	@echo "make screenshots  re-take docs/screenshots/ from the browser tests"
	@echo "make lock    re-lock requirements*.txt after a dependency change (LOCK_ARGS=--upgrade: newest allowed)"

# Installs are reproducible: every package at the version and hashes locked in requirements-dev.txt
# (requirements.txt: the runtime alone, for a production image), then the project itself without deps.
$(STAMP): pyproject.toml requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# Re-lock after changing pyproject.toml's dependencies; `make lock LOCK_ARGS=--upgrade` moves every
# package to its newest release allowed (LOCK_ARGS="--upgrade-package django" just one). Commit both files.
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv
	$(LOCK) $(LOCK_ARGS) -o requirements.txt
	$(LOCK) $(LOCK_ARGS) --extra dev -o requirements-dev.txt

# With DATABASE_URL / REDIS_URL unset: SQLite and in-process tasks. Set them to use PostgreSQL / Redis.
# `make demo PORT=8080` serves on another port.
demo: $(STAMP)
	OMNIDESK_ALLOW_PRIVATE_SOURCES=true $(PY) manage.py demo $(if $(PORT),--port $(PORT))

services:
	@bash .ci/services.sh

browser:
	@bash .ci/browser.sh

axe:
	@bash .ci/axe.sh

# DATABASE_REPLICA_URL is cleared: the suite runs on one database (tests/test_replica_router.py makes its own replica).
test: $(STAMP) services browser axe
	DATABASE_URL=$(TEST_DATABASE_URL) DATABASE_REPLICA_URL= REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Re-take the pictures in docs/screenshots/ from the browser tests (look at them before committing).
screenshots: $(STAMP) services browser axe
	OMNIDESK_SCREENSHOTS=$(CURDIR)/docs/screenshots DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest -q tests/browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) services
	OMNIDESK_ALLOW_PRIVATE_SOURCES=true DEBUG=false LOG_LEVEL=WARNING DATABASE_URL=$(TEST_DATABASE_URL)_bench REDIS_URL=$(TEST_REDIS_URL) $(PY) -m tests.bench $(BENCH_ARGS)

migrate: $(STAMP)
	$(PY) manage.py migrate

run: $(STAMP)
	$(PY) manage.py runserver

clean:
	rm -rf $(VENV) .bench .demo staticfiles db.sqlite3* node_modules
