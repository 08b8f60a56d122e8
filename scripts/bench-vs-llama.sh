#!/usr/bin/env bash
# CPU speed side by side with llama.cpp's llama-bench, on the same GGUF files, threads and test
# sizes: prefill (ppN, one batch of N prompt tokens) and decode (tgN, N single-token steps).
# The two tools run alternately, ROUNDS times each per file, one repetition per run. The table
# gives each tool's best run (a shared machine only ever makes a run slower) and its median run,
# and the ratios ours / llama.cpp's of both. Nothing is asserted: the output is the measurement.
#
# Usage: scripts/bench-vs-llama.sh LLAMA_BENCH_DIR [PV] [MODEL_DIR]
#   LLAMA_BENCH_DIR  a directory holding llama-bench and its shared libraries
#   PV               the pv binary (default build/release/harness/pv)
#   MODEL_DIR        where the GGUF files are, made with `pv synth --preset bench-1024` when
#                    missing (default build/bench-1024)
#   TYPES=...        file types (default q4_k_m,q8_0,f16,q5_k_m,q6_k,q3_k_m,q4_0)
#   ROUNDS=N         runs of each tool per file (default 5)
#   THREADS=N PP=N TG=N   (defaults 2, 64, 32)
#   KV=f16|f32       our KV cache type (default f16, llama-bench's default cache type)
#
# llama-bench's tgN decodes from an empty context; ours follows a one-token prompt (pv bench
# decodes after its first prompt length, here 1), so both attend over about the same context.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_DIR=${1:?usage: scripts/bench-vs-llama.sh LLAMA_BENCH_DIR [PV] [MODEL_DIR]}
PV=${2:-build/release/harness/pv}
DIR=${3:-build/bench-1024}
TYPES=${TYPES:-q4_k_m,q8_0,f16,q5_k_m,q6_k,q3_k_m,q4_0}
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-2}
PP=${PP:-64}
TG=${TG:-32}
KV=${KV:-f16}
LLAMA_BENCH=$LLAMA_DIR/llama-bench

mkdir -p "$DIR"
file_of() { echo "$DIR/synth-qwen2-bench-1024-$(tr '[:lower:]' '[:upper:]' <<<"$1").gguf"; }
missing=()
for t in ${TYPES//,/ }; do [[ -f $(file_of "$t") ]] || missing+=("$t"); done
if ((${#missing[@]})); then
    (IFS=,; "$PV" synth --preset bench-1024 --types "${missing[*]}" --apr none -o "$DIR")
fi

# The value of column $2 in the llama-bench CSV row for (n_prompt, n_gen) = ($3, $4).
llama_csv_field() {
    awk -F'","' -v col="$2" -v np="$3" -v ng="$4" '
        NR == 1 { gsub(/"/, ""); n = split($0, h, ","); for (i = 1; i <= n; i++) idx[h[i]] = i; next }
        { gsub(/^"|"$/, ""); if ($idx["n_prompt"] == np && $idx["n_gen"] == ng) print $idx[col] }' <<<"$1"
}
# tok/s of test $2 (pp64, tg32) in pv bench's table.
pv_field() { awk -F'|' -v t="$2" '{ gsub(/ /, "", $2); gsub(/ /, "", $4) } $2 == t { print $4 }' <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
# "best median" of the numbers on stdin.
best_median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.1f %.1f", v[NR], (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

commit=""
rows=()
for t in ${TYPES//,/ }; do
    f=$(file_of "$t")
    pv_pp="" pv_tg="" ll_pp="" ll_tg=""
    for ((r = 0; r < ROUNDS; r++)); do
        out=$("$PV" bench "$f" --threads "$THREADS" --prompt-tokens "1,$PP" --gen-tokens "$TG" --kv-type "$KV" \
              --no-bandwidth --repeat 1)
        pv_pp+="$(pv_field "$out" "pp$PP")"$'\n'
        pv_tg+="$(pv_field "$out" "tg$TG")"$'\n'
        csv=$(LD_LIBRARY_PATH=$LLAMA_DIR "$LLAMA_BENCH" -m "$f" -p "$PP" -n "$TG" -t "$THREADS" -r 1 -o csv 2>/dev/null)
        ll_pp+="$(llama_csv_field "$csv" avg_ts "$PP" 0)"$'\n'
        ll_tg+="$(llama_csv_field "$csv" avg_ts 0 "$TG")"$'\n'
        commit=$(llama_csv_field "$csv" build_commit "$PP" 0)
    done
    read -r pv_pp_best pv_pp_med <<<"$(best_median <<<"$pv_pp")"
    read -r pv_tg_best pv_tg_med <<<"$(best_median <<<"$pv_tg")"
    read -r ll_pp_best ll_pp_med <<<"$(best_median <<<"$ll_pp")"
    read -r ll_tg_best ll_tg_med <<<"$(best_median <<<"$ll_tg")"
    rows+=("| $t | $pv_pp_best / $pv_pp_med | $ll_pp_best / $ll_pp_med | $(ratio "$pv_pp_best" "$ll_pp_best") / $(ratio "$pv_pp_med" "$ll_pp_med") | $pv_tg_best / $pv_tg_med | $ll_tg_best / $ll_tg_med | $(ratio "$pv_tg_best" "$ll_tg_best") / $(ratio "$pv_tg_med" "$ll_tg_med") |")
    echo "${rows[-1]}" >&2
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
echo "llama-bench: commit $commit, $LLAMA_BENCH -m FILE -p $PP -n $TG -t $THREADS -r 1 -o csv"
echo "pv: $PV bench FILE --threads $THREADS --prompt-tokens 1,$PP --gen-tokens $TG --kv-type $KV --no-bandwidth --repeat 1"
echo "$ROUNDS alternating runs each; tokens per second, best / median; ratios ours / llama.cpp's"
echo
echo "| file type | pv pp$PP | llama.cpp pp$PP | ratio | pv tg$TG | llama.cpp tg$TG | ratio |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
