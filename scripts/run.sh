#!/usr/bin/env bash
# Install (into .venv) and start the whole platform on embedded defaults:
# SQLite under var/, an embedded MQTT broker, the simulator, the worker and the web app.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/python app.py "$@"
