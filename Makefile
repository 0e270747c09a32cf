# Two commands for a newcomer on a fresh Debian machine with Python 3.11:
#   make run    the service on http://127.0.0.1:5000 with the scheduler and a mail catcher
#   make test   the whole suite, on SQLite and on a throwaway PostgreSQL server

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
DEV_ENV := BOOKING_ENV=development
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

.PHONY: run test system-deps migrate demo scheduler clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

# Debian's PostgreSQL server binaries for the suite's throwaway server. The package
# must neither create nor start a cluster of its own: the tests start theirs.
system-deps:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then \
	  exit 0; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian's postgresql package (server binaries for the tests)"; \
	  mkdir -p /etc/postgresql-common; \
	  [ -e /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf; \
	  policy_added=0; \
	  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; policy_added=1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  status=$$?; [ $$policy_added = 1 ] && rm -f /usr/sbin/policy-rc.d; exit $$status; \
	else \
	  echo "PostgreSQL server binaries are missing: run 'sudo apt-get install postgresql'" >&2; exit 1; \
	fi

migrate: $(STAMP)
	$(DEV_ENV) $(FLASK) db upgrade

demo: migrate
	$(DEV_ENV) $(FLASK) demo

run: migrate
	$(DEV_ENV) $(FLASK) demo --if-empty
	@echo "Mail catcher: every message the service sends is saved in instance/mail/"
	@$(DEV_ENV) bash -c 'trap "kill \$$catcher \$$scheduler 2>/dev/null; wait" EXIT; \
	  $(FLASK) mailcatcher & catcher=$$!; \
	  $(FLASK) scheduler & scheduler=$$!; \
	  $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --no-control-socket --access-logfile - wsgi:app'

test: $(STAMP) system-deps
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
