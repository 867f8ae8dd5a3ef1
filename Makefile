# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: install run test test-random test-slow test-e2e test-faults test-fast lint bench messages clean

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: install
	./bin/entrypoint local

test: install
	$(PY) -m pytest

# The same suite in a random order (pytest-randomly, off by default) with a fixed seed: `make test-random SEED=2`.
# Seeds run so far and their outcomes: docs/testing.md.
SEED ?= 1
test-random: install
	$(PY) -m pytest -p randomly --randomly-seed=$(SEED)

# Slow tests (marker slow): `make run` started and stopped by Ctrl-C ten times and by TERM once,
# with no warning line on a clean start (tests/test_make_run.py); a few minutes. .ci/run runs it.
test-slow: install
	$(PY) -m pytest -m slow tests -rs

# Browser end-to-end tests (docs/ui.md): Playwright for Python driving Debian's Chromium
# (never `playwright install`; tests/e2e/conftest.py installs chromium with apt when root),
# axe-core from npm pinned by tests/e2e/node/package-lock.json.
PLAYWRIGHT_VERSION := 1.65.2
E2E_STAMP := $(VENV)/.e2e-playwright-$(PLAYWRIGHT_VERSION)
AXE_STAMP := tests/e2e/node/node_modules/.installed-$(shell sha1sum tests/e2e/node/package-lock.json | cut -c1-12)

$(E2E_STAMP): $(STAMP)
	$(PY) -m pip install -q playwright==$(PLAYWRIGHT_VERSION)
	touch $@

$(AXE_STAMP): tests/e2e/node/package-lock.json
	npm ci --prefix tests/e2e/node --no-audit --no-fund --loglevel=error
	touch $@

test-e2e: install $(E2E_STAMP) $(AXE_STAMP)
	$(PY) -m pytest -m e2e tests/e2e -rs

# API fuzzing (docs/api.md, "Fuzzing"): schemathesis against a live, seeded server for anonymous,
# bidder, agent and supervisor; checks server errors, response schemas, status codes, content types.
.PHONY: test-api
test-api: install
	$(PY) bin/api_fuzz.py

# Fault tests (docs/operations.md, "Faults and recovery"): their own PostgreSQL (PG_BIN, port 18832)
# and Redis (port 18879), web and worker, started and stopped by the tests; a few minutes.
test-faults: install
	$(PY) -m pytest -m faults tests/faults -rs

# ruff, then the import contracts of docs/architecture.md ("Layers"; pyproject.toml [tool.importlinter]).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: install
	$(PY) bench/audit_bench.py

# Translation catalogs (docs/ui.md, "Translations"): extract, then translate the new entries in
# locale/zh_Hans/LC_MESSAGES/*.po, then run this again to compile the .mo files (committed).
I18N_IGNORE := --ignore=.venv --ignore=var --ignore=node_modules --ignore=tests --ignore=test-artifacts --ignore=bench
messages: install
	mkdir -p locale
	$(PY) manage.py makemessages -l zh_Hans -l en --add-location=file --no-obsolete $(I18N_IGNORE)
	$(PY) manage.py makemessages -d djangojs -l zh_Hans -l en --add-location=file --no-obsolete $(I18N_IGNORE)
	$(PY) manage.py compilemessages $(I18N_IGNORE)
	@for po in locale/zh_Hans/LC_MESSAGES/*.po; do printf '%s: ' $$po; msgfmt --statistics -o /dev/null $$po; done

clean:
	rm -rf var
