#!/usr/bin/env bash
# Install what the tests need and run them all, browser tests included. This is the README's test
# command; .ci/run calls it. Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not browser"`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium (Playwright's own browser download does not work here) and a Chinese font; PostgreSQL,
# Redis and nginx for the scale-out tests (each started privately on loopback by the tests themselves).
missing=()
for package in chromium fonts-wqy-microhei postgresql redis-server nginx; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
