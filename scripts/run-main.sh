#!/usr/bin/env bash
# The main job: installs the Debian packages, builds `pv` (release preset) — the build also
# synthesizes the tiny qwen2 model pair (F32 APR and F32 / Q8_0 / Q4_K_M GGUF) in
# build/release/models — then runs every contract in contracts/ against the suite's CPU paths:
#   pv run contracts/ --suite ctest.cfg --label cpu
# It prints the summary table (status, id, falsifier, message; the first divergence and a repro
# line for each failure) and the report paths (build/release/reports/: JSON, JUnit, Markdown,
# HTML). Exit code: pv run's (0 all evaluated tests passed, 1 a FAIL or ERROR, 77 nothing
# evaluated). The llama.cpp reference tests use ../shared/fixtures (PARITY_FIXTURES_DIR
# overrides) and are reported SKIPPED without it.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup-debian.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset release ${PARITY_FIXTURES_DIR:+-DPARITY_FIXTURES_DIR="$PARITY_FIXTURES_DIR"}
cmake --build --preset release -j "$jobs" --target pv synth_models

export PARITY_MODELS_DIR="$PWD/build/release/models"
export PARITY_FIXTURES_DIR="${PARITY_FIXTURES_DIR:-$PWD/../shared/fixtures}"
pv=build/release/harness/pv
"$pv" validate contracts/ --quiet
exec "$pv" run contracts/ --suite ctest.cfg --label cpu --report-dir build/release/reports
