#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS]: builds the libFuzzer targets (the `fuzz` preset: clang, ASan +
# UBSan) and runs each for SECONDS (default 60), one after another, with a 10 s limit per input.
# Findings (crash, sanitizer report, timeout, leak, out-of-memory) are written under
# build/fuzz/findings/<target>/, each target's output to build/fuzz/findings/<target>.log, and a
# JUnit report (one testcase per target) to build/fuzz/findings/junit.xml. Exits 1 when any
# target found something. Corpora grow across runs in build/fuzz/corpus/<target>/.
# Installs what it needs (Debian 12; as root or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS]   (SECONDS: a positive integer, default 60)" >&2
  exit 2
fi

# clang and its libFuzzer runtime, then the project's own packages.
missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update
  "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
./scripts/setup-debian.sh

jobs=$(nproc 2>/dev/null || echo 2)
cmake --preset fuzz
cmake --build --preset fuzz -j "$jobs"

build=build/fuzz
findings="$build/findings"
rm -rf "$findings"
mkdir -p "$findings"

# Seed corpora: a tiny synthetic model in both formats (made by pv), and the repository's YAML.
cmake -DPV="$build/harness/pv" -DOUT="$build/fuzz-seeds" -P engine/fuzz/make_seeds.cmake
cmake -DSRC="$PWD" -DOUT="$build/fuzz-seeds-yaml" -P harness/fuzz/make_seeds.cmake

# target  binary  seed directory  max_len  dictionary (- for none)
targets=(
  "gguf_parse_fuzz $build/engine/fuzz/gguf_parse_fuzz $build/fuzz-seeds/gguf 8192 -"
  "apr_parse_fuzz $build/engine/fuzz/apr_parse_fuzz $build/fuzz-seeds/apr 8192 -"
  "contract_fuzz $build/harness/fuzz/contract_fuzz $build/fuzz-seeds-yaml/contract 32768 harness/fuzz/yaml.dict"
  "suite_fuzz $build/harness/fuzz/suite_fuzz $build/fuzz-seeds-yaml/suite 8192 harness/fuzz/yaml.dict"
)

xml_escape() {
  tr -d '\000-\010\013\014\016-\037' | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
cases=""
failures=0
total_time=0
for entry in "${targets[@]}"; do
  read -r name binary seeds max_len dict <<<"$entry"
  corpus="$build/corpus/$name"
  mkdir -p "$corpus" "$findings/$name"
  cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  args=(-timeout=10 -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1
        -artifact_prefix="$findings/$name/")
  [ "$dict" = "-" ] || args+=(-dict="$dict")
  echo "fuzz: $name for ${seconds} s"
  start=$(date +%s.%N)
  rc=0
  "$binary" "${args[@]}" "$corpus" >"$findings/$name.log" 2>&1 || rc=$?
  elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  total_time=$(awk -v a="$total_time" -v b="$elapsed" 'BEGIN { printf "%.1f", a + b }')
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$findings/$name.log" | grep -o '[0-9]*$' || echo "?")
  cases+="    <testcase classname=\"fuzz\" name=\"$name\" time=\"$elapsed\">"$'\n'
  if [ "$rc" -ne 0 ]; then
    failures=$((failures + 1))
    artifacts=$(find "$findings/$name" -type f | tr '\n' ' ')
    echo "fuzz: $name FAILED (exit $rc) after ${elapsed} s; artifacts: ${artifacts:-none}; log: $findings/$name.log"
    cases+="      <failure message=\"exit $rc; artifacts: $(printf '%s' "${artifacts:-none}" | xml_escape)\">"
    cases+="$(tail -n 60 "$findings/$name.log" | xml_escape)</failure>"$'\n'
  else
    echo "fuzz: $name ok: $runs inputs in ${elapsed} s"
  fi
  cases+="      <system-out>$runs inputs in ${elapsed} s</system-out>"$'\n'
  cases+="    </testcase>"$'\n'
done

{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo "<testsuites name=\"fuzz\" tests=\"${#targets[@]}\" failures=\"$failures\" time=\"$total_time\">"
  echo "  <testsuite name=\"fuzz\" tests=\"${#targets[@]}\" failures=\"$failures\" errors=\"0\" time=\"$total_time\">"
  printf '%s' "$cases"
  echo "  </testsuite>"
  echo "</testsuites>"
} >"$findings/junit.xml"
echo "fuzz: ${#targets[@]} targets, $failures with findings; report: $findings/junit.xml"
[ "$failures" -eq 0 ]
