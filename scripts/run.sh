#!/usr/bin/env bash
# make run: start Kafka and the MongoDB server, then every service's api and worker; Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
VAR="${CRM_VAR_DIR:-$PWD/var}"
mkdir -p "$VAR/run" "$VAR/log"

started_infra=0
python -m devinfra status >/dev/null 2>&1 || started_infra=1
python -m devinfra up

honcho_pid=""
indexer_pid=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$indexer_pid" ]; then kill -TERM "$indexer_pid" 2>/dev/null || true; wait "$indexer_pid" 2>/dev/null || true; fi
  if [ -n "$honcho_pid" ] && kill -0 "$honcho_pid" 2>/dev/null; then
    kill -TERM "$honcho_pid" 2>/dev/null || true
    wait "$honcho_pid" 2>/dev/null || true
  fi
  rm -f "$VAR/run/honcho.pid"
  if [ "$started_infra" = 1 ]; then python -m devinfra down; fi
}
trap cleanup EXIT INT TERM

env_file=$(python scripts/dev_env.py)
procfile=$(python scripts/procfile.py)  # every registry service's api and worker
set -a; . "$env_file"; set +a

account_file="$VAR/demo-account.json"
if [ ! -s "$account_file" ] || ! python scripts/demo_account.py check "$account_file"; then
  python -m gateway.entrypoints.cli create-account --name "Demo agency" --json > "$account_file"
fi

honcho start -f "$procfile" -e "$env_file" &
honcho_pid=$!
echo "$honcho_pid" > "$VAR/run/honcho.pid"
# FerretDB on PostgreSQL only: index its tables for the equalities it pushes down, as collections appear
python -m devinfra index --every 15 >> "$VAR/log/indexer.log" 2>&1 &
indexer_pid=$!

python scripts/demo_account.py announce "$account_file" "http://$GATEWAY_BIND" || { cleanup; exit 1; }
wait "$honcho_pid"
