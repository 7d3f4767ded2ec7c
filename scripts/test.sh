#!/usr/bin/env bash
# One command for the whole test suite: install, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# The listening-test page is tested in a real browser: Debian's Chromium and its driver,
# installed here where we may (root with apt); elsewhere that test skips and says why.
if ! command -v chromedriver >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 \
             && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; }) \
        || echo "note: could not install chromium; the browser test will be skipped"
fi
export TF_CPP_MIN_LOG_LEVEL=2
exec "${PYTHON:-python3}" -m pytest -q "$@"
