#!/usr/bin/env bash
# The whole test suite: installs the Debian packages, builds (release preset; CUDA parts
# too when nvcc is found) and runs every CTest test. GPU tests skip (exit 77) without a GPU.
# Fixture-based tests use ../shared/fixtures when present (PARITY_FIXTURES_DIR overrides).
# The results also go to build/release/junit/ctest.xml (JUnit), which CI uploads.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup-debian.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset release ${PARITY_FIXTURES_DIR:+-DPARITY_FIXTURES_DIR="$PARITY_FIXTURES_DIR"}
cmake --build --preset release -j "$jobs"
mkdir -p build/release/junit
ctest --preset release -j "$jobs" --output-junit "$PWD/build/release/junit/ctest.xml"
