#!/usr/bin/env bash
# The Debian packages the services need at run time (services/*/apt-packages.txt: billing's and privacy's PDFs)
# and the tests use (apt-packages-dev.txt), installed when missing: as root with apt-get, else named for you to
# install. Never fails the build: without libharfbuzz-subset0 a PDF renders in ~3 s of CPU instead of ~0.2 s,
# and without poppler-utils the test that draws a PDF's first page is skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
wanted=$(cat services/*/apt-packages.txt apt-packages-dev.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sort -u)
[ -z "$wanted" ] && exit 0
if ! command -v dpkg-query >/dev/null; then
  echo "system packages: not a Debian system; install the equivalents of:" $wanted
  exit 0
fi
missing=$(for p in $wanted; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"; done)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "system packages: installing" $missing
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; } \
    || echo "system packages: could not install" $missing "(see the comment at the top of scripts/system_packages.sh)"
else
  echo "system packages missing:" $missing "- install them: sudo apt-get install" $missing
fi
exit 0
