#!/usr/bin/env bash
# Installs AURAL and its dependencies into the current Python (a venv is fine too).
# pesq builds from source and needs numpy present first, hence two steps. An install that
# is already in place for the same setup.cfg is kept (a stamp records what was installed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
STAMP=.install-stamp
WANT="$("$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open("setup.cfg","rb").read()+sys.executable.encode()).hexdigest())')"
# The import check runs outside the tree: inside it, "import aural" succeeds uninstalled.
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] \
    && (cd / && "$PYTHON" -c "import aural") 2>/dev/null && command -v aural >/dev/null; then
    exit 0
fi
"$PYTHON" -m pip install --quiet --disable-pip-version-check "numpy>=2.4,<2.5" setuptools wheel
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test,eval,cluster]"
echo "$WANT" > "$STAMP"
