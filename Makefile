# The two commands: `make run` (the app with demo data, offline) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# `make run` talks to the local provider sandboxes, so calls and webhooks work with no internet.
RUN_ENV := DEBUG=true PROVIDER_SANDBOX=true PORT=$(PORT) \
	SITE_URL=http://127.0.0.1:$(PORT) \
	CALLKARO_BASE_URL=http://127.0.0.1:$(PORT)/sandbox/callkaro \
	ACEFONE_BASE_URL=http://127.0.0.1:$(PORT)/sandbox/acefone \
	ACEFONE_API_TOKEN=sandbox-acefone-token ACEFONE_WEBHOOK_SECRET=sandbox-acefone-webhook \
	ACEFONE_CALLER_ID=918069000001 \
	META_GRAPH_BASE_URL=http://127.0.0.1:$(PORT)/sandbox/meta \
	META_APP_SECRET=sandbox-meta-app-secret META_VERIFY_TOKEN=sandbox-meta-verify \
	META_PAGE_ACCESS_TOKEN=sandbox-meta-page-token SPEED_TO_LEAD_AGENT_ID=demo-arjun-en

.PHONY: run test deps lint bench bench-quick clean print-run-env

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

deps: $(VENV)/.installed

run: deps
	mkdir -p var
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	@echo ""
	@echo "  Lead CRM: http://127.0.0.1:$(PORT)/ is starting (PORT=8001 make run picks another port);"
	@echo "  the address and the logins are printed again once the server answers."
	@echo ""
	$(RUN_ENV) $(VENV)/bin/honcho start -f Procfile

test: deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# `make bench BENCH_ARGS=--quick` (or BENCH_QUICK=1 make bench): small sizes, proves every benchmark runs.
bench: deps
	$(PY) bench/run_all.py $(BENCH_ARGS)

bench-quick: deps
	$(PY) bench/run_all.py --quick

print-run-env:
	@echo $(RUN_ENV)

clean:
	rm -rf var db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
