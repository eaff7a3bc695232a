#!/usr/bin/env bash
# Builds the parser fuzz targets (clang, ASan + UBSan, in build-fuzz; docs/fuzzing.md) and fuzzes
# each for N seconds, two at a time. New inputs are merged into CORPUS/<target>; the seeds are
# made from ../shared at every run. Prints per target: seconds, executions, coverage (cov, ft)
# and crashes (their inputs land in BUILD/crashes/<target>/). Exits 1 if any target crashed.
# Needs clang (scripts/install-deps.sh --fuzz).
#   scripts/fuzz.sh [--seconds N (600)] [--jobs J (2)] [--build-only] [--no-build]
#                   [--build-dir DIR (build-fuzz)] [--corpus DIR (BUILD/corpus)] [TARGET...]
set -euo pipefail
# One block, parsed whole before it runs: editing this file during a long run cannot derail it.
{
cd "$(dirname "$0")/.."
seconds=600 jobs=2 build=true run=true build_dir=build-fuzz corpus=
targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --build-only) run=false ;;
    --no-build) build=false ;;
    --build-dir) build_dir=$2; shift ;;
    --corpus) corpus=$2; shift ;;
    -*) sed -n '2,8p' "$0" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
corpus=${corpus:-$build_dir/corpus}
shared=${KPRUNE_SHARED_DIR:-../shared}

if $build; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DKPRUNE_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j "$(nproc)"
fi
$run || exit 0
if [ ${#targets[@]} -eq 0 ]; then
  for binary in "$build_dir"/fuzz/fuzz_*; do targets+=("${binary##*/fuzz_}"); done
fi
python3 fuzz/make_seeds.py "$shared" "$build_dir/seeds" >/dev/null

fuzz_one() {
  local target=$1 log=$build_dir/logs/$1.log artifacts=$build_dir/crashes/$1/
  mkdir -p "$corpus/$target" "$build_dir/seeds/$target" "$artifacts" "$build_dir/logs"
  # -timeout: an input that takes 10 s is a hang, reported like a crash.
  "$build_dir/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "$corpus/$target" "$build_dir/seeds/$target" >"$log" 2>&1 &
  local pid=$!
  wait "$pid" || true
  # libFuzzer exits without running destructors: the target's input folder (fuzz_support.h) stays.
  rm -rf "/dev/shm/kprune-fuzz-$pid" "${TMPDIR:-/tmp}/kprune-fuzz-$pid"
}

started=$(date +%s)
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$target" &
done
wait

status=0
printf '%-18s %8s %12s %7s %7s %8s  %s\n' target seconds executions cov ft corpus crashes
for target in "${targets[@]}"; do
  log=$build_dir/logs/$target.log
  # libFuzzer's last status line: "#N DONE cov: C ft: F corp: K/..."; its final stats follow.
  last=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  units=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")
  executions=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+)/\1/p' "$log")
  run_seconds=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log")
  crashes=$(find "$build_dir/crashes/$target" -type f -newermt "@$started" | tr '\n' ' ')
  if [ -n "$crashes" ] || ! grep -q '^Done [0-9]* runs' "$log"; then
    status=1
    crashes=${crashes:-"see $log"}
  fi
  printf '%-18s %8s %12s %7s %7s %8s  %s\n' "$target" "${run_seconds:--}" "${executions:--}" \
    "${cov:--}" "${ft:--}" "${units:--}" "${crashes:-none}"
done
exit $status
}
