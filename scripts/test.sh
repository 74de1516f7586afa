#!/usr/bin/env bash
# Set up and run the whole test suite: Debian packages for the real services and the
# browser, a virtualenv with the project and its test extras, then pytest.
#   ./scripts/test.sh                 # everything
#   ./scripts/test.sh tests/unit -x   # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(postgresql mosquitto mosquitto-clients chromium chromium-driver docker-compose)
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# TimescaleDB, built from the tarball beside its script where the shared folder exists (it
# builds in a temporary directory, so a read-only shared/ is fine; idempotent, ~3 CPU-minutes
# the first time). Without it the TimescaleDB tests are skipped and say why.
timescale=../shared/timescaledb/install.sh
if [ -f "$timescale" ] && ! bash "$timescale"; then
  echo "TimescaleDB could not be built: its tests will be skipped" >&2
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# two pytest processes (PDM_TEST_WORKERS; 0 runs in this one), each test file in one of them
# (its module fixtures stay shared): most of a test's time is waiting on servers, browsers and
# sockets, so two halve the wall time on 2 cores
exec .venv/bin/python -m pytest -n "${PDM_TEST_WORKERS:-2}" --dist loadfile "$@"
