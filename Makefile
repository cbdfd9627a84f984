# Palpate: every target bootstraps what it needs, so a fresh machine with python3 (3.11+) is enough.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PALPATE_DATA_DIR ?= $(CURDIR)/var
CHROMIUM ?= /usr/bin/chromium

.PHONY: install run test test-core test-web test-e2e lint bench lock chromium fhir-validator clean help

help:
	@echo "make run    - the app on SQLite with demo data and its background worker (http://127.0.0.1:$${PORT:-8000}/)"
	@echo "make test   - the whole suite (core, Django, browser)"
	@echo "make lint   - ruff, mypy --strict on palpate.core"
	@echo "make bench  - speed benchmarks"
	@echo "make install - just the virtual environment"

# The venv is rebuilt whenever the lock file or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Palpate needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# palpate serve: prepare, then gunicorn and the background worker; Ctrl-C (or SIGTERM) stops both.
run: $(STAMP)
	$(BIN)/palpate serve

# Browser tests drive Debian's Chromium; install it when it is missing (needs root, as in CI).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" != "0" ]; then \
	    echo "Chromium is missing at $(CHROMIUM) and installing it needs root:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium"; \
	    exit 1; \
	  fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	fi

# The independent FHIR validator the tests run (Medplum's validateResource, base R4 definitions,
# offline): npm packages at the versions pinned in the lock file, integrity-checked by npm ci.
FHIR_VALIDATOR := tools/fhir-validator
$(FHIR_VALIDATOR)/node_modules/.package-lock.json: $(FHIR_VALIDATOR)/package-lock.json $(FHIR_VALIDATOR)/package.json
	cd $(FHIR_VALIDATOR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

fhir-validator: $(FHIR_VALIDATOR)/node_modules/.package-lock.json

# pytest exits 5 when it collected no tests: that is a failure here, never a pass.
test: $(STAMP) chromium fhir-validator
	PALPATE_DATA_DIR=$(CURDIR)/var/test $(BIN)/python -m pytest -p no:cacheprovider

test-core: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests/core

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Regenerate the lock after changing dependencies in pyproject.toml (needs network and uv).
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) build src/*.egg-info $(FHIR_VALIDATOR)/node_modules
