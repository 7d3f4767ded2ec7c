#!/usr/bin/env bash
# Installs AURAL and its dependencies into the current Python (a venv is fine too).
# pesq builds from source and needs numpy present first, hence two steps.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -m pip install --quiet --disable-pip-version-check "numpy>=2.4,<2.5" setuptools wheel
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test,eval]"
