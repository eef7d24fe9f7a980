# sendrail: two commands set everything up on a fresh machine.
#   make run   - the whole stack locally (embedded AWS, SMTP sink, HTTP front, scheduler)
#   make test  - lint, type-check and every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20,18
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint typecheck pytest bench synth deploy clean install chromium

CHROMIUM := /usr/bin/chromium

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[providers,local,infra,dev,cli]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m sendrail_local

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (never a downloaded browser build).
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else sudo apt-get update && sudo apt-get install -y chromium; fi; }

pytest: $(STAMP) chromium
	$(BIN)/pytest -q -n 2 --dist loadgroup

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

synth: $(STAMP)
	$(BIN)/python -m infra.app

deploy: $(STAMP)
	npx --yes aws-cdk@2 deploy --app "$(BIN)/python -m infra.app" --require-approval broadening

clean:
	rm -rf $(VENV) cdk.out build .pytest_cache .mypy_cache .ruff_cache
