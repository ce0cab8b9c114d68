# The two commands: `make demo` runs the product, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := backend.app:create_app

.PHONY: demo test test-python test-postgresql test-miniprogram lint install install-dev system-demo system-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamp files: a second `make demo` skips installing when the requirements did not change.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

# Debian packages (apt-get as root; otherwise it stops and prints the command to run).
system-demo:
	@scripts/system_packages.sh demo
system-test:
	@scripts/system_packages.sh test

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

demo: system-demo install
	$(BIN)/python -m workers.demo_media --ensure
	APP_ENV=development $(BIN)/flask db upgrade
	APP_ENV=development $(BIN)/flask seed-demo
	APP_ENV=development $(BIN)/python scripts/run_demo.py

test: system-test install-dev
	$(MAKE) test-python
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) test-postgresql; else echo "TEST_DATABASE_URL not set: PostgreSQL pass skipped"; fi
	$(MAKE) test-miniprogram

test-python:
	$(BIN)/python -m pytest -q

# The same database tests again on PostgreSQL.
test-postgresql:
	KITCHEN_TEST_DB=postgresql $(BIN)/python -m pytest -q -m db

test-miniprogram:
	@if [ -f miniprogram/package.json ]; then cd miniprogram && npm ci --no-audit --no-fund && npx eslint . --max-warnings 0 && npx jest --ci; \
	else echo "no mini-program tests yet"; fi

lint: install-dev
	$(BIN)/ruff check .
