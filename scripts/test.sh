#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs what kprune needs, builds it
# (warnings are errors) and runs the C++ tests (ctest), the parser fuzz targets (replay and a
# short smoke) and the analysis tests (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --slurm --fuzz
if [ ! -d ../shared/data ] && [ -z "${KPRUNE_SHARED_DIR:-}" ]; then
  echo "test.sh: ../shared (fixtures and data) is missing beside the checkout; the tests need it" >&2
  exit 1
fi
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
# One thread per test process: tests run side by side and must not oversubscribe the cores.
(cd build && OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 ctest --output-on-failure -j "$jobs")
# The parser fuzz targets (docs/fuzzing.md), in their own clang build: the regression inputs
# replayed, then each target fuzzed for KPRUNE_FUZZ_SMOKE_SECONDS (10 s).
bash scripts/fuzz.sh --build-only
(cd build-fuzz && ctest --output-on-failure)
/usr/bin/python3 -m pytest analysis/tests -q
