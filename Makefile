# Sijill: `make demo` serves a demo registry, `make test` runs the whole suite, `make bench` the
# benchmarks. Everything is set up from requirements/lock.txt into .venv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp-lock
PORT ?= 8000

.PHONY: install messages lint typecheck test demo bench lock snapshots clean

$(STAMP): requirements/lock.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/lock.txt
	@touch $(STAMP)

install: $(STAMP)

messages: install
	@mkdir -p var
	$(PY) manage.py compilemessages -v0 --ignore=.venv

lint: install typecheck
	$(VENV)/bin/ruff check .

# mypy with django-stubs (config in pyproject.toml); incremental, so a re-run takes a second or two.
typecheck: install
	$(PY) -m mypy sijill

test: install messages lint
	$(PY) manage.py makemigrations --check --dry-run -v1
	$(PY) -m pytest $(PYTEST_ARGS)

demo: install messages
	$(PY) manage.py migrate -v0
	$(PY) manage.py seed_demo
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(PY) manage.py serve_demo --port $(PORT)

bench: install
	$(PY) bench/run.py

snapshots: install
	UPDATE_SNAPSHOTS=1 $(PY) -m pytest -q sijill/core/tests/test_openapi.py

lock: install
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > requirements/lock.txt

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
