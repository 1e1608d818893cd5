# Thin wrappers: every target creates .venv when missing; the work is in `warehouse`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench ui lint clean-state

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/warehouse demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

ui: $(STAMP)
	$(BIN)/warehouse ui

lint: $(STAMP)
	$(BIN)/ruff check pipelines expectations tests bench
	$(BIN)/ruff format --check pipelines expectations tests bench
