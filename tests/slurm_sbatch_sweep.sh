#!/usr/bin/env bash
# End-to-end Slurm test: starts a throw-away single-node cluster (scripts/slurm-local.sh) and
# submits sweeps through both sbatch templates, as a user would on a cluster:
#   slurm/sweep-srun.sbatch   (srun --mpi=pmix)  runs CONFIG_SRUN (in CI the demo sweep,
#                             cut by overrides to its teacher and 2 prune jobs: real jobs, ~1 min)
#   slurm/sweep-mpirun.sbatch (mpirun)           runs CONFIG_MPIRUN (stand-in jobs)
# then checks each HDF5 file with h5py: every job of the dry-run listing is there exactly once
# and done, run by the worker rank, and a resubmission runs nothing (resume). A broken config
# (a teacher that is not there) ends at the templates' --check, before any rank starts.
#   tests/slurm_sbatch_sweep.sh KPRUNE_SWEEP REPO CONFIG_SRUN CONFIG_MPIRUN [OVERRIDE...]
# OVERRIDEs (key=value) apply to CONFIG_SRUN.
set -euo pipefail
[ $# -ge 4 ] || {
  echo "usage: $0 KPRUNE_SWEEP REPO CONFIG_SRUN CONFIG_MPIRUN [OVERRIDE...]" >&2
  exit 2
}
sweep_bin=$1
repo=$2
config_srun=$3
config_mpirun=$4
srun_overrides=("${@:5}")
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: slurmd must run as root to start jobs; run the suite as root (CI does)" >&2
  exit 77
fi
command -v sbatch >/dev/null || {
  echo "FAIL: Slurm is not installed; scripts/install-deps.sh --slurm installs it" >&2
  exit 1
}

if [ "$(getconf _NPROCESSORS_ONLN)" -lt 2 ]; then
  echo "FAIL: the test runs a coordinator and a worker rank (sbatch -n 2): it needs 2 CPUs" >&2
  exit 1
fi

work=$(mktemp -d /tmp/kprune-slurm-test.XXXXXX)
cleanup() {
  bash "$repo/scripts/slurm-local.sh" stop "$work/cluster" || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
cluster_env=$(bash "$repo/scripts/slurm-local.sh" start "$work/cluster")
eval "$cluster_env"
# mpirun refuses root unless told; on a real cluster users are not root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export KPRUNE_SWEEP="$sweep_bin"

submit() {  # submit TEMPLATE CONFIG OUTPUT.h5 [OVERRIDE...]: waits for the job, fails with its log
  local template=$1 config=$2 output=$3 log
  log="$work/$(basename "$template" .sbatch)-$RANDOM.out"
  # A job Slurm cannot place would wait forever: give up after 15 minutes.
  if ! (cd "$repo" && timeout 900 sbatch --wait --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 \
    --time=20 --output="$log" "$template" "$config" "sweep.output=$output" "${@:4}" >/dev/null); then
    echo "FAIL: sbatch $template $config; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  cat "$log"
}

check_results() {  # check_results CONFIG OUTPUT.h5 EXPECTED_JOBS
  /usr/bin/python3 - "$@" <<'EOF'
import sys
import h5py

config, path, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(path, "r") as f:
    rows = f["summary"][:]
    ids = [r.decode() for r in rows["job_id"]]
    status = [s.decode() for s in rows["status"]]
    ranks = set(int(r) for r in rows["rank"])
    problems = []
    if len(ids) != expected:
        problems.append(f"{len(ids)} summary rows, the dry run listed {expected} jobs")
    if len(set(ids)) != len(ids):
        problems.append("a job id appears twice")
    failed = [(i, e.decode()) for i, s, e in zip(ids, status, rows["error"]) if s != "done"]
    if failed:
        problems.append(f"not done: {failed[:3]}")
    if ranks != {1}:
        problems.append(f"jobs ran on ranks {sorted(ranks)}, expected the one worker (rank 1)")
    missing = [i for i in ids if i not in f["runs"]]
    if missing:
        problems.append(f"no /runs group for {missing[:3]}")
if problems:
    sys.exit(f"FAIL {config} -> {path}: " + "; ".join(problems))
print(f"ok {config}: {expected} jobs done in {path}")
EOF
}

job_count() {  # job_count CONFIG OUTPUT [OVERRIDE...]: the jobs the dry run lists for a new file
  (cd "$repo" && "$sweep_bin" "$1" --dry-run "sweep.output=$2" "${@:3}") |
    sed -n 's/^\([0-9]\+\) job(s):.*/\1/p'
}

for pair in "$repo/slurm/sweep-srun.sbatch:$config_srun" "$repo/slurm/sweep-mpirun.sbatch:$config_mpirun"; do
  template=${pair%%:*}
  config=${pair#*:}
  output="$work/$(basename "$template" .sbatch).h5"
  overrides=()
  [ "$config" != "$config_srun" ] || overrides=("${srun_overrides[@]}")
  expected=$(job_count "$config" "$output" "${overrides[@]}")
  [ -n "$expected" ] || {
    echo "FAIL: no job count in the dry run of $config" >&2
    exit 1
  }
  submit "$template" "$config" "$output" "${overrides[@]}" | tail -n 3
  check_results "$config" "$output" "$expected"
  # Resubmitting the same command resumes: nothing left to run, no row added.
  again=$(submit "$template" "$config" "$output" "${overrides[@]}")
  echo "$again" | grep -q "0 done, 0 failed, $expected skipped" || {
    echo "FAIL: the resubmitted sweep did not skip all $expected jobs:" >&2
    echo "$again" | tail -n 5 >&2
    exit 1
  }
  check_results "$config" "$output" "$expected"
done

# A broken config ends at the check: the job fails, its log names the missing teacher and the
# config line that asked for it, and no results file is written.
broken="$work/broken.toml"
cat >"$broken" <<'EOF'
[sweep]
name = "broken"

[models.absent]
checkpoints = { sst2 = "/nonexistent/teacher-sst2" }

[grids.main]
kind = "prune"
model = "absent"
task = "sst2"
pruner = "kwon"
flops_reduction = 0.5
EOF
log="$work/broken.out"
if (cd "$repo" && timeout 300 sbatch --wait --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 \
  --time=5 --output="$log" slurm/sweep-srun.sbatch "$broken" "sweep.output=$work/broken.h5" \
  >/dev/null); then
  echo "FAIL: the sweep of a broken config succeeded; its log:" >&2
  cat "$log" >&2
  exit 1
fi
grep -q "/nonexistent/teacher-sst2: not a directory" "$log" &&
  grep -q "asked by $broken:5 (checkpoint)" "$log" || {
  echo "FAIL: the broken config's log does not name the missing teacher and its line:" >&2
  cat "$log" >&2
  exit 1
}
[ ! -e "$work/broken.h5" ] || {
  echo "FAIL: the broken config wrote $work/broken.h5" >&2
  exit 1
}
echo "ok broken config: ended at the check"
