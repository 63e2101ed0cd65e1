#!/usr/bin/env bash
# make stop: stop what `make run` started (its processes, then the local Kafka and MongoDB server).
set -uo pipefail
cd "$(dirname "$0")/.."
VAR="${CRM_VAR_DIR:-$PWD/var}"
if [ -f "$VAR/run/honcho.pid" ]; then
  pid=$(cat "$VAR/run/honcho.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -f "$VAR/run/honcho.pid"
fi
.venv/bin/python -m devinfra down
