# The two commands of the README, plus the targets CI and operators use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The server alone (make run), and the server with the test and benchmark tools.
RUN_STAMP := $(VENV)/.run-stamp
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres lint fmt mutations bench bench-quick bench-leak soak clean

$(RUN_STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(PY) -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Development server on the embedded default (SQLite, local-memory cache).
run: $(RUN_STAMP)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py bootstrap
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite on whatever DATABASE_URL / REDIS_URL say (default: SQLite, local memory).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL + Redis, as CI runs it: local services started if stopped,
# a database of its own, dropped after (scripts/test-postgres).
test-postgres: $(STAMP)
	bash scripts/test-postgres

# Each verifier check removed in turn must make its tests fail.
mutations: $(STAMP)
	$(PY) scripts/verifier-mutations

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Token endpoint benchmark (bench/README.md): gunicorn + wrk on SQLite and PostgreSQL + Redis.
bench: $(STAMP)
	$(PY) -m bench.run $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(PY) -m bench.run --quick $(BENCH_ARGS)

bench-leak: $(STAMP)
	$(PY) -m bench.run --leak $(BENCH_ARGS)

# Five minutes at 70% of the measured maximum (bench/RESULTS.md, or --target N) on
# PostgreSQL + Redis, load from wrk with pre-signed assertions, purge_jtis every 30 s;
# figures to bench/SOAK.md (bench/soak.py). Not part of `make test`.
soak: $(STAMP)
	$(PY) -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis test-artifacts
