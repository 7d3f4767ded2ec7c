#!/usr/bin/env bash
# One command for the whole test suite: install, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export TF_CPP_MIN_LOG_LEVEL=2
exec "${PYTHON:-python3}" -m pytest -q "$@"
