# Two commands for a newcomer on a fresh Debian machine with Python 3.11:
#   make run    the service on http://127.0.0.1:5000 with the scheduler and a mail catcher
#   make test   the whole suite, on SQLite and on a throwaway PostgreSQL server
# and one before each commit:
#   make lint   ruff (pinned in requirements-dev.txt, configured in pyproject.toml)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
DEV_ENV := BOOKING_ENV=development
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
REDIS_PORT ?= 6390

.PHONY: run test lint bench system-deps migrate demo scheduler clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

# Debian packages the suite needs (PostgreSQL binaries, Chromium, npm): see the script.
system-deps:
	@bash tests/install-system-deps.sh

# axe-core, the accessibility checker the browser tests inject, from the npm registry.
AXE_VERSION := 4.14.1
AXE := tests/e2e/vendor/axe-$(AXE_VERSION).min.js

$(AXE): | system-deps
	mkdir -p tests/e2e/vendor
	cd tests/e2e/vendor && rm -rf package && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null \
	  && tar xzf axe-core-$(AXE_VERSION).tgz package/axe.min.js \
	  && mv package/axe.min.js axe-$(AXE_VERSION).min.js && rm -rf package axe-core-$(AXE_VERSION).tgz

migrate: $(STAMP)
	$(DEV_ENV) $(FLASK) db upgrade

demo: migrate
	$(DEV_ENV) $(FLASK) demo

run: migrate
	$(DEV_ENV) $(FLASK) demo --if-empty
	@echo "Mail catcher: every message the service sends is saved in instance/mail/"
	@$(DEV_ENV) bash -c 'trap "kill \$$catcher \$$scheduler \$$redis 2>/dev/null; wait" EXIT; \
	  workers=$(WORKERS); redis=; \
	  if command -v redis-server >/dev/null; then \
	    redis-server --bind 127.0.0.1 --port $(REDIS_PORT) --save "" --appendonly no >/dev/null & redis=$$!; \
	    export RATELIMIT_STORAGE_URI=redis://127.0.0.1:$(REDIS_PORT)/0; \
	  else echo "No redis-server: one web worker, so that the rate limits count once."; workers=1; fi; \
	  $(FLASK) mailcatcher & catcher=$$!; \
	  $(FLASK) scheduler & scheduler=$$!; \
	  $(BIN)/gunicorn --workers $$workers --bind $(HOST):$(PORT) --no-control-socket --access-logfile - wsgi:app'

# Every Python file of the project: the app, its tests, the benchmark and the migrations.
lint: $(STAMP)
	$(BIN)/ruff check booking tests bench migrations config.py wsgi.py

# The OpenID Provider the suite signs staff in with (npm oidc-provider, see tests/oidc).
OIDC := tests/oidc/node_modules/.package-lock.json

$(OIDC): tests/oidc/package-lock.json | system-deps
	cd tests/oidc && npm ci --silent --no-audit --no-fund

# An S3-compatible store for the complaint files' S3 setting (npm s3rver, see tests/s3).
S3 := tests/s3/node_modules/.package-lock.json
$(S3): tests/s3/package-lock.json | system-deps
	cd tests/s3 && npm ci --silent --no-audit --no-fund

# Google's Lighthouse for the public pages' scores (npm lighthouse, see tests/lighthouse).
LIGHTHOUSE := tests/lighthouse/node_modules/.package-lock.json
$(LIGHTHOUSE): tests/lighthouse/package-lock.json | system-deps
	cd tests/lighthouse && npm ci --silent --no-audit --no-fund

# The suite in two pytest processes, one per core: the browser suites, the fuzzers and
# most suites that drive servers of their own (which wait mostly on Chromium, gunicorn,
# nginx, Radicale and the OpenID Provider) beside everything else, about as long. The
# second one's report is printed whole after the first's; either failing fails the
# target, and an interrupted run stops both.
SECOND_HALF := tests/e2e tests/test_fuzz.py tests/test_page_fuzz.py \
  tests/test_settings_check.py tests/test_proxy.py tests/test_oidc.py \
  tests/test_live_server.py tests/test_scheduler.py tests/test_busy_times.py \
  tests/test_outbox_senders.py
test: $(STAMP) system-deps $(AXE) $(OIDC) $(S3) $(LIGHTHOUSE)
	@report=$$(mktemp); \
	AXE_JS=$(AXE) $(BIN)/pytest $(SECOND_HALF) > $$report 2>&1 & second=$$!; \
	trap 'kill $$second 2>/dev/null; rm -f $$report' EXIT INT TERM; \
	AXE_JS=$(AXE) $(BIN)/pytest $(addprefix --ignore=,$(SECOND_HALF)); first=$$?; \
	wait $$second; second_status=$$?; \
	echo "== $(SECOND_HALF)"; cat $$report; \
	test $$first = 0 && test $$second_status = 0

# The benchmark (not part of the suite): see bench/run.py. SCALES=state for a quick run.
SCALES ?= state,country
BACKENDS ?= sqlite,postgresql
bench: $(STAMP) system-deps
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || { echo "install wrk" >&2; exit 1; }
	$(BIN)/python -m bench.run --scales $(SCALES) --backends $(BACKENDS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
