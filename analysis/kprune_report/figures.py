"""The paper's two main figures: metric vs FLOPs reduction, and metric vs pruning wall time
(with the retraining methods' learning curves); and the time-to-reach figure per reduction."""
import numpy as np

from kprune_report.efficiency import has_curve, meets_target
from kprune_report.plotting import (colours, file_stem, finish_layout, log_x_axis, panel_grid,
                                    save)

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


TIME_LABEL = "pruning time (s, log scale)"
BELOW_TARGET = "learning curve below the FLOPs target (faint)"


def draw_curve(ax, job, colour):
    """A retraining job's learning curve (curve t vs curve metric) with a square at its final
    result (prune_time_s, metric) labelled with the target reduction.

    The curve is solid where a checkpoint meets the FLOPs target (within FLOPS_SLACK, the
    checkpoints that count for time-to-reach) and faint where it does not; checkpoints at
    t = 0 have no place on the log axis.
    """
    curve = job.curve[job.curve["t"] > 0]
    meets = meets_target(curve, job.flops_reduction)
    if not meets.all():
        ax.plot(curve["t"], curve["metric"], color=colour, alpha=0.3, linewidth=0.8)
        ax.plot([], [], color="grey", alpha=0.3, linewidth=0.8, label=BELOW_TARGET)
    ax.plot(curve["t"], np.where(meets, curve["metric"], np.nan), color=colour, linewidth=1.2,
            marker=".", markersize=3, label=job.variant)
    ax.plot(job.prune_time_s, job.value, marker="s", markersize=5, color=colour)
    ax.annotate(f"{job.flops_reduction * 100:g}%", (job.prune_time_s, job.value),
                textcoords="offset points", xytext=(3, 3), fontsize=6, color=colour)


def metric_vs_time(prune_jobs, accuracy, out_dir, formats):
    """One figure per model: a panel per task, metric vs pruning wall time (log scale).

    A point is one pruner at one FLOPs reduction (means over seeds), labelled with the
    reduction; jobs that recorded no prune time are left out. A retraining method is drawn
    per job as its learning curve (draw_curve) where the figure shows the task's main metric,
    the one the curve records; under another --metric only its final points.
    """
    timed = prune_jobs[prune_jobs["prune_time_s"] > 0]
    curves = has_curve(timed) & (timed["value_name"] == timed["metric_name"])
    paths = []
    for model, by_model in timed.groupby("model", sort=True):
        tasks = sorted(by_model["task"].unique())
        colour = colours(set(by_model["variant"]))
        fig, axes = panel_grid(len(tasks))
        for ax, task in zip(axes, tasks):
            by_task = by_model[by_model["task"] == task]
            for job in by_task[curves[by_task.index]].itertuples():
                draw_curve(ax, job, colour[job.variant])
            for variant, runs in by_task[~curves[by_task.index]].groupby("variant", sort=True):
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
            log_x_axis(ax)
            ax.set_title(task)
            ax.set_xlabel(TIME_LABEL)
            ax.set_ylabel(metric_label("/".join(sorted(set(by_task["value_name"])))))
        fig.suptitle(f"{model}: metric vs pruning time")
        finish_layout(fig, axes)
        paths += save(fig, out_dir, file_stem("metric_vs_time", model), formats)
    return paths


def efficiency_figures(prune_jobs, efficiency, teachers, reference, out_dir, formats):
    """One figure per model with retraining jobs: a panel per task (rows) and target FLOPs
    reduction (columns), metric vs pruning time (log scale). The retraining-free pruners are
    markers at (prune_time_s, metric), one per seed; the retraining methods their learning
    curves (draw_curve); the reference's acc_K dashed, the teacher solid.

    prune_jobs: done prune jobs of the main metric; efficiency: efficiency_table();
    teachers: (model, task) -> the teacher's main metric.
    """
    timed = prune_jobs[prune_jobs["prune_time_s"] > 0]
    retraining = has_curve(timed)
    acc_k = efficiency.groupby(["model", "task", "flops_reduction"])["acc_K"].first()
    paths = []
    for model, by_model in timed[retraining].groupby("model", sort=True):
        tasks = sorted(by_model["task"].unique())
        reductions = sorted(by_model["flops_reduction"].unique())
        everything = timed[timed["model"] == model]
        colour = colours(set(everything["variant"]))
        # One task wraps its reductions into rows of three; several tasks keep a row each.
        columns = len(reductions) if len(tasks) > 1 else min(3, len(reductions))
        fig, axes = panel_grid(len(tasks) * len(reductions), columns=columns)
        for ax, (task, reduction) in zip(axes, [(t, r) for t in tasks for r in reductions]):
            here = everything[(everything["task"] == task)
                              & (everything["flops_reduction"] == reduction)]
            for variant, runs in here[~retraining[here.index]].groupby("variant", sort=True):
                ax.plot(runs["prune_time_s"], runs["value"], linestyle="none", marker="o",
                        markersize=5, color=colour[variant], label=variant)
            for job in here[retraining[here.index]].itertuples():
                draw_curve(ax, job, colour[job.variant])
            target = acc_k.get((model, task, reduction), np.nan)
            if not np.isnan(target):
                ax.axhline(target, color="dimgrey", linewidth=1, linestyle="--",
                           label=f"acc_K ({reference}, mean over seeds)")
            teacher = teachers.get((model, task), np.nan)
            if not np.isnan(teacher):
                ax.axhline(teacher, color="black", linewidth=1, label="teacher (unpruned)")
            if here.empty:
                ax.text(0.5, 0.5, "not run", transform=ax.transAxes, ha="center")
            else:
                log_x_axis(ax)
            ax.set_title(f"{task} · {reduction * 100:g}% FLOPs reduction")
            ax.set_xlabel(TIME_LABEL)
            ax.set_ylabel(metric_label("/".join(sorted(set(here["value_name"]))) or "metric"))
        fig.suptitle(f"{model}: time to reach {reference}'s accuracy")
        finish_layout(fig, axes)
        paths += save(fig, out_dir, file_stem("efficiency", model), formats)
    return paths
