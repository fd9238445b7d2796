# The two commands: `make run` (the embedded default) and `make test`.
# Needs only Python 3.11+ and make: uv is fetched from the package index into .tools/ if missing.

SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
WEB_PORT ?= 8000
SANDBOX_PORT ?= 8001

# The embedded default talks to the sandbox, not to the real DigitaleFactuur: `make run` writes
# DIGITALEFACTUUR_SANDBOX=true into .env once, so that the web, the worker and every manage.py
# of this checkout (a second shell too) read the same address from the settings.
export WEB_PORT SANDBOX_PORT

# The services tests (README, "Deployment"): this machine's PostgreSQL and Redis. pytest-django
# makes its own test database beside `postgres` (dropped afterwards); the workers use a queue
# name of their own in Redis database 15. Nothing else in either is touched.
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
SERVICES_REDIS_URL ?= redis://127.0.0.1:6379/15
PROBE = $(PY) -m tests.services.probe "$(SERVICES_DATABASE_URL)" "$(SERVICES_REDIS_URL)"
# Production never takes the sandbox default from .env (settings/production.env says the same to
# honcho, which would otherwise hand .env's lines to the processes).
PRODUCTION := env DIGITALEFACTUUR_SANDBOX=false
# The main run is the embedded default whatever the environment or .env says.
EMBEDDED := DATABASE_URL=sqlite:///$(CURDIR)/var/db.sqlite3 REDIS_URL=

.PHONY: install run serve-production test test-services lint bench soak messages clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

install: | $(UV)
	$(UV) sync --frozen --all-extras --quiet

run: install
	$(SANDBOX_DEFAULT)
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py load_demo
	@$(PY) manage.py banner
	@$(PY) -m integration.demo.supervisor Procfile

# The embedded default's settings, written once: a .env that names no DigitaleFactuur address
# (none at all, or one without such a line) gets DIGITALEFACTUUR_SANDBOX=true; nothing else in
# an existing .env is touched, and a line already there is never changed.
define SANDBOX_DEFAULT
@grep -qsE '^DIGITALEFACTUUR_(SANDBOX|BASE_URL)=' .env || { \
  printf '%s\n' "# Written by make run (.env.example lists every setting): the embedded default" \
    "# talks to the sandbox make run starts." "DIGITALEFACTUUR_SANDBOX=true" >> .env; \
  echo "make run: DIGITALEFACTUUR_SANDBOX=true in .env gezet"; }
endef

# Production on one machine (README, "Deployment"): the release steps, then Procfile.production.
# Settings come from the environment and .env, except the sandbox default of `make run`.
serve-production: install
	$(PRODUCTION) $(PY) manage.py migrate --noinput -v0
	$(PRODUCTION) $(PY) manage.py collectstatic --noinput -v0
	$(PRODUCTION) $(PY) manage.py check --deploy
	$(PRODUCTION) $(VENV)/bin/honcho start -f Procfile.production -e .env,settings/production.env

lint: install
	$(VENV)/bin/ruff check .

# SQLite and the ORM broker first; then the `services` tests on PostgreSQL and Redis: always
# in CI (CI set: services that do not answer within a minute fail the run at once, before
# anything else), elsewhere only when both answer.
test: install lint
	@if [ -n "$$CI" ]; then $(PROBE) --wait 60; fi
	$(EMBEDDED) $(VENV)/bin/pytest -m "not services"
	@if [ -n "$$CI" ] || $(PROBE) --quiet; then \
	  $(MAKE) --no-print-directory test-services; \
	else \
	  echo "services tests not run: $$($(PROBE) 2>&1) (make test-services; required in CI)"; \
	fi

# The engine with two real qcluster processes on PostgreSQL and Redis (tests/services), then the
# connector's tests (tests/digitalefactuur: the engine's scenarios with its client and screens) on
# PostgreSQL with the ORM broker (their workers share the PostgreSQL test database).
test-services: install
	@$(PROBE) --wait 60
	DATABASE_URL=$(SERVICES_DATABASE_URL) REDIS_URL=$(SERVICES_REDIS_URL) \
	  $(VENV)/bin/pytest -m services tests/services
	DATABASE_URL=$(SERVICES_DATABASE_URL) REDIS_URL= $(VENV)/bin/pytest -m "not services" tests/digitalefactuur

# The long proofs (issue "Proof under faults ..."): the same tests as `make test` runs, at soak size.
soak: install
	SOAK=1 $(VENV)/bin/pytest tests/proofs

bench: install
	$(PY) -m bench

# Regenerates the English catalogue's .mo from its .po (needs gettext's msgfmt; the .mo is
# committed, so a fresh machine needs none).
messages:
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=.tools --no-location
	$(PY) manage.py compilemessages -l en --ignore=.venv --ignore=.tools

clean:
	rm -rf $(VENV) .tools var
