# Two commands for a fresh machine: `make demo` (the offline pipeline end to end) and `make test`.
# Both create what they need: a Python 3.12 virtualenv in .venv (the Lambda runtime's version),
# the template tooling in .tools, and Debian's Chromium for the browser tests.

SHELL := /bin/bash
PYTHON_VERSION := 3.12
VENV := .venv
TOOLS := .tools
STAMP := .make
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/$(TOOLS)/bin:$(PATH)

# A python3.12 on PATH, else one managed by pyenv; empty when there is none.
FIND_PYTHON = $(shell \
  for c in python$(PYTHON_VERSION) python3; do \
    p=$$(command -v $$c 2>/dev/null) && $$p -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(PYTHON_VERSION))))' 2>/dev/null && { echo $$p; exit 0; }; \
  done; \
  if command -v pyenv >/dev/null 2>&1; then \
    v=$$(pyenv versions --bare 2>/dev/null | grep -E '^$(subst .,\.,$(PYTHON_VERSION))\.[0-9]+$$' | tail -1); \
    [ -n "$$v" ] && PYENV_VERSION=$$v pyenv which python$(PYTHON_VERSION) 2>/dev/null; \
  fi)
comma := ,

.PHONY: help setup tools java browser demo test test-fast bench lint format build deploy-check clean

help:
	@echo "make demo   run the whole pipeline offline on a generated 50,000-row file"
	@echo "make test   run every test (unit, handlers, state machines, CLI, template checks, browser)"
	@echo "make bench  run the benchmarks and write benchmarks/results/"
	@echo "make lint   ruff (lint + format check) and mypy (core, CLI, handlers)"
	@echo "make build  sam build (the deployable artefacts)"
	@echo "make deploy-check  every check of the template and workflows that needs no AWS account"

$(STAMP)/venv: pyproject.toml
	@mkdir -p $(STAMP)
	@py="$(FIND_PYTHON)"; \
	if [ -z "$$py" ]; then \
	  echo "error: Python $(PYTHON_VERSION) is required (the Lambda runtime's version) and none was found." >&2; \
	  echo "       Install it, e.g. 'pyenv install $(PYTHON_VERSION)' or 'apt-get install python$(PYTHON_VERSION) python$(PYTHON_VERSION)-venv'." >&2; \
	  exit 1; \
	fi; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(PYTHON_VERSION))))'; then \
	  rm -rf $(VENV); echo "creating $(VENV) with $$py"; $$py -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	@touch $@

# Debian's OpenJDK 17 runs local Spark (the compaction job; Glue 5.0 runs Spark on Java 17).
$(STAMP)/java:
	@mkdir -p $(STAMP)
	@if ! command -v java >/dev/null 2>&1 && [ ! -x "$${JAVA_HOME:-/nonexistent}/bin/java" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null); \
	  else \
	    echo "error: local Spark needs Java: sudo apt-get install openjdk-17-jre-headless" >&2; exit 1; \
	  fi; \
	fi
	@touch $@

java: $(STAMP)/java

setup: $(STAMP)/venv $(STAMP)/java

# The Step Functions definitions' validator (npm's asl-validator, pinned with its lock file).
ASL_TOOLS := tools/asl-validator

$(STAMP)/tools: requirements-tools.txt $(ASL_TOOLS)/package.json $(ASL_TOOLS)/package-lock.json $(STAMP)/venv
	@mkdir -p $(STAMP) $(TOOLS)/bin
	@for tool in sam checkov; do \
	  [ -x $(TOOLS)/$$tool/bin/python ] || $(PY) -m venv $(TOOLS)/$$tool || exit 1; \
	  $(TOOLS)/$$tool/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3 || exit 1; \
	  awk -v t="$$tool" '/^# tool-venv:/ {cur=$$3; next} /^[^#]/ && NF && cur==t' requirements-tools.txt \
	    > $(TOOLS)/$$tool/requirements.txt; \
	  $(TOOLS)/$$tool/bin/python -m pip install --quiet --disable-pip-version-check \
	    -r $(TOOLS)/$$tool/requirements.txt || exit 1; \
	done
	@ln -sf ../sam/bin/sam ../sam/bin/cfn-lint $(TOOLS)/bin/ && ln -sf ../checkov/bin/checkov $(TOOLS)/bin/
	@command -v npm >/dev/null || { echo "error: the template checks need Node.js 18+ and npm (apt-get install nodejs npm)" >&2; exit 1; }
	@mkdir -p $(TOOLS)/asl-validator && cp $(ASL_TOOLS)/package.json $(ASL_TOOLS)/package-lock.json $(TOOLS)/asl-validator/
	@cd $(TOOLS)/asl-validator && npm ci --silent --ignore-scripts --no-audit --no-fund
	@ln -sf ../asl-validator/node_modules/.bin/asl-validator $(TOOLS)/bin/
	@touch $@

# The dashboards' chart library, pinned with its lock file: the copy the committed build is
# checked against (tests/unit/test_chart_library.py); the pages themselves need no Node.
CHART_TOOLS := tools/dashboards

$(STAMP)/chart-library: $(CHART_TOOLS)/package.json $(CHART_TOOLS)/package-lock.json
	@mkdir -p $(STAMP)
	@command -v npm >/dev/null || { echo "error: the chart library check needs Node.js 18+ and npm (apt-get install nodejs npm)" >&2; exit 1; }
	@cd $(CHART_TOOLS) && npm ci --silent --ignore-scripts --no-audit --no-fund
	@touch $@

tools: $(STAMP)/tools $(STAMP)/chart-library

# Debian's Chromium drives the browser tests (no browser is downloaded by a test tool).
$(STAMP)/browser:
	@mkdir -p $(STAMP)
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null); \
	  else \
	    echo "error: the browser tests need Debian's chromium: sudo apt-get install chromium chromium-driver" >&2; exit 1; \
	  fi; \
	fi
	@touch $@

browser: $(STAMP)/browser

demo: $(STAMP)/venv $(STAMP)/java
	$(BIN)/bookings demo

# The README's test command (CI runs it): the lint and type checks, then every test tier.
test: $(STAMP)/venv $(STAMP)/java $(STAMP)/tools $(STAMP)/chart-library $(STAMP)/browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --timeout 1800

test-fast: $(STAMP)/venv
	$(BIN)/pytest -n 2 tests/unit

bench: $(STAMP)/venv $(STAMP)/java
	$(PY) -m benchmarks

# The reader and the validator under hypothesis with the "fuzz" profile (tests/conftest.py):
# thousands of inputs per test instead of make test's hundred.
.PHONY: fuzz
fuzz: $(STAMP)/venv
	$(BIN)/pytest -n 2 --timeout 7200 --hypothesis-profile=fuzz tests/unit/test_fuzz.py

lint: $(STAMP)/venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)/venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# sam build runs deploy/core-layer/Makefile with the project's Python (PYTHON=...), so the
# layer's wheels are resolved by the interpreter the pins were written for.
build: $(STAMP)/venv $(STAMP)/tools
	PYTHON=$(CURDIR)/$(PY) $(TOOLS)/bin/sam build

# One line per check (name: ok/failed), then the failures' details; exits non-zero on any failure.
deploy-check: $(STAMP)/venv $(STAMP)/tools
	$(PY) -m bookings.deploy_check

clean:
	rm -rf $(VENV) $(TOOLS) $(STAMP) $(CHART_TOOLS)/node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache
