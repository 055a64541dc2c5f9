# The two commands of the README: `make run` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck install clean diagram screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever the dependencies in pyproject.toml change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/adviestraject migrate
	$(BIN)/adviestraject seed-demo
	$(BIN)/adviestraject serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The suite over both cores; a test file stays on one worker (its module fixtures start once).
test: lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile

diagram: $(STAMP)
	$(BIN)/adviestraject diagram --write docs/state-machine.md

# PNGs of the main pages per role at 1280 and 360 px (needs Debian's chromium)
screenshots: $(STAMP)
	$(BIN)/python -m bench.screenshots docs/screenshots

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
