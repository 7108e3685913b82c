# Two commands do all the set-up: `make demo` and `make test`.
# Each creates .venv from python3 when absent. `make demo` installs the package with its CLI
# extra; `make test` installs the dev toolchain (.[dev], about 550 MB) and also builds
# .venv-lowest, where the core tests run at the lowest versions pyproject.toml declares.
# Each install is redone only when pyproject.toml (or the constraints) changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOWEST := .venv-lowest
# the async peers of the benchmark pin an older botocore than ours: they get a venv of their own
PEERS := .venv-bench
CONSTRAINTS := tests/constraints-lowest.txt
# the package's own unit tests: no docs, pyright or CLI (those want the dev toolchain or rich)
CORE_TESTS := $(wildcard tests/test_models.py tests/test_convert.py tests/test_config.py \
	tests/test_errors.py tests/test_retry.py tests/test_transport.py tests/test_client.py \
	tests/test_wire.py tests/test_operations.py tests/testing/test_server.py \
	tests/testing/test_store.py)

.PHONY: test demo bench soak docs clean

%/bin/python:
	$(PYTHON) -m venv $*
	$@ -m pip install --quiet --upgrade pip

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-cli: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[cli]'
	touch $@

# The runtime dependencies and the async extra at their floors, and the tools the core tests
# import.
$(LOWEST)/.installed: pyproject.toml $(CONSTRAINTS) | $(LOWEST)/bin/python
	$(LOWEST)/bin/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[async]' \
		boto3 pytest pytest-asyncio responses hypothesis
	touch $@

$(PEERS)/.installed: | $(PEERS)/bin/python
	$(PEERS)/bin/python -m pip install --quiet aiobotocore capo-pinpoint
	touch $@

# pytest includes the docs examples (tests/docs) and pyright in strict mode (tests/test_pyright.py).
test: $(VENV)/.installed-dev $(LOWEST)/.installed
	$(BIN)/ruff check pinpoint_endpoints tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory docs
	@echo "core tests at the lowest declared versions ($(CONSTRAINTS)):"
	$(LOWEST)/bin/python -m pytest -q $(CORE_TESTS)

# The site, with every warning an error (broken links, docstrings mkdocstrings cannot read).
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# The load tests marked `soak` (about a minute); `make test` leaves them out (see addopts).
soak: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m soak -rP

# Side-by-side benchmarks against boto3; writes benchmarks/RESULTS.md (not part of make test).
bench: $(VENV)/.installed-dev $(PEERS)/.installed
	$(BIN)/python benchmarks/run.py

demo: $(VENV)/.installed-cli
	$(BIN)/pinpoint-endpoints demo

clean:
	rm -rf $(VENV) $(LOWEST) $(PEERS) .mypy_cache .ruff_cache .pytest_cache .hypothesis site dist
