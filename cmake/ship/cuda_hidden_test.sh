#!/bin/sh
# A CUDA build of pv on a machine without CUDA: `pv validate contracts/` and `pv run --label smoke`
# must exit 0 with the CUDA libraries out of sight (their cuda paths SKIPPED), and pv itself must
# not link any CUDA library (it loads libparity_cuda.so on demand).
#
#   cuda_hidden_test.sh PV SOURCE_DIR MODELS_DIR FIXTURES_DIR WORK
#
# The libraries are hidden with `unshare -rm` (a private mount namespace as an unprivileged user)
# and a tmpfs over every folder that holds them (/usr/local/cuda and the ld.so.cache entries of
# cuBLAS, cudart and libcuda). Where unshare is not allowed, the module path points nowhere and
# LD_LIBRARY_PATH is cleared instead. Exits 77 (skipped) when neither can be set up.
set -u
if [ "${1:-}" = "--inside" ]; then
    shift
    inside=1
else
    inside=0
fi
pv=$1 src=$2 models=$3 fixtures=$4 work=$5

fail() { echo "FAIL: $*"; exit 1; }

checks() {
    # $1: what hides CUDA (for the messages)
    cd "$src" || fail "cannot enter $src"
    out=$("$pv" --version 2>&1) || fail "pv --version ($1) exited $?: $out"
    echo "$out" | grep '^cuda' || fail "pv --version ($1) printed no cuda line: $out"
    out=$("$pv" validate --quiet contracts/ 2>&1) || fail "pv validate contracts/ ($1) exited $?: $out"
    rm -rf "$work/reports"
    out=$(PARITY_MODELS_DIR="$models" PARITY_FIXTURES_DIR="$fixtures" \
          "$pv" run --suite ctest.cfg --label smoke --report-dir "$work/reports" --format json --color never 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] || fail "pv run --suite ctest.cfg --label smoke ($1) exited $rc:
$out"
    echo "$out" | tail -n 3
    echo "OK: pv validate and pv run --label smoke exit 0 ($1)"
    exit 0
}

if [ "$inside" -eq 1 ]; then
    shift 5
    for d in "$@"; do
        mount -t tmpfs none "$d" || fail "mount -t tmpfs over $d"
    done
    for d in "$@"; do
        [ -z "$(ls -A "$d")" ] || fail "$d is still visible"
    done
    unset LD_LIBRARY_PATH
    checks "CUDA hidden: tmpfs over $*"
fi

mkdir -p "$work" || fail "cannot create $work"
[ -x "$pv" ] || fail "$pv is not built"

# 1. pv links no CUDA library.
if command -v readelf >/dev/null 2>&1; then
    needed=$(readelf -d "$pv" | grep -E 'NEEDED|RUNPATH|RPATH')
    if echo "$needed" | grep -Eiq 'cublas|cudart|libcuda|/cuda'; then
        fail "$pv links CUDA (readelf -d):
$needed"
    fi
    echo "OK: $pv needs no CUDA library"
fi

# 2. The folders that hold the CUDA libraries.
dirs=""
for d in /usr/local/cuda $(ldconfig -p 2>/dev/null | awk '/libcublas|libcudart|libcuda\.so/ {print $NF}' | xargs -r -n1 dirname); do
    [ -d "$d" ] && dirs="$dirs $(realpath "$d")"
done
# Sorted, a folder comes before the folders inside it, which its tmpfs hides already.
kept=""
for d in $(printf '%s\n' $dirs | sort -u); do
    inside_kept=0
    for k in $kept; do
        case "$d/" in "$k"/*) inside_kept=1 ;; esac
    done
    [ "$inside_kept" -eq 1 ] || kept="$kept $d"
done
dirs=$kept

if [ -z "$dirs" ]; then
    env -u LD_LIBRARY_PATH sh "$0" --inside "$pv" "$src" "$models" "$fixtures" "$work"
    exit $?
fi
if command -v unshare >/dev/null 2>&1 && unshare -rm true 2>/dev/null; then
    # shellcheck disable=SC2086
    exec unshare -rm sh "$0" --inside "$pv" "$src" "$models" "$fixtures" "$work" $dirs
fi
echo "note: unshare -rm is not allowed here; hiding CUDA by pointing PARITY_CUDA_MODULE nowhere instead"
if ! env -u LD_LIBRARY_PATH true 2>/dev/null; then
    echo "SKIPPED: neither unshare -rm nor env -u works here, CUDA cannot be hidden"
    exit 77
fi
export PARITY_CUDA_MODULE="$work/no-such-dir/libparity_cuda.so"
unset LD_LIBRARY_PATH
checks "PARITY_CUDA_MODULE=$PARITY_CUDA_MODULE, LD_LIBRARY_PATH cleared"
