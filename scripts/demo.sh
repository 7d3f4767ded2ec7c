#!/usr/bin/env bash
# One command for the main job on the bundled example: install (once), then regenerate a
# noisy, band-limited voice memo into a mastered, studio-like recording.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export TF_CPP_MIN_LOG_LEVEL=3
mkdir -p out
aural regenerate examples/voice_memo_noisy.flac out/voice_memo_regenerated.wav --overwrite \
    --report out/voice_memo_report.json
echo "listen: examples/voice_memo_noisy.flac (before) and out/voice_memo_regenerated.wav (after)"
