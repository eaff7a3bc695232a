"""The command end to end: every table and figure path, exit codes and one-line errors."""
import csv
import os
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from results_factory import (Job, make_curve, retraining_job, write_foreign_hdf5, write_not_hdf5,
                             write_results)

from kprune_report.cli import main

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


PRUNER_OFFSET = {"kprune": 0.0, "kcm": -2.0, "kwon": -1.0}


def sweep_jobs():
    """Two tasks, three pruners (kwon without 70%), two seeds, a failed job, a K-prune
    ablation over lam_pred x mu on a third task, and latency jobs."""
    jobs = [Job(model="bert-base", task=task, pruner=pruner, flops_reduction=reduction,
                seed=seed, metric_name="spearman" if task == "stsb" else "accuracy",
                metrics=({"spearman": 85 - 10 * reduction + seed, "pearson": 86.0}
                         if task == "stsb"
                         else {"accuracy": 84 - 10 * reduction - seed + PRUNER_OFFSET[pruner]}),
                teacher_metrics={"spearman": 88.0, "pearson": 89.0, "accuracy": 86.0},
                prune_time_s={"kprune": 60.0, "kcm": 4.0, "kwon": 20.0}[pruner])
            for task in ("mrpc", "stsb") for pruner in ("kprune", "kcm", "kwon")
            for reduction in (0.4, 0.5, 0.6, 0.7) for seed in (0, 1)
            if not (pruner == "kwon" and reduction == 0.7)]
    jobs.append(Job(model="bert-base", pruner="kwon", flops_reduction=0.7, seed=5,
                    status="failed", error="CUDA out of memory"))
    jobs += [Job(model="bert-base", task="sst2", flops_reduction=reduction,
                 extra={"lam_pred": lam, "mu": mu},
                 metrics={"accuracy": 80 + float(lam) + float(mu) / 64 - 10 * reduction})
             for lam in ("0", "1") for mu in ("32", "64") for reduction in (0.4, 0.6)]
    jobs += [Job(kind="latency", model="bert-base", task="mrpc",
                 extra={"pruner": "kcm", "flops_reduction": f"{reduction:g}"},
                 latency=[[32, 128, 100 * (1 - reduction), 1.0]])
             for reduction in (0.4, 0.6)]
    jobs.append(Job(kind="latency", model="bert-base", task="mrpc", latency=[[32, 128, 100, 2]]))
    return jobs


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    results = write_results(root / "sweep.h5", sweep_jobs())
    assert main([str(results), "--out", str(root / "out")]) == 0
    return root / "out"


EXPECTED_FIGURES = [
    "accuracy_vs_flops_bert-base", "metric_vs_time_bert-base",
    "ablation_bert-base_kprune_lam_pred", "ablation_bert-base_kprune_mu",
    "ablation_bert-base_kprune_lam_pred_mu", "pareto_bert-base_b32_s128"]


def assert_valid_figure(stem_path):
    png = stem_path.with_suffix(".png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 1000
    assert ElementTree.parse(stem_path.with_suffix(".svg")).getroot().tag.endswith("svg")


def test_every_figure_is_written_as_png_and_svg(report):
    for stem in EXPECTED_FIGURES:
        assert_valid_figure(report / stem)
    figures = {path.stem for path in report.iterdir() if path.suffix in (".png", ".svg")}
    assert figures == set(EXPECTED_FIGURES)


def test_tables_and_summary_are_written(report):
    markdown = (report / "accuracy.md").read_text()
    assert "### bert-base · stsb (spearman)" in markdown
    # mrpc at 40%: kprune seeds 0, 1 -> 80 and 79; kcm 2 lower; kwon 1 lower, not run at 70%
    assert "| kprune | **79.50 ± 0.71** | **78.50 ± 0.71** |" in markdown
    assert "| kcm | 77.50 ± 0.71 | 76.50 ± 0.71 | 75.50 ± 0.71 | 74.50 ± 0.71 |" in markdown
    assert "| kwon | 78.50 ± 0.71 | 77.50 ± 0.71 | 76.50 ± 0.71 | – |" in markdown
    assert "\\begin{tabular}" in (report / "accuracy.tex").read_text()
    assert "ablation.csv" in os.listdir(report) and "pareto.csv" in os.listdir(report)
    summary = (report / "summary.md").read_text()
    assert "CUDA out of memory" in summary


def test_filters_and_metric_choice(tmp_path):
    results = write_results(tmp_path / "sweep.h5", sweep_jobs())
    out = tmp_path / "out"
    assert main([str(results), "--out", str(out), "--format", "svg", "--model", "bert-base",
                 "--pruner", "kprune,kcm", "--task", "stsb", "--min-ratio", "0.45",
                 "--max-ratio", "0.65", "--metric", "stsb=pearson"]) == 0
    markdown = (out / "accuracy.md").read_text()
    assert "### bert-base · stsb (pearson)" in markdown
    assert "| Pruner | 50% | 60% |" in markdown
    assert "| kcm | **86.00 ± 0.00** | **86.00 ± 0.00** |" in markdown
    assert "| kprune | **86.00 ± 0.00** | **86.00 ± 0.00** |" in markdown
    assert "kwon" not in markdown and "mrpc" not in markdown
    assert not list(out.glob("*.png")) and (out / "accuracy_vs_flops_bert-base.svg").exists()
    assert not (out / "pareto.csv").exists()  # its latency jobs are mrpc's


def run_main(capsys, *argv):
    code = main([str(arg) for arg in argv])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("make,words", [
    (lambda p: write_not_hdf5(p), "not an HDF5 file"),
    (lambda p: write_foreign_hdf5(p), "not a kprune results file"),
    (lambda p: write_results(p, [Job()], schema_version=0), "schema version 0 is an older"),
])
def test_unusable_file_gives_one_line_and_exit_2(tmp_path, capsys, make, words):
    path = make(tmp_path / "input.h5")
    code, err = run_main(capsys, path, "--out", tmp_path / "out")
    assert code == 2
    assert len(err) == 1 and err[0].startswith("kprune-report: error: ") and words in err[0]


def test_bad_options_exit_2(tmp_path, capsys):
    results = write_results(tmp_path / "r.h5", [Job()])
    code, err = run_main(capsys, results, "--out", tmp_path / "o", "--format", "pdf")
    assert code == 2 and "--format 'pdf'" in err[0]
    code, err = run_main(capsys, results, "--out", tmp_path / "o", "--pruner", "kwon")
    assert code == 2 and "--pruner kwon: not in the results (available: kprune)" in err[0]


def test_no_finished_jobs_is_reported_with_summary(tmp_path, capsys):
    results = write_results(tmp_path / "r.h5", [Job(status="failed", error="boom")])
    code, err = run_main(capsys, results, "--out", tmp_path / "out")
    assert code == 1 and len(err) == 1
    assert "no finished prune jobs with a metric (1 jobs in the file, 1 failed)" in err[0]
    assert "boom" in (tmp_path / "out" / "summary.md").read_text()
    assert not (tmp_path / "out" / "accuracy.md").exists()


def test_wrapper_script_runs_from_a_symlink_on_path(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kprune-report").symlink_to(REPO / "scripts" / "kprune-report")
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    env.pop("PYTHONPATH", None)
    results = write_results(tmp_path / "r.h5", [Job()])
    done = subprocess.run(["kprune-report", str(results), "--out", str(tmp_path / "out"),
                           "--no-figures"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "| kprune | **80.00** |" in (tmp_path / "out" / "accuracy.md").read_text()
    assert not list((tmp_path / "out").glob("*.png"))


def test_file_without_jobs_is_reported(tmp_path, capsys):
    code, err = run_main(capsys, write_results(tmp_path / "r.h5", []), "--out", tmp_path / "o")
    assert code == 1 and "(0 jobs in the file, 0 failed)" in err[0]
    assert "| all | 0 | 0 | 0 |" in (tmp_path / "o" / "summary.md").read_text()


def retraining_sweep():
    """kprune and kwon at 50% and 75% on two tasks, the three retraining methods with
    learning curves (EBERT's first checkpoints below the FLOPs target), DynaBERT's shared
    training job, and DynaBERT-w at 25% where kprune was not run."""
    times = [0.0, 30.0, 60.0, 120.0, 240.0]
    jobs = [Job(task=task, pruner=pruner, flops_reduction=reduction, seed=seed,
                metrics={"accuracy": 80.0 - 10 * reduction + seed - (pruner == "kwon")},
                prune_time_s={"kprune": 20.0, "kwon": 5.0}[pruner])
            for task in ("mrpc", "sst2") for pruner in ("kprune", "kwon")
            for reduction in (0.5, 0.75) for seed in (0, 1)]
    for task in ("mrpc", "sst2"):
        for reduction in (0.25, 0.5, 0.75):
            for method in ("DynaBERT-w", "DynaBERT-d", "EBERT"):
                if reduction == 0.25 and method != "DynaBERT-w":
                    continue
                flops = ([0.1, 0.3, reduction, reduction, reduction] if method == "EBERT"
                         else reduction)
                curve = make_curve(times, [50, 70, 74, 77, 79 - 10 * reduction], flops)
                jobs.append(retraining_job(curve, method=method, task=task,
                                           flops_reduction=reduction,
                                           metrics={"accuracy": 79.0 - 10 * reduction}))
    jobs.append(Job(kind="retrain", extra={"method": "dynabert"}, wall_time_s=250.0))
    return jobs


def test_retraining_methods_get_the_efficiency_table_and_figures(tmp_path):
    results = write_results(tmp_path / "r.h5", retraining_sweep())
    out = tmp_path / "out"
    assert main([str(results), "--out", str(out)]) == 0
    for stem in ("accuracy_vs_flops_mini-bert", "metric_vs_time_mini-bert",
                 "efficiency_mini-bert"):
        assert_valid_figure(out / stem)
    lines = (out / "efficiency.md").read_text().splitlines()
    # kprune at 75%: seeds 72.5, 73.5 -> acc_K 73, t_K 20 s. The curves reach 74 at t=60
    # (EBERT's 70 at t=30 is at 30% FLOPs reduction), so R_reach = 3 at 75%; at 50% kprune's
    # 75.5 is first reached at t=120 (77): R 6. R_full = (240 + 0.5) / 20 = 12.0.
    assert "| DynaBERT-d | 0 | – | 6.00× (1/1) | 3.00× (1/1) |" in lines
    assert "| EBERT | 0 | – | 6.00× (1/1) | 3.00× (1/1) |" in lines
    assert "| DynaBERT-w | 0 | no kprune run | 6.00× (1/1) | 3.00× (1/1) |" in lines
    assert "| DynaBERT-w | n/a · 76.50 | 12.0× · 74.00 | 12.0× · 71.50 |" in lines
    assert lines[-1].startswith("Up to 6.00×: DynaBERT-d at 50% on mrpc (mini-bert) "
                                "(kprune 20.0 s, DynaBERT-d reached 75.50 after 120 s)")
    with open(out / "efficiency.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 14 and {"R_reach", "R_reach_eps0.5", "R_full", "censored",
                                "job_censored", "best_metric", "t_K_s"} <= set(rows[0])
    accuracy = (out / "accuracy.md").read_text()
    assert "| DynaBERT-w | **76.50** | 74.00 | 71.50 |" in accuracy  # alone at 25%
    assert "| retrain | 1 | 0 | 1 |" in (out / "summary.md").read_text()


def test_efficiency_options_and_their_errors(tmp_path, capsys):
    results = write_results(tmp_path / "r.h5", retraining_sweep())
    out = tmp_path / "out"
    assert main([str(results), "--out", str(out), "--no-figures", "--reference", "kwon",
                 "--epsilon", "1"]) == 0
    lines = (out / "efficiency.md").read_text().splitlines()
    # kwon at 75%: 71.5, 72.5 -> 72, reached at t=60 (74); 5 s -> R 12; ε = 1 needs 71.
    assert lines[0] == "# Time to reach kwon's accuracy"
    assert "| DynaBERT-d | 1 | – | 12.0× (1/1) | 12.0× (1/1) |" in lines
    assert not list(out.glob("*.png"))
    code, err = run_main(capsys, results, "--out", out, "--reference", "EBERT")
    assert code == 2 and "--reference EBERT: not a retraining-free row of the results (rows: " \
                         "kprune, kwon)" in err[0]
    code, err = run_main(capsys, results, "--out", out, "--epsilon", "-1")
    assert code == 2 and "--epsilon -1: expected a tolerance in points >= 0" in err[0]


def test_no_efficiency_outputs_without_the_reference_or_retraining_jobs(tmp_path, report):
    results = write_results(tmp_path / "r.h5", [job for job in retraining_sweep()
                                                if job.pruner != "kprune"])
    assert main([str(results), "--out", str(tmp_path / "out"), "--format", "svg"]) == 0
    assert not list((tmp_path / "out").glob("efficiency*"))
    assert (tmp_path / "out" / "metric_vs_time_mini-bert.svg").exists()
    assert not list(report.glob("efficiency*"))
