# Two entry points (see README):  make run   -> the full verification run (report + schedules)
#                                 make test  -> the test suite
# Each creates ./.venv on first use and installs the project with everything it needs.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
OUT     ?= report
STAMP   := $(VENV)/.installed

.PHONY: run test test-slow bench install clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/symsched verify --quick --out $(OUT) --force

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m slow

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis
