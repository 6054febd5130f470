# DeepScope — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# apt-get needs root: use sudo when we are not root and it exists.
SUDO := $(shell if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null; then echo sudo; fi)

.PHONY: run test lint format typecheck unit bench install install-test chromium redis npm clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

## make run [PORT=8123] [HOST=0.0.0.0]: install into .venv and start the server
run: install
	$(BIN)/deepscope --host $(HOST) --port $(PORT)

## Debian's Chromium drives the browser tests (Playwright's own download does not work here)
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi

## Debian's redis-server: the test of classes across two server processes starts one
redis:
	@if ! command -v redis-server >/dev/null; then \
	  echo "installing Debian's redis-server for the classes-across-processes test"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server >/dev/null; \
	fi

## Biome lints and formats static/js: pinned in .tools/package.json (and its lock), installed
## under .tools/ by npm; apt-get brings Debian's npm when it is missing
BIOME := .tools/node_modules/.bin/biome

npm:
	@if ! command -v npm >/dev/null; then \
	  echo "installing Debian's npm for Biome"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; \
	fi

$(BIOME): .tools/package.json .tools/package-lock.json | npm
	npm ci --prefix .tools --no-audit --no-fund --loglevel=error
	@touch $@

lint: $(VENV)/.installed-test $(BIOME)
	$(BIN)/ruff check deepscope tests bench
	$(BIN)/ruff format --check deepscope tests bench
	$(BIOME) ci static/js

## make format: rewrite the Python and the JavaScript in the house style (Biome twice: its
## 2.6.8 formatter wraps some long template literals only on a second pass)
format: $(VENV)/.installed-test $(BIOME)
	$(BIN)/ruff format deepscope tests bench
	$(BIOME) format --write static/js
	$(BIOME) format --write static/js

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy deepscope

unit: $(VENV)/.installed-test chromium redis
	$(BIN)/pytest $(PYTEST_ARGS)

## make test: ruff, Biome, mypy and pytest (browser tests included)
test: lint typecheck unit

## make bench: the performance table (not part of make test); PyTorch if it installs
bench: $(VENV)/.installed-test chromium
	@$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0 2>/dev/null \
	  || echo "(torch==2.13.0 not installable here: the PyTorch rows are skipped)"
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache artifacts .tools/node_modules
