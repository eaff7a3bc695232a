import csv
import math
import statistics

import pytest
from results_factory import Job, make_curve, retraining_job, write_results

from kprune_report.results import load_results
from kprune_report.selection import choose_metric, done_prune_jobs
from kprune_report.tables import aggregate, to_latex, to_markdown, write_accuracy_tables

# metric per (pruner, reduction) over seeds 0, 1, 2; kwon was not run at 0.6, and its
# seed-2 job at 0.4 failed.
VALUES = {("kprune", 0.4): [84.0, 85.0, 86.5], ("kprune", 0.6): [80.0, 81.0, 79.0],
          ("kwon", 0.4): [86.0, 87.0], ("kwon", 0.5): [70.0, 71.0, 72.0],
          ("kprune", 0.5): [75.0, 75.5, 76.0]}
TEACHER = 88.25


def accuracy_jobs():
    jobs = [Job(pruner=pruner, flops_reduction=reduction, seed=seed,
                metrics={"accuracy": value}, teacher_metrics={"accuracy": TEACHER})
            for (pruner, reduction), values in VALUES.items()
            for seed, value in enumerate(values)]
    jobs.append(Job(pruner="kwon", flops_reduction=0.4, seed=2, status="failed", error="x"))
    return jobs


@pytest.fixture
def accuracy(tmp_path):
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", accuracy_jobs())).jobs,
                         {})
    return aggregate(jobs, done_prune_jobs(jobs))


def cell(table, pruner, reduction):
    rows = table[(table["pruner"] == pruner) & (table["flops_reduction"] == reduction)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_means_stds_and_counts_over_seeds(accuracy):
    assert len(accuracy) == len(VALUES)
    for (pruner, reduction), values in VALUES.items():
        row = cell(accuracy, pruner, reduction)
        assert row["mean"] == pytest.approx(statistics.mean(values))
        assert row["std"] == pytest.approx(statistics.stdev(values))
        assert row["n"] == len(values)
        assert row["teacher"] == TEACHER
        assert row["metric_name"] == "accuracy"


def test_best_entry_per_reduction(accuracy):
    # by hand: 0.4 kwon 86.5 > kprune 85.17; 0.5 kprune 75.5 > 71; 0.6 kprune alone
    best = {(row.pruner, row.flops_reduction) for row in accuracy.itertuples() if row.best}
    assert best == {("kwon", 0.4), ("kprune", 0.5), ("kprune", 0.6)}


def test_ties_are_all_marked_best(tmp_path):
    jobs = [Job(pruner=pruner, metrics={"accuracy": 80.0}) for pruner in ("a", "b")]
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", jobs)).jobs, {})
    assert aggregate(jobs, done_prune_jobs(jobs))["best"].all()


def test_markdown_table(accuracy):
    lines = to_markdown(accuracy).splitlines()
    assert lines[0] == "### mini-bert · mrpc (accuracy)"
    assert "unpruned teacher: 88.25 (97%: 85.60)" in lines[2]
    assert lines[4] == "| Pruner | 40% | 50% | 60% |"
    kprune_04 = statistics.mean(VALUES[("kprune", 0.4)])
    assert lines[6] == (f"| kprune | {kprune_04:.2f} ± "
                        f"{statistics.stdev(VALUES[('kprune', 0.4)]):.2f} | **75.50 ± 0.50** | "
                        f"**80.00 ± 1.00** |")
    assert lines[7] == "| kwon | **86.50 ± 0.71** | 71.00 ± 1.00 | – |"


def test_single_seed_shows_mean_only(tmp_path):
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", [Job()])).jobs, {})
    table = aggregate(jobs, done_prune_jobs(jobs))
    assert math.isnan(table.iloc[0]["std"])
    assert "| kprune | **80.00** |" in to_markdown(table)


def test_latex_table(accuracy):
    latex = to_latex(accuracy)
    assert "\\begin{tabular}{lrrr}" in latex
    assert "Pruner & 40\\% & 50\\% & 60\\% \\\\" in latex
    assert "kwon & \\textbf{86.50 $\\pm$ 0.71} & 71.00 $\\pm$ 1.00 & – \\\\" in latex
    assert "unpruned teacher: 88.25" in latex


def test_csv_has_one_row_per_cell(accuracy, tmp_path):
    write_accuracy_tables(accuracy, tmp_path)
    with open(tmp_path / "accuracy.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(VALUES)
    kwon = next(r for r in rows if r["pruner"] == "kwon" and r["flops_reduction"] == "0.4")
    assert float(kwon["mean"]) == pytest.approx(86.5)
    assert kwon["n"] == "2" and kwon["best"] == "True" and float(kwon["teacher"]) == TEACHER
    assert (tmp_path / "accuracy.md").stat().st_size > 0
    assert (tmp_path / "accuracy.tex").stat().st_size > 0


def test_teacher_falls_back_to_finetune_job(tmp_path):
    jobs = [Job(teacher_metrics={}),
            Job(kind="finetune", metrics={"accuracy": 90.5}, teacher_metrics={})]
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", jobs)).jobs, {})
    assert aggregate(jobs, done_prune_jobs(jobs)).iloc[0]["teacher"] == 90.5


def test_latex_escapes_names(tmp_path):
    jobs = [Job(task="squad_v2", pruner="k&prune")]
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", jobs)).jobs, {})
    latex = to_latex(aggregate(jobs, done_prune_jobs(jobs)))
    assert "squad\\_v2" in latex and "k\\&prune &" in latex


def test_an_undefined_metric_is_a_row_marked_not_applicable(tmp_path):
    # A pruned regression model that predicts one constant has no correlation (NaN): its row
    # stays, marked n/a, rather than vanishing as if it had not run.
    jobs = [Job(task="stsb", pruner="magnitude", seed=seed, metric_name="spearman",
                metrics={"spearman": math.nan}, teacher_metrics={"spearman": 24.5})
            for seed in range(3)]
    jobs += [Job(task="stsb", pruner="kprune", seed=seed, metric_name="spearman",
                 metrics={"spearman": 20.0 + seed}, teacher_metrics={"spearman": 24.5})
             for seed in range(3)]
    loaded = choose_metric(load_results(write_results(tmp_path / "r.h5", jobs)).jobs, {})
    table = aggregate(loaded, done_prune_jobs(loaded))
    markdown = to_markdown(table)
    assert "| magnitude | n/a |" in markdown
    assert "| kprune | **21.00 ± 1.00** |" in markdown
    assert "n/a: the metric is undefined on every seed" in markdown
    assert "n/a" not in to_markdown(table[table["pruner"] == "kprune"])


def test_a_missed_flops_target_is_marked_and_never_best(tmp_path):
    # EBERT's gates are a soft target: at 40 % it removed 27 %; its higher metric must neither
    # look like a 40 % result nor win the column.
    curve = make_curve([1.0, 2.0], [90.0, 91.0], [0.2, 0.27])
    jobs = [Job(pruner="kprune", flops_reduction=0.4, metrics={"accuracy": 85.0}),
            retraining_job(curve, method="EBERT", flops_reduction=0.4,
                           metrics={"accuracy": 91.0}, details={"flops_reduction": 0.27}),
            retraining_job(make_curve([1.0], [88.0], [0.5]), method="DynaBERT-w",
                           flops_reduction=0.4, metrics={"accuracy": 88.0},
                           details={"flops_reduction": 0.5})]
    loaded = choose_metric(load_results(write_results(tmp_path / "r.h5", jobs)).jobs, {})
    table = aggregate(loaded, done_prune_jobs(loaded))
    ebert = cell(table, "EBERT", 0.4)
    assert ebert["target_missed"] and not ebert["best"]
    assert ebert["achieved"] == pytest.approx(0.27)
    assert cell(table, "DynaBERT-w", 0.4)["best"]
    assert not cell(table, "kprune", 0.4)["target_missed"]  # no details: nothing to compare
    markdown = to_markdown(table)
    assert "| EBERT | 91.00 ‡27% |" in markdown
    assert "| DynaBERT-w | **88.00** |" in markdown
    assert "‡N%: the method removed only N % of the FLOPs" in markdown
