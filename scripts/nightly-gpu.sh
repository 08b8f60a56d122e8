#!/usr/bin/env bash
# The nightly GPU parity job (.github/workflows/nightly-gpu.yml runs it on a self-hosted GPU
# runner; it runs as well by hand on any machine with a GPU, nvcc and the Debian build
# dependencies of scripts/setup-debian.sh):
#
#   1. configure and build with CUDA (PARITY_CUDA=ON; CMAKE_CUDA_ARCHITECTURES=native unless
#      PARITY_CUDA_ARCHS says otherwise), the tiny synthetic pair included (target synth_models);
#   2. pv synth --preset bench-1024 --types q4_k_m,q8_0,f16 (the bigger models of step 5);
#   3. ctest -L gpu (the CUDA kernel and forward tests and the contract tests labeled gpu);
#   4. pv run contracts/ --suite ctest.cfg --label gpu (every gpu contract, full reports);
#   5. the CPU-vs-GPU contract again on each bench-1024 model, and pv bench --backend cuda.
#
# Reports go to reports/nightly-YYYY-MM-DD/ (UTC date; NIGHTLY_REPORT_DIR overrides): one log
# per step, summary.txt, ctest-gpu.xml (JUnit), contracts/ (pv's JSON, JUnit, Markdown, HTML),
# contract-bench-1024-*/ and bench-*.json.
#
# Exit code: pv run's code for step 4 (0 all evaluated tests passed, 1 a FAIL or ERROR, 77
# nothing evaluated), made 1 when it is 0 but ctest or a step-5 contract failed; a failed
# configure, build or synth exits with its own code right away (its log is in the folder).
set -uo pipefail
cd "$(dirname "$0")/.."

day=$(date -u +%F)
reports=${NIGHTLY_REPORT_DIR:-reports/nightly-$day}
build=${NIGHTLY_BUILD_DIR:-build/nightly-gpu}
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$reports"
reports=$(cd "$reports" && pwd)
summary="$reports/summary.txt"
: > "$summary"

# step NAME COMMAND...: runs a step with its output in NAME.log; returns its exit code.
step() {
  local name=$1
  shift
  local start=$SECONDS
  echo "== $name: $*"
  "$@" > "$reports/$name.log" 2>&1
  local rc=$?
  printf '%-40s exit %3d  %5ds\n' "$name" "$rc" $((SECONDS - start)) | tee -a "$summary"
  return $rc
}

{
  echo "nightly-gpu $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "nvidia-smi: not available"
} | tee -a "$summary"

step configure cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARITY_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${PARITY_CUDA_ARCHS:-native}" \
  ${PARITY_FIXTURES_DIR:+-DPARITY_FIXTURES_DIR="$PARITY_FIXTURES_DIR"} || exit $?
step build cmake --build "$build" -j "$jobs" || exit $?
step synth-tiny cmake --build "$build" --target synth_models || exit $?

pv="$build/harness/pv"
models="$(cd "$build" && pwd)/models"  # where synth_models writes (harness/CMakeLists.txt)
export PARITY_MODELS_DIR="$models"
export PARITY_FIXTURES_DIR="${PARITY_FIXTURES_DIR:-$PWD/../shared/fixtures}"
step synth-bench-1024 "$pv" synth --preset bench-1024 --types q4_k_m,q8_0,f16 --apr none -o "$models" || exit $?

step ctest-gpu ctest --test-dir "$build" -L gpu --output-on-failure --output-junit "$reports/ctest-gpu.xml"
ctest_rc=$?

step contracts-gpu "$pv" run contracts/ --suite ctest.cfg --label gpu --report-dir "$reports/contracts"
run_rc=$?

extra_rc=0
for t in Q4_K_M Q8_0 F16; do
  f="$models/synth-qwen2-bench-1024-$t.gguf"
  step "contract-cpu-gpu-bench-1024-$t" "$pv" run contracts/cpu-gpu-layer-parity-v1.yaml --suite ctest.cfg \
    --path "gguf=model=$f" --path "gguf_cuda=model=$f" --report-dir "$reports/contract-bench-1024-$t" || extra_rc=1
  for p in ggml dequant; do
    step "bench-cuda-1024-$t-$p" sh -c "'$pv' bench '$f' --backend cuda --matmul $p --prompt-tokens 512 \
      --gen-tokens 128 --repeat 3 --json > '$reports/bench-cuda-1024-$t-$p.json'" || extra_rc=1
  done
done

rc=$run_rc
if [[ $rc == 0 && ( $ctest_rc != 0 || $extra_rc != 0 ) ]]; then rc=1; fi
echo "exit $rc (pv run $run_rc, ctest $ctest_rc, bench-1024 steps $extra_rc)" | tee -a "$summary"
exit $rc
