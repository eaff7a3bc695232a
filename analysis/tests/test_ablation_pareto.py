import statistics

import pytest
from results_factory import Job, write_results

from kprune_report.ablation import ablation_parameters, ablation_table, base_value, sorted_values
from kprune_report.pareto import TEACHER, latency_points
from kprune_report.results import load_results
from kprune_report.selection import choose_metric, done_prune_jobs


def load(tmp_path, grid):
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", grid)).jobs, {})
    return jobs, done_prune_jobs(jobs)


def ablation_metric(lam, mu, seed):
    return 70.0 + 3 * float(lam) + float(mu) / 32 + seed


@pytest.fixture
def ablation_jobs(tmp_path):
    grid = [Job(task="sst2", seed=seed, flops_reduction=0.6,
                extra={"kprune.lam_pred": lam, "kprune.mu": mu, "kprune.T": "2"},
                metrics={"accuracy": ablation_metric(lam, mu, seed)})
            for lam in ("0", "1", "2.5") for mu in ("32", "64") for seed in (0, 1)]
    return load(tmp_path, grid)[1]


def test_varying_parameters_and_their_base_values(ablation_jobs):
    # T never varies; the K-prune defaults lam_pred=1 and mu=64 were run, so they are bases.
    assert ablation_parameters(ablation_jobs) == {
        ("mini-bert", "kprune"): {"kprune.lam_pred": "1", "kprune.mu": "64"}}


def test_base_value_without_the_default_is_the_most_frequent():
    assert base_value("lam_pred", ["0", "0.5", "0.5", "2"]) == "0.5"
    assert base_value("mu", ["64.0", "32"]) == "64.0"  # numerically the default
    assert base_value("mode", ["REF", "CLEAN", "CLEAN"]) == "CLEAN"


def test_sorted_values_are_numeric_when_possible():
    assert sorted_values(["10", "2.5", "1e-05"]) == ["1e-05", "2.5", "10"]
    assert sorted_values(["REF", "CLEAN"]) == ["CLEAN", "REF"]


def test_one_parameter_views_hold_the_others_at_base(ablation_jobs):
    table = ablation_table(ablation_jobs)
    lam_rows = table[table["parameter"] == "lam_pred"]
    assert sorted(lam_rows["value"]) == ["0", "1", "2.5"]
    for row in lam_rows.itertuples():
        expected = [ablation_metric(row.value, "64", seed) for seed in (0, 1)]
        assert row.mean == pytest.approx(statistics.mean(expected))
        assert row.std == pytest.approx(statistics.stdev(expected))
        assert row.n == 2 and row.flops_reduction == 0.6 and row.task == "sst2"
    mu_rows = table[table["parameter"] == "mu"].set_index("value")
    assert mu_rows.loc["32", "mean"] == pytest.approx(ablation_metric("1", "32", 0) + 0.5)
    assert mu_rows.loc["64", "mean"] == pytest.approx(ablation_metric("1", "64", 0) + 0.5)


def test_no_ablation_without_varying_scoring_weights(tmp_path):
    _, prune_jobs = load(tmp_path, [Job(seed=s, extra={"lam_pred": "1"}) for s in (0, 1)])
    assert ablation_table(prune_jobs).empty


@pytest.fixture
def pareto(tmp_path):
    kprune = [Job(pruner="kprune", flops_reduction=0.5, seed=seed, metrics={"accuracy": value})
              for seed, value in ((0, 80.0), (1, 82.0))]
    kcm_50 = Job(pruner="kcm", flops_reduction=0.5, metrics={"accuracy": 70.0})
    kcm_70 = Job(pruner="kcm", flops_reduction=0.7, metrics={"accuracy": 60.0})
    shapes = lambda ms: [[1, 128, ms / 4, 0.1], [32, 128, ms, 0.5]]  # noqa: E731
    latency = [
        # rule 1: an explicit reference to kcm at 70%
        Job(kind="latency", extra={"source": kcm_70.job_id()}, latency=shapes(5.0)),
        # rule 2: parameters agree (seed 0, then seed 1) -> one point, means of both
        Job(kind="latency", seed=0, extra={"pruner": "kprune", "flops_reduction": "0.5"},
            latency=shapes(10.0)),
        Job(kind="latency", seed=1, extra={"pruner": "kprune", "flops_reduction": "0.5"},
            latency=shapes(12.0)),
        Job(kind="latency", extra={"pruner": "kcm", "flops_reduction": "0.5"},
            latency=shapes(12.0)),
        # rule 3: no pruner -> the unpruned teacher
        Job(kind="latency", latency=shapes(20.0)),
        Job(kind="latency", seed=7, status="failed", error="no GPU"),
    ]
    jobs, prune_jobs = load(tmp_path, kprune + [kcm_50, kcm_70] + latency)
    return latency_points(jobs, prune_jobs)


def test_latency_jobs_join_to_prune_jobs(pareto):
    batch32 = pareto[pareto["batch"] == 32].set_index(["pruner", "flops_reduction"])
    assert sorted(batch32.index) == [("kcm", 0.5), ("kcm", 0.7), ("kprune", 0.5), (TEACHER, 0.0)]
    assert batch32.loc[("kcm", 0.7), "latency_ms"] == 5.0
    assert batch32.loc[("kcm", 0.7), "metric"] == 60.0
    assert batch32.loc[("kprune", 0.5), "latency_ms"] == pytest.approx(11.0)
    assert batch32.loc[("kprune", 0.5), "metric"] == pytest.approx(81.0)
    assert batch32.loc[(TEACHER, 0.0), "metric"] == 85.0
    assert set(pareto["batch"]) == {1, 32} and set(pareto["seq_len"]) == {128}


def test_frontier_keeps_points_no_faster_point_beats(pareto):
    batch32 = pareto[pareto["batch"] == 32].set_index(["pruner", "flops_reduction"])
    frontier = {key for key, on in batch32["on_frontier"].items() if on}
    # kcm@50% (12 ms, 70) is beaten by kprune@50% (11 ms, 81)
    assert frontier == {("kcm", 0.7), ("kprune", 0.5), (TEACHER, 0.0)}


def test_no_points_without_latency_jobs(tmp_path):
    jobs, prune_jobs = load(tmp_path, [Job()])
    assert latency_points(jobs, prune_jobs).empty
