#!/usr/bin/env bash
# make test: bring up the real Kafka broker and MongoDB server (unless external ones are configured),
# run unit, integration and e2e tests against them, then stop what this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

started_infra=0
python -m devinfra status >/dev/null 2>&1 || started_infra=1
stop_infra() { if [ "$started_infra" = 1 ]; then python -m devinfra down; fi; }
trap stop_infra EXIT
python -m devinfra up
eval "$(python -m devinfra env)"
python -m pytest "$@"
