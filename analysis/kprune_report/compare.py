"""Side-by-side comparison of two accuracy tables: A (this file) against B (a second results
file, or numbers the user supplies as CSV, e.g. a paper's table). difference = A - B."""
import numpy as np
import pandas as pd

from kprune_report.errors import ReportError
from kprune_report.results import REDUCTION_DECIMALS
from kprune_report.tables import format_percent

CSV_REQUIRED = ["model", "task", "pruner", "flops_reduction", "metric"]
KEYS = ["model", "task", "pruner", "flops_reduction"]
COMPARE_COLUMNS = KEYS + ["metric_name", "mean_a", "std_a", "n_a", "mean_b", "std_b", "n_b",
                          "difference"]


def read_reference_csv(path):
    """A CSV with columns model,task,pruner,flops_reduction,metric (optional: std, metric_name;
    `mean` stands for `metric`, so a report's accuracy.csv can be read back).

    flops_reduction is a fraction (0.5) or a percentage (50); metric is ×100 like ours.
    Returns it in the accuracy table's shape.
    """
    try:
        table = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ReportError(f"{path}: not a readable CSV ({error})") from None
    table.columns = [column.strip() for column in table.columns]
    if "metric" not in table.columns and "mean" in table.columns:  # a report's accuracy.csv
        table = table.rename(columns={"mean": "metric"})
    missing = [column for column in CSV_REQUIRED if column not in table.columns]
    if missing:
        raise ReportError(f"{path}: missing column(s) {', '.join(missing)}; expected a header "
                          f"{','.join(CSV_REQUIRED)}[,std][,metric_name]")
    numbers = {}
    for column in ["flops_reduction", "metric", "std"]:
        if column not in table.columns:
            continue
        values = pd.to_numeric(table[column].str.strip(), errors="coerce")
        bad = values.isna()
        if column == "std":  # an empty std cell means unknown
            bad &= table[column].notna()
        if bad.any():
            line = int(bad.idxmax()) + 2  # header is line 1
            raise ReportError(f"{path}: line {line}: column {column} is "
                              f"{table.at[bad.idxmax(), column]!r}, expected a number")
        numbers[column] = values
    reduction = numbers["flops_reduction"]
    reduction = reduction.where(reduction <= 1, reduction / 100).round(REDUCTION_DECIMALS)
    return pd.DataFrame({
        "model": table["model"].str.strip(), "task": table["task"].str.strip(),
        "pruner": table["pruner"].str.strip(), "flops_reduction": reduction,
        "metric_name": (table["metric_name"].str.strip() if "metric_name" in table.columns
                        else ""),
        "mean": numbers["metric"], "std": numbers.get("std", np.nan), "n": 1})


def compare(accuracy_a, accuracy_b):
    """Outer join on model, task, pruner and reduction; cells only one side has stay NaN."""
    a = accuracy_a[KEYS + ["metric_name", "mean", "std", "n"]]
    b = accuracy_b[KEYS + ["metric_name", "mean", "std", "n"]]
    table = a.merge(b, on=KEYS, how="outer", suffixes=("_a", "_b"), sort=True)
    table["metric_name"] = [ma if isinstance(ma, str) and ma else mb for ma, mb in
                            zip(table["metric_name_a"], table["metric_name_b"])]
    table["difference"] = table["mean_a"] - table["mean_b"]
    return table[COMPARE_COLUMNS]


def _value(mean, std):
    if np.isnan(mean):
        return "–"
    return f"{mean:.2f}" + (f" ± {std:.2f}" if not np.isnan(std) else "")


def to_markdown(table, label_a, label_b):
    lines = [f"# Comparison: A = {label_a}, B = {label_b}", "",
             "difference = A − B; – where one side has no result.", ""]
    for (model, task), group in table.groupby(["model", "task"], sort=True):
        metric = "/".join(sorted({m for m in group["metric_name"] if isinstance(m, str) and m}))
        lines += [f"### {model} · {task} ({metric or 'metric'})", "",
                  "| Pruner | FLOPs reduction | A | B | A − B |", "|---|---:|---:|---:|---:|"]
        for row in group.itertuples():
            difference = "–" if np.isnan(row.difference) else f"{row.difference:+.2f}"
            lines.append(f"| {row.pruner} | {format_percent(row.flops_reduction)} | "
                         f"{_value(row.mean_a, row.std_a)} | {_value(row.mean_b, row.std_b)} | "
                         f"{difference} |")
        lines.append("")
    return "\n".join(lines)


def write_comparison(table, label_a, label_b, out_dir):
    paths = [out_dir / "compare.md", out_dir / "compare.csv"]
    paths[0].write_text(to_markdown(table, label_a, label_b), encoding="utf-8")
    table.to_csv(paths[1], index=False)
    return paths
