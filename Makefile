# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# demo: install ithkit with the extras the demo shows (figures, single-cell/spatial) and run it
demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[report,singlecell,imaging]"
	$(BIN)/ithkit demo --out demo_out
	@echo "open demo_out/report.html"

# test: install every extra and the dev group, then run the whole suite
test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[all]" --group dev
	$(BIN)/python -m pytest -q

lint: $(BIN)/python
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) demo_out .pytest_cache .mypy_cache .ruff_cache
