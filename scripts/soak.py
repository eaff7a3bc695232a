#!/usr/bin/python3
"""Kill-and-resume soak of kprune-sweep under mpirun (issue 19; docs/reliability.md).

Each round starts (or resumes) one sweep with several MPI ranks and SIGKILLs it at a random
moment: the coordinator, a worker, mpirun itself, the coordinator inside an HDF5 write (a
preloaded shim, tests/soak_kill_in_write.c), or the rank that runs the pretraining job once it
has saved a training state. After every round the results file must open, every row must
belong to the grid, no job may be recorded done twice, every done job must carry its exact
results, and no job found done before may be missing afterwards (nothing lost). When a sweep
completes, its pretrained checkpoint must be bitwise the one of an uninterrupted run, and the
next round starts a fresh file. Exit status 0 only when every round passed.

    /usr/bin/python3 scripts/soak.py --sweep build/experiments/kprune-sweep \\
        --shim build/tests/libsoak_kill_in_write.so --rounds 50
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

RATIOS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
MASK_SHAPE = (32, 64)
KILL_KINDS = ["coordinator", "worker", "mpirun", "in-write", "in-training"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", required=True, help="the kprune-sweep program")
    parser.add_argument("--shim", required=True, help="libsoak_kill_in_write.so")
    parser.add_argument("--shared", default=None, help="the shared/ folder (default ../shared)")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--ranks", type=int, default=4, help="MPI ranks (1 coordinator)")
    parser.add_argument("--tasks", type=int, default=4, help="stand-in tasks x 8 ratios")
    parser.add_argument("--train-steps", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default=None, help="default: a new temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    return parser.parse_args()


def write_config(path, work, shared, tasks, train_steps, output):
    task_list = ", ".join(f'"t{i}"' for i in range(tasks))
    ratios = ", ".join(str(r) for r in RATIOS)
    metrics = ", ".join(str(round(100 * r, 6)) for r in RATIOS)
    text = f"""[sweep]
name = "soak"
output = "{work}/{output}.h5"
artifacts = "{work}/{output}.artifacts"

[data]
vocab = "{shared}/data/vocab/bert-base-uncased-vocab.txt"

[grids.a_train]
kind = "pretrain"
corpus = "{work}/corpus.txt"
layers = 2
hidden = 32
heads = 2
ffn = 64
seq_len = 32
batch_size = 8
steps = {train_steps}
save_every = 10
seed = 0

[grids.jobs]
kind = "standin"
task = [{task_list}]
duration_s = 0.15
mask_shape = "{MASK_SHAPE[0]}x{MASK_SHAPE[1]}"

[[grids.jobs.zip]]
flops_reduction = [{ratios}]
metric = [{metrics}]
"""
    with open(path, "w") as f:
        f.write(text)


def write_corpus(path, shared):
    source = os.path.join(shared, "data/corpus/wikitext-2/wiki.valid.tokens")
    with open(source, encoding="utf-8") as f:
        lines = [line for line in f if len(line.split()) > 8][:400]
    if len(lines) < 100:
        raise SystemExit(f"soak: {source} has too few lines for the pretraining corpus")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)


def grid_jobs(sweep, config):
    """job id -> kind, from the dry run."""
    out = subprocess.run([sweep, config, "--dry-run"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"soak: dry run failed:\n{out.stdout}{out.stderr}")
    jobs = {}
    for line in out.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 2 and len(fields[0]) == 16 and fields[1] in ("pretrain", "standin"):
            jobs[fields[0]] = fields[1]
    return jobs


def mpirun_command(sweep, config, ranks, shim, kill_at_write):
    command = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(ranks),
               "-x", "OPENBLAS_NUM_THREADS=1", "-x", f"LD_PRELOAD={shim}"]
    if kill_at_write:
        command += ["-x", f"KPRUNE_SOAK_KILL_AT_WRITE={kill_at_write}"]
    return command + [sweep, config]


def ranks_of(mpirun_pid):
    """MPI rank -> pid of the processes mpirun started."""
    ranks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != mpirun_pid:
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
        except (OSError, ValueError, IndexError):
            continue
        if b"OMPI_COMM_WORLD_RANK" in env:
            ranks[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(entry)
    return ranks


def training_rank(logs_dir, train_id):
    """The rank running the pretraining job, from its log, or None."""
    rank = None
    try:
        with open(os.path.join(logs_dir, train_id + ".log")) as f:
            for line in f:  # "== <time> job <id> (<kind>) on <host> rank <r> pid <p> ..."
                fields = line.split()
                if line.startswith("== ") and "rank" in fields:
                    rank = int(fields[fields.index("rank") + 1])
    except (OSError, ValueError, IndexError):
        pass
    return rank


def read_file(path, jobs, train_sha):
    """Checks the results file; returns (done ids, problems)."""
    problems, done = [], set()
    if not os.path.exists(path):
        return done, problems
    try:
        f = h5py.File(path, "r")
    except OSError as error:
        return done, [f"the file does not open: {error}"]
    with f:
        if "summary" not in f:
            return done, problems
        summary = f["summary"][:]
        for row in summary:
            job_id = row["job_id"].decode()
            status = row["status"].decode()
            if job_id not in jobs:
                problems.append(f"row for job {job_id}, which is not in the grid")
                continue
            if status != "done":
                problems.append(f"job {job_id} recorded {status}: {row['error'].decode()}")
                continue
            if job_id in done:
                problems.append(f"job {job_id} recorded done twice")
            done.add(job_id)
            run = f.get(f"runs/{job_id}")
            if run is None:
                problems.append(f"job {job_id} is done but has no /runs group")
                continue
            if jobs[job_id] == "standin":
                expected = 100 * float(run.attrs["param.flops_reduction"])
                if abs(row["metric"] - expected) > 1e-9:
                    problems.append(f"job {job_id}: metric {row['metric']} != {expected}")
                masks = run["head_masks"][()]
                pattern = (np.arange(masks.size) % 2 == 0).astype(masks.dtype).reshape(MASK_SHAPE)
                if masks.shape != MASK_SHAPE or not np.array_equal(masks, pattern):
                    problems.append(f"job {job_id}: head_masks damaged")
            elif train_sha is not None and run.attrs["checkpoint_sha256"] != train_sha:
                problems.append(f"pretrain job {job_id}: checkpoint sha256 "
                                f"{run.attrs['checkpoint_sha256']} != uninterrupted {train_sha}")
    return done, problems


def stop_everything(process, rank_pids):
    """What a scheduler does to a dead job step: nothing of it survives. Ranks whose mpirun
    was killed live on as orphans (and the coordinator keeps writing): killed by pid too."""
    for pid in rank_pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"kprune-sweep" in f.read():  # not a recycled pid
                    os.kill(pid, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{pid}") for pid in rank_pids) and time.monotonic() < deadline:
        time.sleep(0.02)


def run_round(args, config, work, train_id, remaining, train_done, typical_s, rng):
    kind = rng.choice(KILL_KINDS)
    if kind == "in-training" and train_done:
        kind = "worker"
    kill_at_write = rng.randint(1, 3 * max(1, remaining)) if kind == "in-write" else None
    command = mpirun_command(args.sweep, config, args.ranks, args.shim, kill_at_write)
    log = open(os.path.join(work, "round.log"), "w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    started = time.monotonic()
    # Kill within the time the rest of the sweep needs, so that most rounds are interrupted.
    delay = rng.uniform(0.3, max(0.6, typical_s * remaining / args.total_jobs))
    state = os.path.join(work, "soak.artifacts", train_id, "pretrain-state.pt")
    victim = None
    rank_pids = set()
    while process.poll() is None:
        rank_pids.update(ranks_of(process.pid).values())
        elapsed = time.monotonic() - started
        if kind == "in-write":
            if elapsed > 4 * typical_s + 30:
                victim = "nothing (timeout)"
                break
        elif kind == "in-training":
            if os.path.exists(state):
                rank = training_rank(os.path.join(work, "soak.logs"), train_id)
                pid = ranks_of(process.pid).get(rank) if rank is not None else None
                if pid:
                    os.kill(pid, signal.SIGKILL)
                    victim = f"rank {rank} (training)"
                    break
            if elapsed > delay + 10:
                kind = "coordinator"  # the training is done: a plain kill instead
        if kind in ("coordinator", "worker", "mpirun") and elapsed >= delay:
            ranks = ranks_of(process.pid)
            rank_pids.update(ranks.values())
            if kind == "mpirun":
                os.kill(process.pid, signal.SIGKILL)
                victim = "mpirun"
                break
            choices = [0] if kind == "coordinator" else [r for r in ranks if r > 0]
            choices = [r for r in choices if r in ranks]
            if choices:
                rank = rng.choice(choices)
                os.kill(ranks[rank], signal.SIGKILL)
                victim = f"rank {rank}"
                break
        time.sleep(0.02)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    stop_everything(process, rank_pids)
    log.close()
    if victim is None and kind == "in-write":
        with open(os.path.join(work, "round.log"), errors="replace") as f:
            if "rank 0 with PID" in f.read():  # mpirun: "process rank 0 with PID ... signal 9"
                victim = f"coordinator in write {kill_at_write}"
    return kind, victim, process.returncode, time.monotonic() - started


def main():
    args = parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shared = os.path.abspath(args.shared or os.environ.get("KPRUNE_SHARED_DIR")
                             or os.path.join(repo, "..", "shared"))
    work = args.workdir or tempfile.mkdtemp(prefix="kprune-soak-")
    os.makedirs(work, exist_ok=True)
    rng = random.Random(args.seed)
    write_corpus(os.path.join(work, "corpus.txt"), shared)
    for name in ("soak", "reference"):
        write_config(os.path.join(work, name + ".toml"), work, shared, args.tasks,
                     args.train_steps, name)
    config = os.path.join(work, "soak.toml")
    jobs = grid_jobs(args.sweep, config)
    train_id = next(job_id for job_id, kind in jobs.items() if kind == "pretrain")
    args.total_jobs = len(jobs)

    started = time.monotonic()
    reference = subprocess.run(
        mpirun_command(args.sweep, os.path.join(work, "reference.toml"), args.ranks, args.shim,
                       None), capture_output=True, text=True)
    typical_s = time.monotonic() - started
    if reference.returncode != 0:
        raise SystemExit(f"soak: the uninterrupted run failed:\n{reference.stdout[-4000:]}"
                         f"{reference.stderr[-4000:]}")
    with h5py.File(os.path.join(work, "reference.h5"), "r") as f:
        train_sha = f[f"runs/{train_id}"].attrs["checkpoint_sha256"]
    print(f"soak: {len(jobs)} jobs on {args.ranks} ranks; an uninterrupted run takes "
          f"{typical_s:.1f} s; pretrained sha256 {train_sha[:16]}", flush=True)

    failures, completed, outcomes, previous_done = 0, 0, {}, set()
    for round_number in range(1, args.rounds + 1):
        remaining = len(jobs) - len(previous_done)
        kind, victim, code, seconds = run_round(args, config, work, train_id, remaining,
                                                train_id in previous_done, typical_s, rng)
        done, problems = read_file(os.path.join(work, "soak.h5"), jobs, train_sha)
        lost = previous_done - done
        if lost:
            problems.append(f"{len(lost)} job(s) done before are missing: {sorted(lost)[:4]}")
        finished = len(done) == len(jobs)
        if victim is None and not finished:
            problems.append(f"the sweep ended (exit {code}) without a kill and without "
                            f"finishing: {len(done)}/{len(jobs)} done")
        outcome = f"killed {victim}" if victim else "completed before the kill"
        category = f"{kind}: {'killed' if victim else 'completed first'}"
        outcomes[category] = outcomes.get(category, 0) + 1
        status = "FAIL" if problems else "ok"
        print(f"round {round_number:3d}: {kind:11s} {outcome:32s} {seconds:5.1f} s  "
              f"done {len(done):3d}/{len(jobs)}  {status}", flush=True)
        for problem in problems:
            print(f"    {problem}", flush=True)
        failures += bool(problems)
        previous_done = done
        if finished:
            completed += 1
            os.remove(os.path.join(work, "soak.h5"))
            for folder in ("soak.artifacts", "soak.logs"):
                shutil.rmtree(os.path.join(work, folder), ignore_errors=True)
            previous_done = set()
    # Finish the last file, then check it is complete.
    final = subprocess.run(mpirun_command(args.sweep, config, args.ranks, args.shim, None),
                           capture_output=True, text=True)
    done, problems = read_file(os.path.join(work, "soak.h5"), jobs, train_sha)
    if final.returncode != 0 or len(done) != len(jobs) or problems:
        failures += 1
        print(f"final resume: exit {final.returncode}, {len(done)}/{len(jobs)} done; {problems}")
    print(json.dumps({"rounds": args.rounds, "failed_rounds": failures,
                      "sweeps_completed": completed + 1, "outcomes": outcomes}))
    if not args.keep and not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
