"""Time to reach the reference's accuracy: how much longer the retraining methods (DynaBERT,
EBERT) prune than K-prune for the same accuracy (shared/docs/retraining-baselines.md §3.3).

A retraining job is a finished prune job with a learning curve (/runs/<id>/curve). Its t_reach
is the first checkpoint time at which its metric reaches acc_K − ε, acc_K being the mean metric
of the reference pruner's seeds at the same model, task and FLOPs reduction; a checkpoint counts
only when it also meets the FLOPs target (within FLOPS_SLACK), so that a larger, more accurate
model early in EBERT's training does not count as reaching. R_reach = t_reach / t_K, t_K the
reference's mean pruning time. The metric is always each task's main metric: the curves
record no other.
"""
import math

import numpy as np
import pandas as pd

from kprune_report.errors import ReportError
from kprune_report.tables import format_percent

DEFAULT_REFERENCE = "kprune"
# The spec's second tolerance, always reported beside --epsilon (points of the metric).
EXTRA_EPSILON = 0.5
# A checkpoint meets a target ρ when its FLOPs reduction is at least ρ − this (EBERT's soft
# average lands near, not on, the target; DynaBERT's sub-network is at or above it).
FLOPS_SLACK = 0.01
# Float noise: a curve value of 85.7 reaches a mean printed as 85.7 but stored as 85.69999.
TOLERANCE = 1e-9
KEYS = ["model", "task", "flops_reduction", "method"]
SUFFIX = f"_eps{EXTRA_EPSILON:g}"


def has_curve(prune_jobs):
    """Which prune jobs are retraining jobs (they have a learning curve)."""
    return prune_jobs["curve"].map(lambda curve: curve is not None).astype(bool)


def check_epsilon(epsilon):
    if not math.isfinite(epsilon) or epsilon < 0:
        raise ReportError(f"--epsilon {epsilon:g}: expected a tolerance in points >= 0")


def resolve_reference(prune_jobs, name, explicit):
    """The reference row name, or None when the default is absent (nothing to compare with).

    A name given with --reference must be a retraining-free row of the results: a typo, or a
    retraining method, would otherwise silently drop the efficiency report.
    """
    rows = set(prune_jobs[~has_curve(prune_jobs)]["variant"])
    if name in rows:
        return name
    if explicit:
        raise ReportError(f"--reference {name}: not a retraining-free row of the results "
                          f"(rows: {', '.join(sorted(rows)) or 'none'})")
    return None


def meets_target(curve, target):
    """Per checkpoint: does its FLOPs reduction meet the job's target (within FLOPS_SLACK)?"""
    return (curve["flops_reduction"] >= target - FLOPS_SLACK - TOLERANCE).to_numpy()


def first_reach(curve, target, threshold):
    """The first checkpoint whose metric is at least threshold while meeting the FLOPs target:
    (time, step), or (NaN, -1) when no checkpoint does (the result is censored)."""
    reached = meets_target(curve, target) & (curve["metric"] >= threshold - TOLERANCE).to_numpy()
    if not reached.any():
        return np.nan, -1
    first = int(np.argmin(np.where(reached, curve["t"].to_numpy(), np.inf)))
    return float(curve["t"].iloc[first]), int(curve["step"].iloc[first])


def time_to_reach(curve, target, threshold):
    """The smallest checkpoint time that reaches threshold (first_reach); NaN when none does."""
    return first_reach(curve, target, threshold)[0]


def _best(curve, target):
    meets = meets_target(curve, target)
    return float(curve["metric"][meets].max()) if meets.any() else np.nan


def _achieved(job):
    """The FLOPs reduction the job's result achieved (details, else its last checkpoint)."""
    value = job.details.get("flops_reduction")
    if isinstance(value, (int, float)):
        return float(value)
    return float(job.curve["flops_reduction"].iloc[-1]) if len(job.curve) else np.nan


def _eval_seconds(job):
    if "eval" in job.times:
        return job.times["eval"]
    curve = job.curve
    return float(curve["t_eval"].iloc[-1]) if "t_eval" in curve and len(curve) else np.nan


def _reach_columns(job, acc_k, t_k, epsilon, suffix):
    if np.isnan(acc_k):  # the reference was not run at this reduction: nothing to reach
        return {f"t_reach_s{suffix}": np.nan, f"R_reach{suffix}": np.nan,
                f"censored{suffix}": None, f"untrained{suffix}": None}
    t_reach, step = first_reach(job.curve, job.flops_reduction, acc_k - epsilon)
    return {f"t_reach_s{suffix}": t_reach, f"R_reach{suffix}": t_reach / t_k,
            f"censored{suffix}": bool(np.isnan(t_reach)), f"untrained{suffix}": step == 0}


def efficiency_table(prune_jobs, reference, epsilon):
    """One row per retraining job (model, task, target reduction, method, seed) with every
    number, or None when there is no retraining job with a curve or no reference.

    prune_jobs: done_prune_jobs() of the main metric. A job at a reduction where the reference
    was not run keeps its own numbers; its reference columns are empty.
    """
    retraining = prune_jobs[has_curve(prune_jobs)]
    if retraining.empty or reference is None:
        return None
    reference_jobs = prune_jobs[(prune_jobs["variant"] == reference) & ~has_curve(prune_jobs)]
    references = reference_jobs.groupby(["model", "task", "flops_reduction"]).agg(
        acc_K=("value", "mean"), t_K_s=("prune_time_s", "mean"), n_reference=("value", "count"))
    rows = []
    for job in retraining.itertuples():
        key = (job.model, job.task, job.flops_reduction)
        ref = references.loc[key] if key in references.index else None
        acc_k = ref["acc_K"] if ref is not None else np.nan
        t_k = ref["t_K_s"] if ref is not None else np.nan
        row = dict(model=job.model, task=job.task, flops_reduction=job.flops_reduction,
                   method=job.variant, seed=job.seed, job_id=job.job_id,
                   metric_name=job.value_name, reference=reference, acc_K=acc_k, t_K_s=t_k,
                   n_reference=int(ref["n_reference"]) if ref is not None else 0,
                   metric=job.value, flops_achieved=_achieved(job),
                   best_metric=_best(job.curve, job.flops_reduction),
                   final_gap=acc_k - job.value, t_total_s=job.prune_time_s,
                   R_full=job.prune_time_s / t_k, t_eval_s=_eval_seconds(job),
                   job_censored=bool(job.censored), epsilon=epsilon)
        row.update(_reach_columns(job, acc_k, t_k, epsilon, ""))
        row.update(_reach_columns(job, acc_k, t_k, EXTRA_EPSILON, SUFFIX))
        rows.append(row)
    table = pd.DataFrame(rows)
    for column in ("censored", f"censored{SUFFIX}", "untrained", f"untrained{SUFFIX}"):
        table[column] = table[column].astype("boolean")
    return table.sort_values(KEYS + ["seed"]).reset_index(drop=True)


def summarise(table, suffix=""):
    """Per model, task, reduction and method: seeds n, reached k, mean R_reach and t_reach over
    the seeds that reached, mean R_full and final metric, the best metric of any seed."""
    cells = []
    for key, group in table.groupby(KEYS, sort=True):
        reached = group[f"censored{suffix}"].eq(False).fillna(False).to_numpy(dtype=bool)
        cells.append(dict(zip(KEYS, key), n=len(group), k=int(reached.sum()),
                          compared=not group["acc_K"].isna().all(),
                          R_reach=group[f"R_reach{suffix}"][reached].mean(),
                          untrained=bool(group[f"untrained{suffix}"][reached].any()),
                          t_reach_s=group[f"t_reach_s{suffix}"][reached].mean(),
                          R_full=group["R_full"].mean(), metric=group["metric"].mean(),
                          best_metric=group["best_metric"].max(),
                          acc_K=group["acc_K"].iloc[0], t_K_s=group["t_K_s"].iloc[0],
                          n_reference=group["n_reference"].iloc[0],
                          metric_name=group["metric_name"].iloc[0],
                          job_censored=bool(group["job_censored"].any())))
    return pd.DataFrame(cells)


def _short(value):
    """Three significant digits or more: 2.35, 24.6, 422 (1234 stays whole)."""
    if np.isnan(value):
        return "n/a"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _ratio(value):
    return "n/a" if np.isnan(value) else f"{_short(value)}×"


def _number(value):
    return "n/a" if np.isnan(value) else f"{value:.2f}"


def _reach_cell(cell, epsilon, reference):
    if cell is None:
        return "–"
    if not cell["compared"]:
        return f"no {reference} run"
    mark = " †" if cell["job_censored"] else ""
    if cell["k"] > 0 and cell["untrained"]:
        mark += " ‡"
    if cell["k"] == 0:
        if np.isnan(cell["best_metric"]):
            return f"not reached (no checkpoint meets the FLOPs target){mark}"
        return (f"not reached (best {cell['best_metric']:.2f} vs "
                f"{cell['acc_K'] - epsilon:.2f}){mark}")
    return f"{_ratio(cell['R_reach'])} ({cell['k']}/{cell['n']}){mark}"


def _full_cell(cell):
    if cell is None:
        return "–"
    return f"{_ratio(cell['R_full'])} · {_number(cell['metric'])}"


def _by_cell(cells):
    return {(row["method"], row["flops_reduction"]): row for row in cells.to_dict("records")}


def _epsilons(epsilon):
    return [(epsilon, "")] + ([(EXTRA_EPSILON, SUFFIX)] if epsilon != EXTRA_EPSILON else [])


def headline(table, reference, epsilon):
    """The "Up to N×" sentence: the largest uncensored mean R_reach, with its setting. A cell
    reached before any training step says nothing about retraining and does not count."""
    cells = summarise(table)
    reached = cells[(cells["k"] > 0) & cells["R_reach"].notna()]
    cells = reached[~reached["untrained"]]
    if cells.empty and not reached.empty:
        return (f"Every retraining method that reached {reference}'s accuracy (ε = {epsilon:g}) "
                f"did so before any training step (‡): no time-to-reach ratio to report.")
    if cells.empty:
        return (f"No retraining method reached {reference}'s accuracy (ε = {epsilon:g}) at any "
                f"setting.")
    top = cells.loc[cells["R_reach"].idxmax()]
    target = f"{top['acc_K']:.2f}" if not epsilon else (
        f"{top['acc_K'] - epsilon:.2f} ({reference} {top['acc_K']:.2f} − {epsilon:g})")
    return (f"Up to {_ratio(top['R_reach'])}: {top['method']} at "
            f"{format_percent(top['flops_reduction'])} on {top['task']} ({top['model']}) "
            f"({reference} {_short(top['t_K_s'])} s, {top['method']} reached {target} after "
            f"{_short(top['t_reach_s'])} s).")


def to_markdown(table, reference, epsilon):
    epsilons = _epsilons(epsilon)
    lines = [f"# Time to reach {reference}'s accuracy", "",
             f"R_reach = t_reach / t_K: t_reach is the first checkpoint time (pruning time: "
             f"importance + training, evaluations excluded) at which the method's metric is at "
             f"least acc_K − ε while its FLOPs reduction meets the target (within "
             f"{FLOPS_SLACK * 100:g} point); acc_K and t_K are {reference}'s mean metric and "
             f"pruning time over its seeds. A cell is the mean R_reach over the k of n seeds "
             f"that reached it; ε in points of the metric. † a seed's training was stopped by "
             f"max_wall_s. ‡ a seed reached it at step 0, before any training step: "
             f"{reference}'s metric is no better than the untrained starting model's (a "
             f"majority-class result, say), and the headline leaves the cell out.", ""]
    for (model, task), group in table.groupby(["model", "task"], sort=True):
        reductions = sorted(group["flops_reduction"].unique())
        header = " | ".join(format_percent(r) for r in reductions)
        methods = sorted(group["method"].unique())
        lines += [f"## {model} · {task} ({group['metric_name'].iloc[0]})", "",
                  f"| Method | ε | {header} |", "|---|---:|" + "---:|" * len(reductions)]
        by_epsilon = [(eps, _by_cell(summarise(group, suffix))) for eps, suffix in epsilons]
        for method in methods:
            for eps, cells in by_epsilon:
                entries = [_reach_cell(cells.get((method, r)), eps, reference)
                           for r in reductions]
                lines.append(f"| {method} | {eps:g} | " + " | ".join(entries) + " |")
        cells = by_epsilon[0][1]
        lines += ["", "Whole recipe: R_full = t_total / t_K · final metric, means over seeds.",
                  "", f"| Method | {header} |", "|---|" + "---:|" * len(reductions)]
        lines += [f"| {method} | " + " | ".join(_full_cell(cells.get((method, r)))
                                                for r in reductions) + " |"
                  for method in methods]
        references = group.groupby("flops_reduction").first()
        lines += ["", f"| {reference} | {header} |", "|---|" + "---:|" * len(reductions)]
        for name, column, text in (("acc_K", "acc_K", _number), ("t_K (s)", "t_K_s", _short),
                                   ("seeds", "n_reference", str)):
            entries = [text(references.at[r, column]) if references.at[r, "n_reference"]
                       else "–" for r in reductions]
            lines.append(f"| {name} | " + " | ".join(entries) + " |")
        lines.append("")
    lines += [headline(table, reference, epsilon), ""]
    return "\n".join(lines)


def write_efficiency(table, reference, epsilon, out_dir):
    """efficiency.csv (one row per retraining job) and efficiency.md in out_dir."""
    paths = [out_dir / "efficiency.csv", out_dir / "efficiency.md"]
    table.to_csv(paths[0], index=False)
    paths[1].write_text(to_markdown(table, reference, epsilon), encoding="utf-8")
    return paths
