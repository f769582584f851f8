# One Makefile: `make run` serves on SQLite, `make test` runs the suite. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FHIRJS := tests/fhirjs/node_modules/fhir/package.json
# NHS England's MESH sandbox for the tests: its own environment, as it pins its own FastAPI.
MESH_VENV := .venv-mesh
MESH_STAMP := $(MESH_VENV)/.installed
MESH_SANDBOX := mesh-sandbox>=1.0.137,<2
OIDC := tests/oidc/node_modules/oidc-provider/package.json
POSTGRES_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: setup browsers run test test-postgres lint format bench screenshots clean

setup: $(STAMP) $(FHIRJS) $(MESH_STAMP) $(OIDC)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(MESH_STAMP): Makefile
	test -x $(MESH_VENV)/bin/python || $(PYTHON) -m venv $(MESH_VENV)
	$(MESH_VENV)/bin/pip install --quiet "$(MESH_SANDBOX)"
	touch $(MESH_STAMP)

$(FHIRJS): tests/fhirjs/package.json tests/fhirjs/package-lock.json
	npm ci --prefix tests/fhirjs --no-audit --no-fund --loglevel=error
	touch $(FHIRJS)

$(OIDC): tests/oidc/package.json tests/oidc/package-lock.json
	npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
	touch $(OIDC)

run: $(STAMP)
	$(BIN)/ld-adapter serve

# The console's browser tests drive Debian's chromium through chromium-driver (selenium).
browsers:
	@command -v chromedriver >/dev/null && command -v chromium >/dev/null || \
		(apt-get install -y -qq chromium chromium-driver || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)) >/dev/null 2>&1 \
		|| echo "chromium could not be installed: the console's browser tests will be skipped"

test: setup browsers
	$(BIN)/pytest

# Retake the console screenshots in docs/screenshots (the browser test writes them).
screenshots: setup browsers
	LD_ADAPTER_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/browser

test-postgres: setup
	LD_ADAPTER_TEST_POSTGRES_URL=$(POSTGRES_TEST_URL) $(BIN)/pytest -m postgres

lint: $(STAMP)
	$(BIN)/ruff check adapter tests scripts
	$(BIN)/ruff format --check adapter tests scripts
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format adapter tests scripts
	$(BIN)/ruff check --fix adapter tests scripts

bench: setup
	@# wrk drives the parallel intake benchmark; Python client threads would share the CPU with the server.
	@command -v wrk >/dev/null || (apt-get install -y -qq wrk || (apt-get update -qq && apt-get install -y -qq wrk)) >/dev/null 2>&1 \
		|| echo "wrk could not be installed: parallel intake is driven by Python client threads"
	LD_ADAPTER_TEST_POSTGRES_URL=$${LD_ADAPTER_TEST_POSTGRES_URL:-$(POSTGRES_TEST_URL)} $(BIN)/python -m tests.benchmarks.run

clean:
	rm -rf $(VENV) $(MESH_VENV) tests/fhirjs/node_modules tests/oidc/node_modules var .pytest_cache .mypy_cache .ruff_cache
