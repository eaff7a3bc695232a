#!/usr/bin/env bash
# The embedded demo on a fresh Debian 12 machine: installs what kprune needs, builds it and runs
# the demo sweep (configs/demo.toml): it writes the synthetic sentiment task, trains a small
# teacher on it from random init, prunes it with every pruner at 40..80 % FLOPs reduction and
# evaluates each result; then prints the results table (kprune-report). Everything lands under
# out/demo/; running it again resumes (finished jobs are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)" --target kprune kprune-sweep
out=out/demo
mkdir -p "$out"
start=$(date +%s)
status=0
build/experiments/kprune-sweep configs/demo.toml sweep.output="$out/demo.h5" || status=$?
echo "demo: sweep finished in $(($(date +%s) - start)) s (exit status $status)"
scripts/kprune-report "$out/demo.h5" --out "$out/report" --no-figures >/dev/null
cat "$out/report/accuracy.md"
echo "demo: results in $out/demo.h5, tables in $out/report/, teacher and logs beside the results"
exit "$status"
