#!/usr/bin/env bash
# Installs every system package kprune needs on Debian 12 (idempotent; needs root or sudo).
#   --slurm  also Slurm and munge, for the test that runs sweeps through sbatch on a local
#            single-node cluster (scripts/slurm-local.sh); no daemon is enabled or configured.
#   --fuzz   also clang with its libFuzzer and sanitizer runtimes, for the fuzz targets
#            (scripts/fuzz.sh, docs/fuzzing.md).
set -euo pipefail
with_slurm=false
with_fuzz=false
for arg in "$@"; do
  case $arg in
    --slurm) with_slurm=true ;;
    --fuzz) with_fuzz=true ;;
    *) echo "usage: $0 [--slurm] [--fuzz]" >&2; exit 2 ;;
  esac
done
packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-pthread
  libopenmpi-dev openmpi-bin
  libhdf5-dev libtomlplusplus-dev libfmt-dev libspdlog-dev
  libgtest-dev nlohmann-json3-dev libcli11-dev libutf8proc-dev libbenchmark-dev
  python3-h5py python3-pandas python3-matplotlib python3-pytest
)
if $with_slurm; then
  packages+=(slurmctld slurmd slurm-client munge)
fi
if $with_fuzz; then
  packages+=(clang clang-14 libclang-rt-14-dev)
fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# kprune-report (analysis/) on PATH; a symlink, since the wrapper finds the repository through it.
repo=$(cd "$(dirname "$0")/.." && pwd)
"${sudo_cmd[@]}" ln -sf "$repo/scripts/kprune-report" /usr/local/bin/kprune-report
