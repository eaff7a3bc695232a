"""Ablation views over K-prune's scoring weights and settings.

An ablation parameter is one of ABLATION_DEFAULTS (matched on the last component of the key,
so `lam_pred` and `kprune.lam_pred` both count) that takes more than one value among a
pruner's finished jobs of one model. A view over one parameter holds every other varying
ablation parameter at its base value: the K-prune default (algorithms.md 4.8) when it was run,
else the value run most often.
"""
import itertools

import numpy as np
import pandas as pd

from kprune_report.figures import metric_label
from kprune_report.plotting import colours, file_stem, finish_layout, panel_grid, save
from kprune_report.selection import short_key

ABLATION_DEFAULTS = {"lam_pred": "1", "lam_rep": "2.5e-4", "mu": "64", "T": "2",
                     "num_tokens": "100000", "mode": None, "weighting": "paper"}
ABLATION_COLUMNS = ["model", "task", "pruner", "parameter", "value", "flops_reduction",
                    "metric_name", "mean", "std", "n"]


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def sorted_values(values):
    """Numeric order when every value is a number, else text order."""
    values = sorted(set(values))
    if all(_number(v) is not None for v in values):
        return sorted(values, key=_number)
    return values


def base_value(key, values):
    default = ABLATION_DEFAULTS.get(short_key(key))
    for value in values:
        if value == default or (_number(value) is not None and default is not None
                                and _number(default) == _number(value)):
            return value
    counts = pd.Series(list(values)).value_counts()
    return sorted(counts[counts == counts.max()].index)[0]


def ablation_parameters(prune_jobs):
    """(model, pruner) -> {key: base value} for every ablation parameter that varies."""
    found = {}
    for (model, pruner), group in prune_jobs.groupby(["model", "pruner"], sort=True):
        keys = sorted({key for params in group["param"] for key in params
                       if short_key(key) in ABLATION_DEFAULTS})
        bases = {}
        for key in keys:
            values = group["param"].map(lambda params: params.get(key, ""))
            if values.nunique() > 1:
                bases[key] = base_value(key, values)
        if bases:
            found[(model, pruner)] = bases
    return found


def _at_base(group, bases, free_keys):
    """Jobs whose ablation parameters other than free_keys are at their base values."""
    keep = pd.Series(True, index=group.index)
    for key, base in bases.items():
        if key not in free_keys:
            keep &= group["param"].map(lambda params: params.get(key, "")) == base
    return group[keep]


def ablation_table(prune_jobs):
    """Tidy means over seeds for every one-parameter view."""
    rows = []
    for (model, pruner), bases in ablation_parameters(prune_jobs).items():
        group = prune_jobs[(prune_jobs["model"] == model) & (prune_jobs["pruner"] == pruner)]
        for key in bases:
            view = _at_base(group, bases, {key}).copy()
            view["value_of_key"] = view["param"].map(lambda params: params.get(key, ""))
            stats = view.groupby(["task", "value_of_key", "flops_reduction"])["value"].agg(
                mean="mean", std="std", n="count").reset_index()
            for row in stats.itertuples():
                metric = "/".join(sorted(set(view[view["task"] == row.task]["value_name"])))
                rows.append(dict(model=model, task=row.task, pruner=pruner,
                                 parameter=short_key(key), value=row.value_of_key,
                                 flops_reduction=row.flops_reduction, metric_name=metric,
                                 mean=row.mean, std=row.std, n=row.n))
    return pd.DataFrame(rows, columns=ABLATION_COLUMNS)


def ablation_lines(table, out_dir, formats):
    """A figure per model, pruner and parameter: panel per task, a line per parameter value."""
    paths = []
    for (model, pruner, parameter), view in table.groupby(["model", "pruner", "parameter"]):
        tasks = sorted(view["task"].unique())
        values = sorted_values(view["value"])
        colour = dict(zip(values, colours(range(len(values))).values()))
        fig, axes = panel_grid(len(tasks))
        for ax, task in zip(axes, tasks):
            by_task = view[view["task"] == task]
            for value in values:
                line = by_task[by_task["value"] == value].sort_values("flops_reduction")
                if len(line):
                    ax.errorbar(line["flops_reduction"] * 100, line["mean"],
                                yerr=line["std"].fillna(0), marker="o", markersize=4,
                                capsize=2, color=colour[value], label=f"{parameter}={value}")
            ax.set_title(task)
            ax.set_xlabel("FLOPs reduction (%)")
            ax.set_ylabel(metric_label(by_task["metric_name"].iloc[0]))
        fig.suptitle(f"{model}, {pruner}: ablation over {parameter} (others at base values)")
        finish_layout(fig, axes)
        paths += save(fig, out_dir, file_stem("ablation", model, pruner, parameter), formats)
    return paths


def ablation_heatmaps(prune_jobs, out_dir, formats):
    """A heatmap per pair of varying parameters: panels for each task (rows) and FLOPs
    reduction (columns), cells the mean metric over seeds."""
    paths = []
    for (model, pruner), bases in ablation_parameters(prune_jobs).items():
        group = prune_jobs[(prune_jobs["model"] == model) & (prune_jobs["pruner"] == pruner)]
        for key_x, key_y in itertools.combinations(sorted(bases), 2):
            view = _at_base(group, bases, {key_x, key_y}).copy()
            view["x"] = view["param"].map(lambda params: params.get(key_x, ""))
            view["y"] = view["param"].map(lambda params: params.get(key_y, ""))
            xs, ys = sorted_values(view["x"]), sorted_values(view["y"])
            cells = view.groupby(["task", "flops_reduction", "y", "x"])["value"].mean()
            panels = sorted({(task, reduction) for task, reduction, _, _ in cells.index})
            reductions = sorted({reduction for _, reduction in panels})
            tasks = sorted({task for task, _ in panels})
            fig, axes = panel_grid(len(tasks) * len(reductions), columns=len(reductions))
            for ax, (task, reduction) in zip(axes, itertools.product(tasks, reductions)):
                grid = np.full((len(ys), len(xs)), np.nan)
                for (t, r, y, x), value in cells.items():
                    if t == task and r == reduction:
                        grid[ys.index(y), xs.index(x)] = value
                image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
                for (row, column), value in np.ndenumerate(grid):
                    if not np.isnan(value):  # dark text on the bright end of viridis
                        bright = image.norm(value) > 0.5
                        ax.text(column, row, f"{value:.1f}", ha="center", va="center",
                                fontsize=7, color="black" if bright else "white")
                ax.set_xticks(range(len(xs)), xs)
                ax.set_yticks(range(len(ys)), ys)
                ax.set_xlabel(short_key(key_x))
                ax.set_ylabel(short_key(key_y))
                ax.grid(False)
                ax.set_title(f"{task}, {reduction * 100:g}% FLOPs removed")
                metric = "/".join(sorted(set(view[view["task"] == task]["value_name"])))
                fig.colorbar(image, ax=ax, label=metric_label(metric))
            fig.suptitle(f"{model}, {pruner}: {short_key(key_y)} x {short_key(key_x)} "
                         f"(others at base values)")
            finish_layout(fig, axes)
            stem = file_stem("ablation", model, pruner, short_key(key_x), short_key(key_y))
            paths += save(fig, out_dir, stem, formats)
    return paths
