#!/usr/bin/env bash
# The main job on the embedded default: installs the Debian packages, builds `pv` (release
# preset), then shows the tiny synthetic qwen2 pair that the build generates (a Q4_K_M GGUF
# and its F32 source) — the models every later job of the harness runs on.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup-debian.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset release
cmake --build --preset release -j "$jobs" --target pv synth_models

pv=build/release/harness/pv
models=build/release/models
"$pv" inspect "$models/synth-qwen2-tiny-Q4_K_M.gguf"
"$pv" inspect "$models/synth-qwen2-tiny-F32.gguf" --json > "$models/synth-qwen2-tiny-F32.json"
echo "main job: inspected $models/synth-qwen2-tiny-Q4_K_M.gguf; JSON description in $models/synth-qwen2-tiny-F32.json"
