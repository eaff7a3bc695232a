"""The paper's two main figures: metric vs FLOPs reduction, and metric vs pruning wall time."""
import numpy as np

from kprune_report.plotting import colours, file_stem, finish_layout, panel_grid, save

TEACHER_FRACTION = 0.97  # the paper's "within 3% of the teacher" reference line


def metric_label(metric_name):
    return f"{metric_name} (×100)"


def draw_teacher(ax, teacher):
    if np.isnan(teacher):
        return
    ax.axhline(teacher, color="black", linewidth=1, label="teacher (unpruned)")
    ax.axhline(TEACHER_FRACTION * teacher, color="black", linewidth=1, linestyle="--",
               label=f"{TEACHER_FRACTION:.0%} of teacher")


def accuracy_vs_flops(accuracy, out_dir, formats, reference=None, reference_label=""):
    """One figure per model: a panel per task, a line per pruner (mean ± std over seeds).

    `reference` (an accuracy table of a second file or a CSV) is drawn dashed for comparison;
    its figures are named compare_vs_flops_<model>.
    """
    paths = []
    for model, by_model in accuracy.groupby("model", sort=True):
        tasks = sorted(by_model["task"].unique())
        pruners = set(by_model["pruner"])
        if reference is not None:
            pruners |= set(reference[reference["model"] == model]["pruner"])
        colour = colours(pruners)
        fig, axes = panel_grid(len(tasks))
        for ax, task in zip(axes, tasks):
            by_task = by_model[by_model["task"] == task]
            for pruner, line in by_task.groupby("pruner", sort=True):
                line = line.sort_values("flops_reduction")
                ax.errorbar(line["flops_reduction"] * 100, line["mean"],
                            yerr=line["std"].fillna(0), marker="o", markersize=4, capsize=2,
                            color=colour[pruner], label=pruner)
            if reference is not None:
                ref = reference[(reference["model"] == model) & (reference["task"] == task)]
                for pruner, line in ref.groupby("pruner", sort=True):
                    line = line.sort_values("flops_reduction")
                    ax.plot(line["flops_reduction"] * 100, line["mean"], marker="x",
                            linestyle=":", color=colour[pruner],
                            label=f"{pruner} [{reference_label}]")
            draw_teacher(ax, by_task["teacher"].iloc[0])
            ax.set_title(task)
            ax.set_xlabel("FLOPs reduction (%)")
            ax.set_ylabel(metric_label("/".join(sorted(set(by_task["metric_name"])))))
        fig.suptitle(f"{model}: metric vs FLOPs reduction")
        finish_layout(fig, axes)
        stem = "compare_vs_flops" if reference is not None else "accuracy_vs_flops"
        paths += save(fig, out_dir, file_stem(stem, model), formats)
    return paths


def metric_vs_time(prune_jobs, accuracy, out_dir, formats):
    """One figure per model: a panel per task, metric vs pruning wall time (log scale).

    A point is one pruner at one FLOPs reduction (means over seeds), labelled with the
    reduction; jobs that recorded no prune time are left out.
    """
    timed = prune_jobs[prune_jobs["prune_time_s"] > 0]
    paths = []
    for model, by_model in timed.groupby("model", sort=True):
        tasks = sorted(by_model["task"].unique())
        colour = colours(set(by_model["variant"]))
        fig, axes = panel_grid(len(tasks))
        for ax, task in zip(axes, tasks):
            by_task = by_model[by_model["task"] == task]
            for variant, runs in by_task.groupby("variant", sort=True):
                points = runs.groupby("flops_reduction").agg(
                    time=("prune_time_s", "mean"), value=("value", "mean")).reset_index()
                ax.plot(points["time"], points["value"], marker="o", markersize=4,
                        color=colour[variant], label=variant)
                for point in points.itertuples():
                    ax.annotate(f"{point.flops_reduction * 100:g}%", (point.time, point.value),
                                textcoords="offset points", xytext=(3, 3), fontsize=6,
                                color=colour[variant])
            teacher = accuracy[(accuracy["model"] == model) & (accuracy["task"] == task)]
            draw_teacher(ax, teacher["teacher"].iloc[0] if len(teacher) else np.nan)
            ax.set_xscale("log")
            ax.set_title(task)
            ax.set_xlabel("pruning wall time (s, log scale)")
            ax.set_ylabel(metric_label("/".join(sorted(set(by_task["value_name"])))))
        fig.suptitle(f"{model}: metric vs pruning time")
        finish_layout(fig, axes)
        paths += save(fig, out_dir, file_stem("metric_vs_time", model), formats)
    return paths
