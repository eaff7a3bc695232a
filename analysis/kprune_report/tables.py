"""Accuracy tables like the K-prune paper's: per model and task, pruners x FLOPs reductions,
mean ± std over seeds, the unpruned teacher's metric, the best entry of each column marked."""
import numpy as np
import pandas as pd

# Two means closer than this are a tie: both are marked best.
BEST_TOLERANCE = 1e-9
# A result whose achieved FLOPs reduction (a retraining method's `details`) is below its target by
# more than this missed the target: it is marked and never the best of its column.
TARGET_SLACK = 0.01
ACCURACY_COLUMNS = ["model", "task", "pruner", "flops_reduction", "metric_name", "mean", "std",
                    "n", "teacher", "best", "achieved", "target_missed"]


def _achieved(details):
    value = details.get("flops_reduction") if isinstance(details, dict) else None
    return float(value) if isinstance(value, (int, float)) else np.nan


def teacher_metrics(jobs, prune_jobs):
    """(model, task) -> the unpruned teacher's metric.

    The mean of the prune jobs' teacher_metric; where those have none, the finished fine-tune
    jobs' metric of that model and task.
    """
    teachers = prune_jobs.groupby(["model", "task"])["teacher_value"].mean().dropna().to_dict()
    finetuned = jobs[(jobs["kind"] == "finetune") & (jobs["status"] == "done")]
    for key, value in finetuned.groupby(["model", "task"])["value"].mean().dropna().items():
        teachers.setdefault(key, value)
    return teachers


def aggregate(jobs, prune_jobs):
    """Tidy table, one row per model, task, variant (column `pruner`) and FLOPs reduction.

    std is the sample standard deviation over seeds (NaN for a single seed).
    """
    if prune_jobs.empty:
        return pd.DataFrame(columns=ACCURACY_COLUMNS)
    keys = ["model", "task", "variant", "flops_reduction"]
    grouped = prune_jobs.groupby(keys, sort=True)
    table = grouped["value"].agg(mean="mean", std="std", n="count").reset_index()
    table["metric_name"] = grouped["value_name"].agg(lambda names: "/".join(sorted(set(names)))
                                                     ).to_numpy()
    teachers = teacher_metrics(jobs, prune_jobs)
    table["teacher"] = [teachers.get((model, task), np.nan)
                        for model, task in zip(table["model"], table["task"])]
    achieved = prune_jobs.assign(achieved=prune_jobs["details"].map(_achieved))
    table["achieved"] = achieved.groupby(keys, sort=True)["achieved"].mean().to_numpy()
    table["target_missed"] = table["achieved"] < table["flops_reduction"] - TARGET_SLACK
    eligible = table["mean"].where(~table["target_missed"])
    column_best = eligible.groupby([table["model"], table["task"],
                                    table["flops_reduction"]]).transform("max")
    table["best"] = eligible >= column_best - BEST_TOLERANCE
    table = table.rename(columns={"variant": "pruner"})
    return table[ACCURACY_COLUMNS]


def format_percent(reduction):
    return f"{reduction * 100:g}%"


def format_cell(row, bold):
    if row is None:
        return "–"
    if np.isnan(row["mean"]):
        return "n/a"
    text = f"{row['mean']:.2f}"
    if row["n"] > 1:
        text += f" ± {row['std']:.2f}"
    if row.get("target_missed", False):
        return f"{text} ‡{row['achieved'] * 100:.0f}%"
    return bold(text) if row["best"] else text


def _tables(accuracy):
    """Yields (model, task, metric_name, teacher, reductions, {pruner: {reduction: row}})."""
    for (model, task), group in accuracy.groupby(["model", "task"], sort=True):
        reductions = sorted(group["flops_reduction"].unique())
        cells = {}
        for row in group.to_dict("records"):
            cells.setdefault(row["pruner"], {})[row["flops_reduction"]] = row
        metric_name = "/".join(sorted(set(group["metric_name"])))
        yield model, task, metric_name, group["teacher"].iloc[0], reductions, cells


def _teacher_text(teacher):
    if np.isnan(teacher):
        return "unpruned teacher: unknown"
    return f"unpruned teacher: {teacher:.2f} (97%: {0.97 * teacher:.2f})"


_UNDEFINED_NOTE = "; n/a: the metric is undefined on every seed (constant predictions)"
_MISSED_NOTE = ("; ‡N%: the method removed only N % of the FLOPs, less than the column's target "
                "(EBERT's gates are a soft target)")


def _any_missed(cells):
    return any(row.get("target_missed", False) for by_reduction in cells.values()
               for row in by_reduction.values())


def _any_undefined(cells):
    return any(np.isnan(row["mean"]) for by_reduction in cells.values()
               for row in by_reduction.values())


def to_markdown(accuracy):
    lines = []
    for model, task, metric_name, teacher, reductions, cells in _tables(accuracy):
        lines += [f"### {model} · {task} ({metric_name})", "",
                  f"{_teacher_text(teacher)}. Mean ± std over seeds; best per FLOPs reduction "
                  f"in **bold**; – not run{_UNDEFINED_NOTE if _any_undefined(cells) else ''}"
                  f"{_MISSED_NOTE if _any_missed(cells) else ''}.",
                  ""]
        lines.append("| Pruner | " + " | ".join(format_percent(r) for r in reductions) + " |")
        lines.append("|---|" + "---:|" * len(reductions))
        for pruner in sorted(cells):
            entries = [format_cell(cells[pruner].get(r), lambda t: f"**{t}**")
                       for r in reductions]
            lines.append(f"| {pruner} | " + " | ".join(entries) + " |")
        lines.append("")
    return "\n".join(lines)


LATEX_SPECIALS = str.maketrans({char: "\\" + char for char in "&%$#_{}"})


def latex_escape(text):
    return text.translate(LATEX_SPECIALS)


def to_latex(accuracy):
    """One booktabs table per model and task (needs \\usepackage{booktabs})."""
    blocks = []
    for model, task, metric_name, teacher, reductions, cells in _tables(accuracy):
        caption = latex_escape(f"{model}, {task}: {metric_name} (mean ± std over seeds), "
                               f"{_teacher_text(teacher)}").replace("±", "$\\pm$")
        lines = ["\\begin{table}[t]", "\\centering",
                 f"\\caption{{{caption}}}",
                 "\\begin{tabular}{l" + "r" * len(reductions) + "}", "\\toprule",
                 "Pruner & " + " & ".join(latex_escape(format_percent(r)) for r in reductions)
                 + " \\\\", "\\midrule"]
        for pruner in sorted(cells):
            entries = [format_cell(cells[pruner].get(r), lambda t: f"\\textbf{{{t}}}")
                       .replace("±", "$\\pm$") for r in reductions]
            lines.append(latex_escape(pruner) + " & " + " & ".join(entries) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def write_accuracy_tables(accuracy, out_dir):
    """accuracy.md, accuracy.tex and accuracy.csv (tidy: one row per cell) in out_dir."""
    paths = [out_dir / "accuracy.md", out_dir / "accuracy.tex", out_dir / "accuracy.csv"]
    paths[0].write_text(to_markdown(accuracy), encoding="utf-8")
    paths[1].write_text(to_latex(accuracy), encoding="utf-8")
    accuracy.to_csv(paths[2], index=False)
    return paths
