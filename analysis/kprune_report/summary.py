"""The run summary: what ran, what failed and why, where the time went, on what, with what code.

It covers every job in the file, whatever the report's filters.
"""
import numpy as np

# time.<name> of a retraining prune job, in the order of its pipeline.
RETRAINING_ACTIVITIES = ("importance", "train", "eval", "io")


def _hours(seconds):
    return f"{seconds:.1f} s ({seconds / 3600:.2f} h)"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _one_line(text):
    return " ".join(text.split()).replace("|", "\\|")


def _retraining_times(jobs, prune):
    """Where the retraining methods' time went, and the note that shared training is charged
    to every prune job that uses it (so pruning-time sums count it once per job)."""
    retraining = prune[prune["times"].map(lambda times: "train" in times)]
    lines = []
    if len(retraining):
        by_name = retraining.groupby("name")
        seconds = {activity: retraining["times"].map(lambda times, a=activity: times.get(a, 0.0))
                   .groupby(retraining["name"]).sum() for activity in RETRAINING_ACTIVITIES}
        lines += ["Retraining methods, by activity (dev evaluations are not pruning time):", ""]
        lines += _table(["method", "jobs", "importance (s)", "training (s)",
                         "dev evaluations (s)", "I/O (s)", "stopped at max_wall_s"],
                        [[name, len(group)]
                         + [f"{seconds[activity][name]:.1f}" for activity in RETRAINING_ACTIVITIES]
                         + [int(group["censored"].sum())] for name, group in by_name])
    shared = jobs[jobs["kind"] == "retrain"]
    if len(shared):
        lines += [f"Shared training (kind retrain, jobs: {len(shared)}): "
                  f"{shared['wall_time_s'].sum():.1f} s wall. Its time is charged in full to the "
                  f"pruning time of every prune job that uses it (DynaBERT: every reduction and "
                  f"both variants), so the sums above count it once per such job.", ""]
    return lines


def run_summary(results):
    jobs = results.jobs
    attrs = results.attrs
    lines = [f"# Run summary: {results.path.name}", "",
             f"- file: `{results.path}`",
             f"- written by: {attrs.get('kprune_version', 'unknown')}, created "
             f"{attrs.get('created', 'unknown')}",
             f"- config: `{attrs.get('config_path', 'unknown')}`", ""]

    lines += ["## Jobs", ""]
    counts = jobs.groupby(["kind", "status"]).size().unstack(fill_value=0)
    rows = [[kind, int(row.get("done", 0)), int(row.get("failed", 0)), int(row.sum())]
            for kind, row in counts.iterrows()]
    rows.append(["all", int((jobs["status"] == "done").sum()),
                 int((jobs["status"] == "failed").sum()), len(jobs)])
    lines += _table(["kind", "done", "failed", "total"], rows)

    failed = jobs[jobs["status"] == "failed"]
    lines += [f"## Failed jobs ({len(failed)})", ""]
    if len(failed):
        lines += _table(["job_id", "kind", "model", "task", "pruner", "FLOPs reduction", "seed",
                         "host", "error"],
                        [[job.job_id, job.kind, job.model, job.task, job.pruner or "–",
                          "–" if np.isnan(job.flops_reduction)
                          else f"{job.flops_reduction * 100:g}%", job.seed, job.host,
                          _one_line(job.error) or "(no message)"]
                         for job in failed.itertuples()])
    else:
        lines += ["None.", ""]

    lines += ["## Compute time", "",
              f"Total wall time of all jobs: {_hours(jobs['wall_time_s'].sum())}.", ""]
    prune = jobs[jobs["kind"] == "prune"]
    if len(prune):
        # A row per table row name's base: DynaBERT-w and DynaBERT-d share the pruner dynabert.
        prune = prune.assign(name=[label or pruner
                                   for label, pruner in zip(prune["label"], prune["pruner"])])
        per_pruner = prune.groupby("name").agg(
            jobs=("job_id", "count"), wall=("wall_time_s", "sum"),
            prune=("prune_time_s", "sum"), mean_prune=("prune_time_s", "mean"))
        lines += _table(["pruner", "jobs", "wall time (s)", "pruning time (s)",
                         "mean pruning time per job (s)"],
                        [[pruner, int(row.jobs), f"{row.wall:.1f}", f"{row.prune:.1f}",
                          f"{row.mean_prune:.2f}"] for pruner, row in per_pruner.iterrows()])
    lines += _retraining_times(jobs, prune)
    per_kind = jobs.groupby("kind")["wall_time_s"].sum()
    lines += _table(["kind", "wall time (s)"],
                    [[kind, f"{seconds:.1f}"] for kind, seconds in per_kind.items()])

    lines += ["## Hardware", ""]
    hosts = jobs.groupby(["host", "device"]).agg(jobs=("job_id", "count"),
                                                 ranks=("rank", "nunique"),
                                                 peak_rss=("peak_rss_mb", "max"))
    lines += _table(["host", "device", "jobs", "MPI ranks", "peak RSS (MB)"],
                    [[host, device or "–", int(row.jobs), int(row.ranks),
                      "–" if np.isnan(row.peak_rss) else f"{row.peak_rss:.0f}"]
                     for (host, device), row in hosts.iterrows()])

    lines += ["## Code versions", ""]
    versions = jobs["code_version"].replace("", "(not recorded)").value_counts()
    lines += _table(["code version", "jobs"], [[v, n] for v, n in versions.items()])
    if len(versions) > 1:
        lines += ["Note: jobs were run with more than one code version.", ""]
    return "\n".join(lines)
