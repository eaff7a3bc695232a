"""Time to reach the reference's accuracy (retraining-baselines.md §3.3): hand-made learning
curves, the per-seed table, the aggregation over seeds and the Markdown, against numbers worked
out by hand below."""
import math

import numpy as np
import pandas as pd
import pytest
from results_factory import Job, make_curve, retraining_job, write_results

from kprune_report.efficiency import (efficiency_table, headline, resolve_reference,
                                      time_to_reach, to_markdown)
from kprune_report.errors import ReportError
from kprune_report.results import load_results
from kprune_report.selection import choose_metric, done_prune_jobs


def curve(t, metric, flops_reduction=0.5):
    return pd.DataFrame({"t": np.asarray(t, dtype=float),
                         "metric": np.asarray(metric, dtype=float),
                         "flops_reduction": np.broadcast_to(flops_reduction, (len(t),)),
                         "step": np.arange(len(t)) * 10})


def test_monotone_curve_reaches_at_the_first_checkpoint_at_or_above():
    rising = curve([1, 10, 20, 30], [60, 75, 80, 85])
    assert time_to_reach(rising, 0.5, 80.0) == 20.0
    assert time_to_reach(rising, 0.5, 79.9) == 20.0
    assert time_to_reach(rising, 0.5, 80.1) == 30.0
    assert time_to_reach(rising, 0.5, 50.0) == 1.0


def test_first_crossing_counts_on_a_non_monotone_curve():
    bumpy = curve([1, 10, 20, 30, 40], [60, 81, 78, 79, 82])
    assert time_to_reach(bumpy, 0.5, 80.0) == 10.0
    assert time_to_reach(bumpy, 0.5, 81.5) == 40.0


def test_never_reached_is_nan():
    assert math.isnan(time_to_reach(curve([1, 10], [60, 70]), 0.5, 80.0))


def test_checkpoint_below_the_flops_target_does_not_count():
    # 85 at t=10 and 84 at t=20 come from too large a model (30%, 48.9% < 50% - 1 point);
    # 49% is within the point of slack.
    soft = curve([1, 10, 20, 30], [60, 85, 84, 86], [0.5, 0.3, 0.489, 0.495])
    assert time_to_reach(soft, 0.5, 80.0) == 30.0
    assert time_to_reach(curve([1, 10], [60, 85], [0.5, 0.49]), 0.5, 80.0) == 10.0
    assert math.isnan(time_to_reach(soft, 0.6, 80.0))


def test_a_mean_with_float_noise_is_reached_by_its_printed_value():
    acc_k = (85.1 + 86.3) / 2  # 85.69999999999999
    assert time_to_reach(curve([1, 10], [60, 85.7]), 0.5, acc_k) == 10.0


# kprune at 50%: seeds 80, 81, 82 -> acc_K 81; pruning times 4, 5, 6 s -> t_K 5 s.
# DynaBERT-w at 50%, checkpoints at t = 2, 10, 20, 40, 80 s, pruning time 80.5 s:
#   seed 0 reaches 81 at t=20 (R 4), 80.5 at t=10 (R 2);
#   seed 1 reaches 81 at t=40 (R 8), 80.5 at t=20 (R 4);
#   seed 2 never reaches 81 (best 80.7), reaches 80.5 at t=40 (R 8).
#   -> ε = 0: 2/3 seeds, R_reach (4 + 8) / 2 = 6, t_reach 30 s; ε = 0.5: 3/3, (2+4+8)/3 = 4.67.
#   R_full 80.5 / 5 = 16.1; final metrics 84, 82, 80 -> 82.
# EBERT at 50% (stopped by max_wall_s): 84 and 83 at t = 2, 10 s but at 20% and 45% FLOPs
#   reduction; at the target only 79, 80 -> never reached, best 80 (reaches 80 at t=80 with
#   ε = 1: R 16).
# DynaBERT-w at 25%: no kprune run there.
T = [2, 10, 20, 40, 80]
SEED_METRICS = {0: [50, 80.6, 81.2, 80, 83], 1: [50, 70, 80.5, 81, 82],
                2: [50, 70, 75, 80.7, 80.2]}
SEED_FINAL = {0: 84.0, 1: 82.0, 2: 80.0}


def efficiency_jobs():
    jobs = [Job(pruner="kprune", seed=seed, metrics={"accuracy": 80.0 + seed},
                prune_time_s=4.0 + seed) for seed in range(3)]
    jobs.append(Job(pruner="kwon", metrics={"accuracy": 70.0}))
    jobs += [retraining_job(make_curve(T, SEED_METRICS[seed], 0.5), seed=seed,
                            metrics={"accuracy": SEED_FINAL[seed]}) for seed in range(3)]
    jobs.append(retraining_job(make_curve(T, [84, 83, 82, 79, 80], [0.2, 0.45, 0.48, 0.5, 0.5]),
                               method="EBERT", censored="true", metrics={"accuracy": 80.0}))
    jobs.append(retraining_job(make_curve(T, [50, 60, 70, 80, 85], 0.25), flops_reduction=0.25,
                               metrics={"accuracy": 85.0}))
    jobs.append(Job(kind="retrain", extra={"method": "dynabert"}, wall_time_s=70.0))
    return jobs


@pytest.fixture
def prune_jobs(tmp_path):
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", efficiency_jobs())).jobs,
                         {})
    return done_prune_jobs(jobs)


def job_row(table, method, reduction, seed):
    rows = table[(table["method"] == method) & (table["flops_reduction"] == reduction)
                 & (table["seed"] == seed)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_per_seed_numbers(prune_jobs):
    table = efficiency_table(prune_jobs, "kprune", 0.0)
    assert len(table) == 5  # the retrain job and the retraining-free jobs are not rows
    expected = {0: (20.0, 4.0, 10.0, 2.0), 1: (40.0, 8.0, 20.0, 4.0)}
    for seed, (t_reach, r_reach, t_reach_eps, r_reach_eps) in expected.items():
        row = job_row(table, "DynaBERT-w", 0.5, seed)
        assert (row["acc_K"], row["t_K_s"], row["n_reference"]) == (81.0, 5.0, 3)
        assert row["t_reach_s"] == t_reach and row["R_reach"] == pytest.approx(r_reach)
        assert row["t_reach_s_eps0.5"] == t_reach_eps
        assert row["R_reach_eps0.5"] == pytest.approx(r_reach_eps)
        assert not row["censored"] and not row["censored_eps0.5"]
    never = job_row(table, "DynaBERT-w", 0.5, 2)
    assert never["censored"] and math.isnan(never["t_reach_s"]) and math.isnan(never["R_reach"])
    assert never["best_metric"] == 80.7
    assert never["final_gap"] == pytest.approx(1.0)  # 81 - 80
    assert never["R_full"] == pytest.approx(16.1) and never["t_total_s"] == 80.5
    assert not never["censored_eps0.5"] and never["R_reach_eps0.5"] == pytest.approx(8.0)
    assert not never["job_censored"]
    assert never["t_eval_s"] == 2.5  # the factory's five 0.5 s evaluations
    ebert = job_row(table, "EBERT", 0.5, 0)
    assert ebert["censored"] and ebert["censored_eps0.5"] and ebert["job_censored"]
    assert ebert["best_metric"] == 80.0 and ebert["flops_achieved"] == 0.5
    unmatched = job_row(table, "DynaBERT-w", 0.25, 0)
    assert math.isnan(unmatched["acc_K"]) and pd.isna(unmatched["censored"])
    assert unmatched["n_reference"] == 0 and unmatched["best_metric"] == 85.0


def test_epsilon_tolerance(prune_jobs):
    table = efficiency_table(prune_jobs, "kprune", 1.0)  # reach 80
    reached = table[table["flops_reduction"] == 0.5].set_index(["method", "seed"])["R_reach"]
    assert reached.to_dict() == pytest.approx({("DynaBERT-w", 0): 2.0, ("DynaBERT-w", 1): 4.0,
                                               ("DynaBERT-w", 2): 8.0, ("EBERT", 0): 16.0})
    assert headline(table, "kprune", 1.0) == (
        "Up to 16.0×: EBERT at 50% on mrpc (mini-bert) (kprune 5.00 s, EBERT reached 80.00 "
        "(kprune 81.00 − 1) after 80.0 s).")


def test_markdown_cells_aggregate_the_seeds(prune_jobs):
    markdown = to_markdown(efficiency_table(prune_jobs, "kprune", 0.0), "kprune", 0.0)
    lines = markdown.splitlines()
    assert "## mini-bert · mrpc (accuracy)" in lines
    assert "| Method | ε | 25% | 50% |" in lines
    assert "| DynaBERT-w | 0 | no kprune run | 6.00× (2/3) |" in lines
    assert "| DynaBERT-w | 0.5 | no kprune run | 4.67× (3/3) |" in lines
    assert "| EBERT | 0 | – | not reached (best 80.00 vs 81.00) † |" in lines
    assert "| EBERT | 0.5 | – | not reached (best 80.00 vs 80.50) † |" in lines
    assert "| DynaBERT-w | n/a · 85.00 | 16.1× · 82.00 |" in lines
    assert "| EBERT | – | 16.1× · 80.00 |" in lines
    assert "| kprune | 25% | 50% |" in lines
    assert "| acc_K | – | 81.00 |" in lines
    assert "| t_K (s) | – | 5.00 |" in lines
    assert "| seeds | – | 3 |" in lines
    assert lines[-1] == ("Up to 6.00×: DynaBERT-w at 50% on mrpc (mini-bert) (kprune 5.00 s, "
                         "DynaBERT-w reached 81.00 after 30.0 s).")


def test_no_method_reaching_is_said(tmp_path):
    jobs = [Job(pruner="kprune", metrics={"accuracy": 90.0}),
            retraining_job(make_curve([1, 2], [80, 85], 0.5), method="DynaBERT-d")]
    prune_jobs = done_prune_jobs(choose_metric(
        load_results(write_results(tmp_path / "r.h5", jobs)).jobs, {}))
    table = efficiency_table(prune_jobs, "kprune", 0.0)
    assert headline(table, "kprune", 0.0) == (
        "No retraining method reached kprune's accuracy (ε = 0) at any setting.")
    assert "| DynaBERT-d | 0 | not reached (best 85.00 vs 90.00) |" in to_markdown(
        table, "kprune", 0.0).splitlines()


def test_reaching_before_any_training_step_is_marked_and_left_out_of_the_headline(tmp_path):
    # kprune at the majority class (68.4); DynaBERT-w's untrained start (step 0) already has it,
    # DynaBERT-d only reaches it after training (t = 12 s, R 12 / 4 = 3).
    jobs = [Job(pruner="kprune", metrics={"accuracy": 68.4}, prune_time_s=4.0),
            retraining_job(make_curve([2, 12], [68.4, 70], 0.5)),
            retraining_job(make_curve([2, 12], [60, 69], 0.5), method="DynaBERT-d")]
    prune_jobs = done_prune_jobs(choose_metric(
        load_results(write_results(tmp_path / "r.h5", jobs)).jobs, {}))
    table = efficiency_table(prune_jobs, "kprune", 0.0)
    assert list(table.sort_values("method")["untrained"]) == [False, True]
    lines = to_markdown(table, "kprune", 0.0).splitlines()
    assert "| DynaBERT-w | 0 | 0.50× (1/1) ‡ |" in lines
    assert "| DynaBERT-d | 0 | 3.00× (1/1) |" in lines
    assert headline(table, "kprune", 0.0).startswith("Up to 3.00×: DynaBERT-d at 50%")
    only_untrained = table[table["method"] == "DynaBERT-w"]
    assert headline(only_untrained, "kprune", 0.0) == (
        "Every retraining method that reached kprune's accuracy (ε = 0) did so before any "
        "training step (‡): no time-to-reach ratio to report.")


def test_reference_must_be_a_retraining_free_row(prune_jobs):
    assert resolve_reference(prune_jobs, "kprune", explicit=True) == "kprune"
    assert resolve_reference(prune_jobs, "kcm", explicit=False) is None
    for name in ("kcm", "DynaBERT-w"):
        with pytest.raises(ReportError, match=rf"--reference {name}: not a retraining-free row "
                                              r"of the results \(rows: kprune, kwon\)"):
            resolve_reference(prune_jobs, name, explicit=True)


def test_nothing_to_compare_gives_no_table(prune_jobs):
    assert efficiency_table(prune_jobs, None, 0.0) is None
    free = prune_jobs[prune_jobs["curve"].isna()]
    assert efficiency_table(free, "kprune", 0.0) is None
