# Two entry points (see README):  make run   -> the full verification run (report + schedules)
#                                 make test  -> the test suite
# Each creates ./.venv on first use and installs the project with everything it needs.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
OUT     ?= report
STAMP   := $(VENV)/.installed

.PHONY: run test test-integration test-slow bench mutation install browser lint docs clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/symsched verify --quick --out $(OUT) --force

# Headless Chromium renders report.html in a test; installed from Debian's packages when we can.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed and cannot be installed here: the browser test of report.html will be skipped"; fi; }

# Style gates, before the tests: lint, formatting and strict type checks (config in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The style gates and the site build (which executes the notebooks the tests then reuse) are
# independent and mostly single-threaded: they run side by side on the two cores, then the tests.
test: $(STAMP) browser
	$(MAKE) --no-print-directory -j2 --output-sync=target lint docs
	$(BIN)/python -m pytest -n 2 -q --durations=20

# The documentation site, built into site/ with every warning an error (mkdocs.yml); it executes the
# notebooks, so it takes a minute or two. Open site/index.html from disk: no server is needed.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The end-to-end tier (the `integration` marker): every claim under the quick profile, whole
# verification runs, the site in a browser, a local cluster, the README's long command lines.
# CI runs it after `make test` (.ci/run).
test-integration: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 -q --durations=10 -m integration

test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m slow

# the benchmarks' own extra (numba, for the exact-KL rooflines) on top of the test install
$(VENV)/.installed-bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(VENV)/.installed-bench

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run_all.py

# Mutation testing, on demand (docs/mutation.md): every module of mutation/modules.toml, or one
# with MODULE=NAME; resumable (verdicts committed in mutation/verdicts/), the table in mutation/results.md.
# MUTATION_ARGS passes more flags, e.g. MUTATION_ARGS='--budget 600' or '--snapshot HEAD'.
mutation: $(STAMP)
	$(BIN)/python mutation/run.py $(if $(MODULE),--module $(MODULE),--all) $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis site .cache/docs-notebooks
