# Two commands do all the set-up: `make demo` and `make test`.
# Each creates .venv from python3 when absent and reinstalls .[dev] when pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo bench soak docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# pytest includes the docs examples (tests/docs) and pyright in strict mode (tests/test_pyright.py).
test: $(STAMP)
	$(BIN)/ruff check pinpoint_endpoints tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory docs

# The site, with every warning an error (broken links, docstrings mkdocstrings cannot read).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# The load tests marked `soak` (about a minute); `make test` leaves them out (see addopts).
soak: $(STAMP)
	$(BIN)/python -m pytest -q -m soak -rP

# Side-by-side benchmarks against boto3; writes benchmarks/RESULTS.md (not part of make test).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

demo: $(STAMP)
	$(BIN)/pinpoint-endpoints demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis site dist
