from results_factory import Job, make_curve, retraining_job, write_results

from kprune_report.results import load_results
from kprune_report.summary import run_summary


def test_summary_counts_failures_times_hosts_and_versions(tmp_path):
    jobs = [Job(pruner="kprune", seed=0, prune_time_s=1.5, wall_time_s=3.0, host="a"),
            Job(pruner="kprune", seed=1, prune_time_s=2.5, wall_time_s=4.0, host="b",
                device="cuda:0", code_version="0.1.0 (git def5678)"),
            Job(pruner="kcm", prune_time_s=0.5, wall_time_s=1.0, host="a"),
            Job(pruner="kwon", status="failed", wall_time_s=0.25, host="b",
                error="mask tuning diverged:\nloss is nan"),
            Job(kind="finetune", wall_time_s=100.0, host="a")]
    summary = run_summary(load_results(write_results(tmp_path / "r.h5", jobs)))
    lines = summary.splitlines()
    assert "| finetune | 1 | 0 | 1 |" in lines
    assert "| prune | 3 | 1 | 4 |" in lines
    assert "| all | 4 | 1 | 5 |" in lines
    assert "## Failed jobs (1)" in lines
    failed = next(line for line in lines if line.startswith(f"| {jobs[3].job_id()} "))
    assert "| kwon | 50% | 0 | b | mask tuning diverged: loss is nan |" in failed
    assert "Total wall time of all jobs: 108.2 s (0.03 h)." in lines
    assert "| kprune | 2 | 7.0 | 4.0 | 2.00 |" in lines
    assert "| kcm | 1 | 1.0 | 0.5 | 0.50 |" in lines
    assert "| a | cpu | 3 | 1 | 512 |" in lines
    assert "| b | cuda:0 | 1 | 1 | 512 |" in lines
    assert "| 0.1.0 (git abc1234) | 4 |" in lines
    assert "| 0.1.0 (git def5678) | 1 |" in lines
    assert "Note: jobs were run with more than one code version." in lines


def test_summary_without_failures(tmp_path):
    summary = run_summary(load_results(write_results(tmp_path / "r.h5", [Job()])))
    assert "## Failed jobs (0)\n\nNone." in summary


def test_summary_counts_retrain_jobs_and_splits_time_of_retraining_methods(tmp_path):
    # make_curve: t_importance 1, t_train = t - 1, t_eval 0.5 s per checkpoint, t_io 0.
    curve = make_curve([1.0, 11.0, 21.0], [60.0, 70.0, 80.0], 0.5, importance_s=1.0)
    jobs = [retraining_job(curve, method="DynaBERT-w", wall_time_s=30.0),
            retraining_job(curve, method="DynaBERT-d", wall_time_s=30.0, censored="true"),
            retraining_job(curve, method="DynaBERT-d", seed=1, wall_time_s=30.0),
            Job(kind="retrain", extra={"method": "dynabert"}, wall_time_s=70.0),
            Job(pruner="kprune", prune_time_s=2.0, wall_time_s=3.0)]
    lines = run_summary(load_results(write_results(tmp_path / "r.h5", jobs))).splitlines()
    assert "| retrain | 1 | 0 | 1 |" in lines
    assert "| prune | 4 | 0 | 4 |" in lines
    assert "| DynaBERT-d | 2 | 60.0 | 43.0 | 21.50 |" in lines  # 21 + 0.5 s each
    assert "| DynaBERT-w | 1 | 30.0 | 21.5 | 21.50 |" in lines
    assert "| kprune | 1 | 3.0 | 2.0 | 2.00 |" in lines
    assert "| DynaBERT-d | 2 | 2.0 | 40.0 | 3.0 | 0.0 | 1 |" in lines
    assert "| DynaBERT-w | 1 | 1.0 | 20.0 | 1.5 | 0.0 | 0 |" in lines
    assert not any(line.startswith("| kprune | 1 | 0.0") for line in lines)
    assert any(line.startswith("Shared training (kind retrain, jobs: 1): 70.0 s wall.")
               for line in lines)
    assert "| retrain | 70.0 |" in lines
