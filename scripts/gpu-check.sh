#!/usr/bin/env bash
# The CUDA backend's check on a GPU machine:
#   1. the kernel and forward-pass tests (engine_cuda_host_tests, engine_cuda_tests: what
#      `ctest -L gpu` runs for the engine), under the plain runtime;
#   2. the memcheck of the kernel tests (compute-sanitizer), when the tool is there;
#   3. the contracts labeled gpu on the tiny synthetic models (pv run --label gpu), then the
#      CPU-vs-GPU contract on bench-1024 (Q4_K_M, Q8_0, F16) and bench-7b (Q4_K_M);
#   4. pv bench --backend cuda (and the CPU for scale on bench-1024) on those models.
#
# Usage:
#   scripts/gpu-check.sh prepare [BUNDLE]   build here (nvcc, no GPU needed) and pack the binaries
#                                           and the shared libraries they need into BUNDLE
#                                           (default build/gpu-bundle, ~25 MB, git-ignored)
#   scripts/gpu-check.sh run [BUNDLE]       on the GPU machine (copy BUNDLE there first): run
#                                           everything from BUNDLE
#   scripts/gpu-check.sh all                both on one machine (it needs the build dependencies)
#
# Results: $OUT when set, else reports/gpu-check-DATE: gpu-check.log (every
# step's output and exit code), summary.txt, reports.tgz (gtest XML, contract reports, bench
# JSON). Exit code: 0 when every step passed (skips allowed where a step says so), else 1.
# Step budgets (seconds) can be changed through the environment (GPU_CHECK_*).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=${1:-all}
bundle=${2:-build/gpu-bundle}
case "$bundle" in /*) ;; *) bundle="$root/$bundle" ;; esac

prepare() {
  local build=${GPU_CHECK_BUILD_DIR:-build/gpu-check}
  set -e
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARITY_CUDA=ON \
        -DCMAKE_CUDA_ARCHITECTURES="${GPU_CHECK_CUDA_ARCHS:-90}" >/dev/null
  cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target pv engine_cuda_tests engine_cuda_host_tests
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib"
  # pv loads its CUDA module from its own folder (engine/runtime/cuda_module.h).
  cp "$build/harness/pv" "$build/harness/libparity_cuda.so" "$build/engine/tests/engine_cuda_tests" \
     "$build/engine/tests/engine_cuda_host_tests" "$bundle/bin/"
  strip "$bundle"/bin/* 2>/dev/null || true
  # The shared libraries a bare CUDA image may lack (cuBLAS and cudart come with CUDA itself).
  for lib in $(ldd "$bundle/bin/pv" "$bundle/bin/libparity_cuda.so" "$bundle/bin/engine_cuda_tests" | awk '/=>/ {print $3}' | sort -u); do
    case "$(basename "$lib")" in
      libyaml-cpp*|libboost_*|libgomp*) cp -L "$lib" "$bundle/lib/" ;;
    esac
  done
  git rev-parse HEAD > "$bundle/COMMIT" 2>/dev/null || true
  git status --short > "$bundle/DIRTY" 2>/dev/null || true
  du -sh "$bundle"
  set +e
}

run() {
  local out=${OUT:-$root/reports/gpu-check-$(date -u +%F)}
  mkdir -p "$out"
  local work=${GPU_CHECK_WORK:-/tmp/gpu-check}
  rm -rf "$work"
  mkdir -p "$work/models" "$work/reports"
  local log="$out/gpu-check.log"
  local summary="$out/summary.txt"
  : > "$log"
  : > "$summary"
  local cuda_libs=/usr/local/cuda/lib64:/usr/local/cuda/lib:/usr/local/cuda/targets/x86_64-linux/lib
  export LD_LIBRARY_PATH="$bundle/lib:$cuda_libs:${LD_LIBRARY_PATH:-}"
  local pv="$bundle/bin/pv"
  local failed=0
  local t0=$SECONDS

  # step NAME BUDGET_SECONDS OK_CODES COMMAND...: runs one step, logs it, records its code.
  step() {
    local name=$1 budget=$2 ok=$3
    shift 3
    local start=$SECONDS
    echo "=== $name (budget ${budget}s): $*" >> "$log"
    timeout --kill-after=10 "$budget" "$@" >> "$log" 2>&1
    local rc=$?
    local verdict=ok
    if [[ " $ok " != *" $rc "* ]]; then verdict=FAILED; failed=1; fi
    printf '%-44s exit %3d  %4ds  %s\n' "$name" "$rc" $((SECONDS - start)) "$verdict" | tee -a "$summary"
    echo "=== $name: exit $rc after $((SECONDS - start))s ($verdict)" >> "$log"
  }

  {
    echo "gpu-check $(date -u +%FT%TZ) commit $(cat "$bundle/COMMIT" 2>/dev/null || echo unknown)"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
  } | tee -a "$summary"

  # 0. Every shared library found (cuBLAS comes from the machine's CUDA).
  if ldd "$bundle/bin/pv" "$bundle/bin/libparity_cuda.so" "$bundle/bin/engine_cuda_tests" | grep "not found" | tee -a "$summary"; then
    echo "missing shared libraries: see above" | tee -a "$summary"
    return 1
  fi

  # 1. Kernel and forward-pass tests (each GPU test exits 77 = skipped without a device).
  step host-tests 60 0 "$bundle/bin/engine_cuda_host_tests" --gtest_output="xml:$work/reports/host-tests.xml"
  step gpu-tests 240 0 "$bundle/bin/engine_cuda_tests" --gtest_output="xml:$work/reports/gpu-tests.xml"

  # 2. memcheck of the kernel tests (not the forward tests: their CPU references are slow under it).
  if command -v compute-sanitizer >/dev/null; then
    step memcheck-kernels "${GPU_CHECK_MEMCHECK_S:-120}" 0 compute-sanitizer --tool memcheck --error-exitcode 3 \
      "$bundle/bin/engine_cuda_tests" --gtest_filter='*CudaDequantize*:*CudaMatmul*:*CudaRoundtrip*:CudaRmsNorm*:*CudaRope*:*CudaAttention*:CudaSwiglu*:CudaElementwise*:CudaStats*'
  else
    echo "compute-sanitizer not found: memcheck skipped" | tee -a "$summary"
  fi

  # 3. Contracts labeled gpu on the tiny pair (exit 77 = everything skipped counts as a failure here:
  #    on a GPU machine the gpu tests must run).
  local m="$work/models"
  step synth-tiny 60 0 "$pv" synth --preset tiny --types f32,q8_0,q4_k_m --apr f32 -o "$m"
  export PARITY_MODELS_DIR="$m"
  export PARITY_FIXTURES_DIR="${PARITY_FIXTURES_DIR:-$root/../shared/fixtures}"
  step contracts-gpu-tiny 120 0 "$pv" run contracts/ --suite ctest.cfg --label gpu --report-dir "$work/reports/contracts-tiny"

  # The CPU-vs-GPU contract on bigger models: the suite's gguf / gguf_cuda paths pointed at them.
  step synth-bench-1024 120 0 "$pv" synth --preset bench-1024 --types q4_k_m,q8_0,f16 --apr none -o "$m"
  for t in Q4_K_M Q8_0 F16; do
    local f="$m/synth-qwen2-bench-1024-$t.gguf"
    step "contract-cpu-gpu-bench-1024-$t" 120 0 "$pv" run contracts/cpu-gpu-layer-parity-v1.yaml --suite ctest.cfg \
      --path "gguf=model=$f" --path "gguf_cuda=model=$f" --report-dir "$work/reports/contract-bench-1024-$t"
  done

  # 4. Throughput: bench-1024 on both backends and policies, then bench-7b on the GPU.
  for t in Q4_K_M Q8_0 F16; do
    local f="$m/synth-qwen2-bench-1024-$t.gguf"
    for p in ggml dequant; do
      step "bench-cuda-bench-1024-$t-$p" 120 0 sh -c "'$pv' bench '$f' --backend cuda --matmul $p --prompt-tokens 512 \
        --gen-tokens 128 --repeat 2 --json > '$work/reports/bench-cuda-1024-$t-$p.json'"
    done
  done
  step bench-cpu-bench-1024-Q4_K_M 120 0 sh -c "'$pv' bench '$m/synth-qwen2-bench-1024-Q4_K_M.gguf' --backend cpu \
    --prompt-tokens 64 --gen-tokens 16 --json > '$work/reports/bench-cpu-1024-Q4_K_M.json'"

  if (( SECONDS - t0 < ${GPU_CHECK_7B_DEADLINE_S:-300} )); then
    step synth-bench-7b 240 0 "$pv" synth --preset bench-7b --types q4_k_m --apr none -o "$m"
    local f7="$m/synth-qwen2-bench-7b-Q4_K_M.gguf"
    step contract-cpu-gpu-bench-7b-Q4_K_M 150 0 "$pv" run contracts/cpu-gpu-layer-parity-v1.yaml --suite ctest.cfg \
      --path "gguf=model=$f7" --path "gguf_cuda=model=$f7" --report-dir "$work/reports/contract-bench-7b-Q4_K_M"
    for p in ggml dequant; do
      step "bench-cuda-bench-7b-Q4_K_M-$p" 120 0 sh -c "'$pv' bench '$f7' --backend cuda --matmul $p --prompt-tokens 256 \
        --gen-tokens 64 --json > '$work/reports/bench-cuda-7b-Q4_K_M-$p.json'"
    done
  else
    echo "bench-7b skipped: $((SECONDS - t0))s already spent (GPU_CHECK_7B_DEADLINE_S)" | tee -a "$summary"
    failed=1
  fi

  tar -C "$work" -czf "$out/reports.tgz" reports
  echo "total $((SECONDS - t0))s; $([[ $failed == 0 ]] && echo PASSED || echo FAILED)" | tee -a "$summary"
  return $failed
}

case "$mode" in
  prepare) prepare ;;
  run) run; exit $? ;;
  all) prepare && { run; exit $?; } ;;
  *) echo "usage: $0 prepare|run|all [BUNDLE]" >&2; exit 2 ;;
esac
