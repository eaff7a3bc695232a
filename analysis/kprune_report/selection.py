"""Which prune jobs a report covers, which metric it shows, and what a table row is.

A table row ("variant") is a pruner (or its run label) plus every parameter that would
otherwise mix different experiments into one mean: a key is part of the variant when two done
jobs of the same model, task, pruner and label share FLOPs reduction and seed but differ in it
(e.g. lam_pred in an ablation). A parameter the label already tells apart (DynaBERT's
pruner.variant: labels DynaBERT-w, DynaBERT-d) is not repeated in the name.
"""
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kprune_report.errors import ReportError


@dataclass
class Filters:
    tasks: list = field(default_factory=list)
    pruners: list = field(default_factory=list)
    models: list = field(default_factory=list)
    min_ratio: float = -np.inf
    max_ratio: float = np.inf


def _check_known(option, wanted, available):
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ReportError(f"{option} {', '.join(unknown)}: not in the results (available: "
                          f"{', '.join(sorted(available)) or 'none'})")


def filter_jobs(jobs, filters, strict=True):
    """Applies --task/--pruner/--model/--min-ratio/--max-ratio to all jobs.

    Ratio bounds apply to prune jobs only, so the teacher's fine-tune rows stay available.
    strict: a filter naming something absent from the file is an error (a typo, usually).
    """
    if strict:
        _check_known("--task", filters.tasks, set(jobs["task"]))
        _check_known("--model", filters.models, set(jobs["model"]))
        _check_known("--pruner", filters.pruners, set(jobs["pruner"]) - {""})
    keep = pd.Series(True, index=jobs.index)
    if filters.tasks:
        keep &= jobs["task"].isin(filters.tasks)
    if filters.models:
        keep &= jobs["model"].isin(filters.models)
    is_prune = jobs["kind"] == "prune"
    if filters.pruners:
        keep &= ~is_prune | jobs["pruner"].isin(filters.pruners)
    in_range = jobs["flops_reduction"].between(filters.min_ratio, filters.max_ratio)
    keep &= ~is_prune | in_range
    return jobs[keep].reset_index(drop=True)


def filter_table(table, filters):
    """The same filters on a table with model, task, pruner and flops_reduction columns."""
    keep = table["flops_reduction"].between(filters.min_ratio, filters.max_ratio)
    for column, wanted in (("task", filters.tasks), ("model", filters.models),
                           ("pruner", filters.pruners)):
        if wanted:
            keep &= table[column].isin(wanted)
    return table[keep].reset_index(drop=True)


def parse_metric_choices(options):
    """--metric NAME (every task that has it) or TASK=NAME, repeatable -> {task or '*': name}."""
    choices = {}
    for option in options or []:
        for item in option.split(","):
            task, sep, name = item.strip().partition("=")
            if not sep:
                task, name = "*", task
            if not name or not task:
                raise ReportError(f"--metric {option!r}: expected NAME or TASK=NAME")
            choices[task] = name
    return choices


def choose_metric(jobs, choices):
    """Adds columns value, value_name, teacher_value: the metric each job is reported by.

    Without a choice it is the summary's main metric; a chosen metric is read from the job's
    metric.<name> / teacher_metric.<name> attributes. A task without the chosen metric keeps
    its main metric (table headings name the metric shown).
    """
    jobs = jobs.copy()
    jobs["value"] = jobs["metric"]
    jobs["value_name"] = jobs["metric_name"]
    jobs["teacher_value"] = jobs["teacher_metric"]
    for task, name in choices.items():
        rows = jobs.index if task == "*" else jobs.index[jobs["task"] == task]
        if task != "*" and len(rows) == 0:
            raise ReportError(f"--metric {task}={name}: task {task!r} is not in the results")
        has_metric = [i for i in rows if name in jobs.at[i, "metrics"]]
        if not has_metric:
            available = sorted({m for i in rows for m in jobs.at[i, "metrics"]})
            raise ReportError(f"--metric {name}: no job{'' if task == '*' else ' of ' + task} "
                              f"has metric.{name} (available: {', '.join(available) or 'none'})")
        for i in has_metric:
            jobs.at[i, "value"] = jobs.at[i, "metrics"][name]
            jobs.at[i, "value_name"] = name
            jobs.at[i, "teacher_value"] = jobs.at[i, "teacher_metrics"].get(name, np.nan)
    return jobs


def short_key(key):
    """`kprune.lam_pred` -> `lam_pred`: parameter names as a reader knows them."""
    return key.rsplit(".", 1)[-1]


def _variant_keys(group):
    keys = sorted({key for params in group["param"] for key in params})
    varying = []
    for key in keys:
        values = group["param"].map(lambda params: params.get(key, ""))
        per_run = values.groupby([group["flops_reduction"], group["seed"]]).nunique()
        if (per_run > 1).any():
            varying.append(key)
    return varying


def assign_variants(prune_jobs):
    """Adds a `variant` column: the run's label (or pruner) plus its distinguishing parameters
    (those it has: a job without the key shows none)."""
    prune_jobs = prune_jobs.copy()
    prune_jobs["variant"] = ""
    for _, group in prune_jobs.groupby(["model", "task", "pruner", "label"], sort=False):
        keys = _variant_keys(group)
        for i in group.index:
            name = prune_jobs.at[i, "label"] or prune_jobs.at[i, "pruner"]
            params = prune_jobs.at[i, "param"]
            details = [f"{short_key(key)}={params[key]}" for key in keys if key in params]
            prune_jobs.at[i, "variant"] = name + (f" ({', '.join(details)})" if details else "")
    return prune_jobs


def done_prune_jobs(jobs):
    """Finished prune jobs with a metric, each with its variant. A metric recorded as NaN
    stays: it is undefined (a correlation of constant predictions), not missing."""
    done = jobs[(jobs["kind"] == "prune") & (jobs["status"] == "done")]
    recorded = [not np.isnan(value) or name in metrics
                for value, name, metrics in zip(done["value"], done["value_name"], done["metrics"])]
    done = done[np.asarray(recorded, dtype=bool)]
    return assign_variants(done.reset_index(drop=True))
