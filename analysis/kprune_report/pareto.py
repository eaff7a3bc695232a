"""Accuracy/latency Pareto frontier from latency jobs.

Join rule: a finished latency job L (dataset `latency` [K, 4]: batch, seq_len, mean ms,
std ms) of a model and task is joined to finished prune jobs J of the same model and task:
  1. if some parameter value of L is the job_id of a prune job, to that job (an explicit
     reference);
  2. else, if L names a pruner (summary column or a `pruner` parameter), to every J whose
     parameters agree with L's on every key both have, except `kind`;
  3. else L measured the unpruned teacher: a point at 0% reduction with the teacher's metric.
A point is one pruner variant at one FLOPs reduction and one (batch, seq_len): latency is the
mean over its latency jobs, the metric the mean over the joined prune jobs (seeds).
"""
import numpy as np
import pandas as pd

from kprune_report.figures import metric_label
from kprune_report.plotting import colours, file_stem, finish_layout, panel_grid, save
from kprune_report.selection import short_key
from kprune_report.tables import teacher_metrics

TEACHER = "teacher (unpruned)"
PARETO_COLUMNS = ["model", "task", "pruner", "flops_reduction", "batch", "seq_len",
                  "latency_ms", "latency_std_ms", "metric_name", "metric", "on_frontier"]


def _names_pruner(latency_job):
    if latency_job["pruner"]:
        return True
    return any(short_key(key) == "pruner" and value for key, value in
               latency_job["param"].items())


def joined_prune_jobs(latency_job, candidates):
    """The prune jobs a latency job measured (rules 1 and 2 above); None means the teacher."""
    referenced = candidates[candidates["job_id"].isin(set(latency_job["param"].values()))]
    if len(referenced):
        return referenced
    if not _names_pruner(latency_job):
        return None
    own = {key: value for key, value in latency_job["param"].items() if key != "kind"}

    def agrees(params):
        return all(params[key] == value for key, value in own.items() if key in params)

    return candidates[candidates["param"].map(agrees)]


def latency_points(jobs, prune_jobs):
    """Tidy table of Pareto points with an on_frontier flag (empty without latency jobs)."""
    latency_jobs = jobs[(jobs["kind"] == "latency") & (jobs["status"] == "done")
                        & jobs["latency"].map(lambda data: data is not None and len(data) > 0)]
    teachers = teacher_metrics(jobs, prune_jobs)
    rows = []
    for job in latency_jobs.to_dict("records"):
        candidates = prune_jobs[(prune_jobs["model"] == job["model"])
                                & (prune_jobs["task"] == job["task"])]
        joined = joined_prune_jobs(job, candidates)
        if joined is None:
            teacher = teachers.get((job["model"], job["task"]), np.nan)
            metric_name = "/".join(sorted(set(candidates["value_name"]))) or job["metric_name"]
            targets = [(TEACHER, 0.0, metric_name, teacher)]
        else:
            targets = [(variant, reduction, "/".join(sorted(set(group["value_name"]))),
                        group["value"].mean())
                       for (variant, reduction), group in
                       joined.groupby(["variant", "flops_reduction"], sort=True)]
        for batch, seq_len, mean_ms, std_ms in job["latency"]:
            for pruner, reduction, metric_name, metric in targets:
                rows.append(dict(model=job["model"], task=job["task"], pruner=pruner,
                                 flops_reduction=reduction, batch=int(batch),
                                 seq_len=int(seq_len), latency_ms=mean_ms,
                                 latency_std_ms=std_ms, metric_name=metric_name,
                                 metric=metric))
    if not rows:
        return pd.DataFrame(columns=PARETO_COLUMNS)
    points = pd.DataFrame(rows).groupby(
        ["model", "task", "pruner", "flops_reduction", "batch", "seq_len", "metric_name"],
        sort=True).agg(latency_ms=("latency_ms", "mean"), latency_std_ms=("latency_std_ms", "mean"),
                       metric=("metric", "mean")).reset_index()
    points = points[points["metric"].notna()].reset_index(drop=True)
    points["on_frontier"] = False
    for _, group in points.groupby(["model", "task", "batch", "seq_len"]):
        best = -np.inf
        for i in group.sort_values(["latency_ms", "metric"], ascending=[True, False]).index:
            if points.at[i, "metric"] > best:
                points.at[i, "on_frontier"] = True
                best = points.at[i, "metric"]
    return points[PARETO_COLUMNS]


def pareto_figures(points, out_dir, formats):
    """A figure per model and (batch, seq_len): panel per task, metric vs latency, with the
    frontier (points no faster point beats) as a step line."""
    paths = []
    for (model, batch, seq_len), by_shape in points.groupby(["model", "batch", "seq_len"]):
        tasks = sorted(by_shape["task"].unique())
        colour = colours(set(by_shape["pruner"]) - {TEACHER})
        fig, axes = panel_grid(len(tasks))
        for ax, task in zip(axes, tasks):
            by_task = by_shape[by_shape["task"] == task]
            for pruner, group in by_task.groupby("pruner", sort=True):
                style = (dict(color="black", marker="*", markersize=10) if pruner == TEACHER
                         else dict(color=colour[pruner], marker="o", markersize=4))
                ax.errorbar(group["latency_ms"], group["metric"], xerr=group["latency_std_ms"],
                            linestyle="none", capsize=2, label=pruner, **style)
            frontier = by_task[by_task["on_frontier"]].sort_values("latency_ms")
            ax.step(frontier["latency_ms"], frontier["metric"], where="post", color="grey",
                    linestyle="--", linewidth=1, label="Pareto frontier")
            ax.set_title(task)
            ax.set_xlabel(f"latency (ms per batch; batch {batch}, seq len {seq_len})")
            ax.set_ylabel(metric_label(by_task["metric_name"].iloc[0]))
        fig.suptitle(f"{model}: accuracy/latency trade-off")
        finish_layout(fig, axes)
        paths += save(fig, out_dir, file_stem("pareto", model, f"b{batch}", f"s{seq_len}"),
                      formats)
    return paths
