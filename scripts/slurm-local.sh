#!/usr/bin/env bash
# A throw-away single-node Slurm cluster (munged + slurmctld + slurmd) for tests and trying the
# sbatch templates on one machine. Everything lives under DIR: a generated slurm.conf, a fresh
# munge key, state, logs and sockets; nothing under /etc is touched. Needs root (slurmd does)
# and the packages `slurmctld slurmd slurm-client munge` (scripts/install-deps.sh --slurm).
#   eval "$(scripts/slurm-local.sh start DIR)"   # prints `export SLURM_CONF=DIR/slurm.conf`
#   sbatch --wait ... ; scripts/slurm-local.sh stop DIR
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

stop_cluster() {
  for daemon in slurmd slurmctld munged; do
    pidfile="$dir/$daemon.pid"
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      # Wait for it to exit: slurmctld writes its state on the way out.
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ] || break
        sleep 0.2
      done
      rm -f "$pidfile"
    fi
  done
}

start_cluster() {
  for tool in munged mungekey slurmctld slurmd sbatch scontrol; do
    command -v "$tool" >/dev/null || {
      echo "slurm-local: '$tool' not found; run scripts/install-deps.sh --slurm" >&2
      exit 1
    }
  done
  [ "$(id -u)" -eq 0 ] || {
    echo "slurm-local: slurmd needs root (it runs jobs as their owner)" >&2
    exit 1
  }
  stop_cluster
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
  chmod 700 "$dir/munge"
  rm -f "$dir/munge/munge.key"
  mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 ||
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
  chmod 400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed"

  local node cpus memory port
  node=$(hostname -s)
  # `nproc` obeys OMP_NUM_THREADS (ctest sets it to 1): ask for the processors themselves.
  cpus=$(getconf _NPROCESSORS_ONLN)
  memory=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
  # Two free ports next to each other, so that a second cluster (another CI job) can run too.
  port=$(python3 -c 'import socket
for p in range(16817, 17817, 2):
    ok = True
    for q in (p, p + 1):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", q))
        except OSError:
            ok = False
        s.close()
    if ok:
        print(p)
        break' 2>/dev/null || echo 16817)
  cat >"$dir/slurm.conf" <<EOF
ClusterName=kprune-local
SlurmctldHost=$node
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
InactiveLimit=0
KillWait=30
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$node CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -i -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  for _ in $(seq 1 60); do
    if scontrol ping 2>/dev/null | grep -q UP &&
      sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 0.5
  done
  echo "slurm-local: the cluster did not come up in 30 s; logs: $dir/slurmctld.log $dir/slurmd.log" >&2
  tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
  stop_cluster
  exit 1
}

case $action in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
