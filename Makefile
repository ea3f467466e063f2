# The README's two commands are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 3

.PHONY: install demo test lint bench up clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/supplybridge demo $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain workflows activities adapters runtime store starter sandbox worker.py

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.master_data
	$(BIN)/python -m bench.x12
	$(BIN)/python -m bench.intake
	$(BIN)/python -m bench.events

up: $(STAMP)
	$(BIN)/supplybridge up

clean:
	rm -rf $(VENV) .supplybridge .pytest_cache .mypy_cache .ruff_cache
