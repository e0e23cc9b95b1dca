# Two commands do everything: `make run` (the pipeline, end to end) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
# the Data Docs' libraries (npm packages of web_assets/, fetched and checked by web_assets/fetch.py),
# copied into the site by data_docs.py
WEB_STAMP := web_assets/node_modules/.installed-$(shell cat web_assets/package-lock.json | cksum | cut -d' ' -f1)
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print)
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: run test browser test-celery install web-assets manifest generate bench lint lock docs stop clean

run: install $(MANIFEST)  ## run ingest and build through Airflow, print the summary
	$(BIN)/poverty run

test: install $(MANIFEST) browser  ## the whole test suite
	$(BIN)/pytest

test-celery: install $(MANIFEST)  ## the CeleryExecutor scale-out test alone (Redis on 127.0.0.1:6379)
	$(BIN)/pytest tests/system/test_celery_stack.py -s

# The UI page tests (tests/system/test_ui_pages.py) open the pages in headless Chromium: Debian's package.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:  ## install Chromium (apt-get) when /usr/bin/chromium is missing
	@test -x /usr/bin/chromium || { \
	  command -v apt-get >/dev/null || { echo "Install Chromium as /usr/bin/chromium (tests/system/test_ui_pages.py uses it)"; exit 1; }; \
	  $(SUDO) apt-get install -y -q chromium || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }; }

install: $(STAMP) $(WEB_STAMP)

web-assets: $(WEB_STAMP)  ## the Data Docs' libraries from the npm registry (Python only, no Node.js)
$(WEB_STAMP): web_assets/package.json web_assets/package-lock.json web_assets/fetch.py
	$(PYTHON) web_assets/fetch.py
	rm -f web_assets/node_modules/.installed-* && touch $@

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==0.13.9
	# bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (containers, CI) every
	# Airflow task, dbt and GX process would otherwise compile their sources at each start
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

# cosmos renders the build DAG from this manifest; parsing needs no database.
manifest: $(MANIFEST)
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt_project && POVERTY_DB_HOST=localhost POVERTY_DB_PORT=5432 POVERTY_DB_USER=postgres \
	  POVERTY_DB_NAME=postgres ../$(BIN)/dbt parse --profiles-dir . --quiet
	touch $@

generate: install  ## write sample submissions into the landing location
	$(BIN)/poverty generate $(ARGS)

bench: install $(MANIFEST)  ## benchmark ingest and build against the COPY + SQL floor
	$(BIN)/poverty bench $(ARGS)

# SQLFluff reads dbt_project/.sqlfluff (jinja templater, offline); CI runs this before the tests.
lint: install  ## ruff on the Python, SQLFluff on the dbt models
	$(BIN)/ruff check src plugins dags tests deploy
	cd dbt_project && ../$(BIN)/sqlfluff lint models --disable-progress-bar

docs: install $(MANIFEST)  ## build the dbt docs site into dbt_project/target
	$(BIN)/poverty dbt -- docs generate

stop:  ## stop the embedded PostgreSQL
	$(BIN)/poverty stop

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile -q --python-version 3.11 --extra dev pyproject.toml -o requirements.lock

clean: stop
	rm -rf .local dbt_project/target
