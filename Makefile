# The two commands: `make run` (set up and run the whole system) and `make test` (set up and run every test).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Node tools the tests use (openapi-typescript, tsc), pinned by tools/package-lock.json, as the Python ones are.
NODE_STAMP := tools/node_modules/.installed
# Every folder under services/ with a pyproject.toml is installed: a new service needs no edit here.
SERVICES := $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
REQS := constraints.txt requirements-dev.txt shared/pyproject.toml infra/pyproject.toml \
        $(addsuffix /pyproject.toml,$(SERVICES)) apt-packages-dev.txt $(wildcard services/*/apt-packages.txt)

.PHONY: run stop test venv node-tools infra-up infra-down infra-status bench bench-find bench-import bench-gateway bench-render bench-billing clean-data help
.DEFAULT_GOAL := help

help:
	@echo "make run          set up everything and run the whole system (Ctrl-C stops it)"
	@echo "make test         set up everything and run unit, integration and e2e tests"
	@echo "make stop         stop what 'make run' started, from another shell"
	@echo "make bench        write-to-projection latency of 1,000 contacts through the gateway (needs 'make run')"
	@echo "make bench-find   search, filter and read among 100,000 contacts of one account (needs 'make run')"
	@echo "make bench-import import ROWS generated rows (default 10000) against a plain bulk insert (needs 'make run')"
	@echo "make bench-gateway the 360 read, and reads through the gateway against the contacts service directly (needs 'make run')"
	@echo "make bench-render Factur-X PDF renders per second of a 20-line invoice, and peak memory (in process, RENDERS=50)"
	@echo "make node-tools   the Node tools the tests use (openapi-typescript, tsc), with npm ci; make test does it"
	@echo "make bench-billing issue INVOICES invoices through the gateway (default 10000), and the recurring scheduler catching up OCCURRENCES due ones (default 10000) (needs 'make run')"
	@echo "make infra-up | infra-status | infra-down    local Kafka and MongoDB server only"
	@echo "make clean-data   stop the local servers and wipe var/ (their data and logs; as root also /var/tmp/crm-dev-postgres/<clone>-*)"

$(STAMP): $(REQS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: install it or run make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	@scripts/system_packages.sh
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -r requirements-dev.txt \
	    -e shared -e infra $(addprefix -e ,$(SERVICES))
	@touch $@

$(NODE_STAMP): tools/package.json tools/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 20 or newer) is needed for the tests' Node tools: install it"; exit 1; }
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	@touch $@

venv: $(STAMP)

node-tools: $(NODE_STAMP)

run: $(STAMP)
	@scripts/run.sh

stop:
	@scripts/stop.sh

test: $(STAMP) $(NODE_STAMP)
	@scripts/test.sh $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/write_to_projection.py

bench-find: $(STAMP)
	$(PY) benchmarks/find_contacts.py

ROWS ?= 10000
bench-import: $(STAMP)
	$(PY) benchmarks/import_contacts.py --rows $(ROWS)

bench-gateway: $(STAMP)
	$(PY) benchmarks/gateway_reads.py

RENDERS ?= 50
bench-render: $(STAMP)
	$(PY) benchmarks/render_documents.py --renders $(RENDERS)

INVOICES ?= 10000
OCCURRENCES ?= 10000
bench-billing: $(STAMP)
	$(PY) benchmarks/issue_invoices.py --invoices $(INVOICES)
	$(PY) benchmarks/recurring_occurrences.py --occurrences $(OCCURRENCES)

infra-up: $(STAMP)
	$(PY) -m devinfra up

infra-status: $(STAMP)
	$(PY) -m devinfra status

infra-down: $(STAMP)
	$(PY) -m devinfra down

clean-data: $(STAMP)
	$(PY) -m devinfra down --wipe
