# Two commands do all set-up on a machine with only Python 3.11+ and make:
#   make demo   the main job: simulate a calibrated cohort, analyse it, write the report
#   make test   the whole test suite
#   make lint   ruff, ruff format --check, the import layers contract, mypy (see pyproject.toml)
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed-from-lock

.PHONY: demo test lint bench clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "burnout needs Python 3.11 or newer; set PYTHON=python3.x")'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/burnout demo --out demo-out

test: $(STAMP)
	$(VENV)/bin/python -m pytest

# The type: ignore check: mypy has no switch for "a reason on the same line", so grep it.
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	@! grep -rnE '# type: ignore(\[[^]]*\])?[[:space:]]*$$' src || { echo "a type: ignore needs a reason on the same line: # type: ignore[code]  # why"; exit 1; }

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/run.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
