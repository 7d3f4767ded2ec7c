#!/usr/bin/env bash
# One command for the main job on the bundled example: install, then clean up a noisy voice memo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export TF_CPP_MIN_LOG_LEVEL=2
mkdir -p out
aural apply noise_reduction examples/voice_memo_noisy.flac out/voice_memo_clean.wav
echo "listen: examples/voice_memo_noisy.flac (before) and out/voice_memo_clean.wav (after)"
