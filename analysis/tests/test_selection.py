import pytest
from results_factory import Job, make_curve, retraining_job, write_results

from kprune_report.errors import ReportError
from kprune_report.results import load_results
from kprune_report.selection import (Filters, choose_metric, done_prune_jobs, filter_jobs,
                                     parse_metric_choices)


@pytest.fixture
def jobs(tmp_path):
    grid = [Job(model=model, task=task, pruner=pruner, flops_reduction=reduction)
            for model in ("bert-base", "mini-bert") for task in ("mrpc", "sst2")
            for pruner in ("kprune", "kcm") for reduction in (0.4, 0.6, 0.8)]
    grid.append(Job(kind="finetune", task="mrpc"))
    return load_results(write_results(tmp_path / "r.h5", grid)).jobs


def test_filters_select_prune_jobs_and_keep_finetune_rows(jobs):
    kept = filter_jobs(jobs, Filters(tasks=["mrpc"], pruners=["kcm"], models=["mini-bert"],
                                     min_ratio=0.5, max_ratio=0.8))
    prune = kept[kept["kind"] == "prune"]
    assert sorted(prune["flops_reduction"]) == [0.6, 0.8]
    assert set(prune["pruner"]) == {"kcm"} and set(prune["task"]) == {"mrpc"}
    assert list(kept[kept["kind"] == "finetune"]["task"]) == ["mrpc"]


def test_unknown_filter_value_lists_what_exists(jobs):
    with pytest.raises(ReportError, match=r"--task qnli: not in the results \(available: "
                                          r"mrpc, sst2\)"):
        filter_jobs(jobs, Filters(tasks=["qnli"]))
    assert filter_jobs(jobs, Filters(tasks=["qnli"]), strict=False).empty


def test_metric_choices_parse():
    assert parse_metric_choices(["f1", "stsb=pearson,qqp=accuracy"]) == {
        "*": "f1", "stsb": "pearson", "qqp": "accuracy"}
    with pytest.raises(ReportError, match="expected NAME or TASK=NAME"):
        parse_metric_choices(["stsb="])


@pytest.fixture
def metric_jobs(tmp_path):
    grid = [Job(task="stsb", metric_name="spearman", metrics={"spearman": 85.0, "pearson": 86.0},
                teacher_metrics={"spearman": 88.0, "pearson": 89.0}),
            Job(task="mrpc", metric_name="accuracy", metrics={"accuracy": 80.0, "f1": 84.0},
                teacher_metrics={"accuracy": 86.0, "f1": 90.0}),
            Job(task="sst2", metric_name="accuracy", metrics={"accuracy": 90.0},
                teacher_metrics={"accuracy": 92.0})]
    return load_results(write_results(tmp_path / "r.h5", grid)).jobs


def values(jobs):
    return {row.task: (row.value_name, row.value, row.teacher_value)
            for row in jobs.itertuples()}


def test_default_metric_is_the_main_one(metric_jobs):
    assert values(choose_metric(metric_jobs, {})) == {
        "stsb": ("spearman", 85.0, 88.0), "mrpc": ("accuracy", 80.0, 86.0),
        "sst2": ("accuracy", 90.0, 92.0)}


def test_chosen_metric_per_task_reads_run_attributes(metric_jobs):
    chosen = choose_metric(metric_jobs, {"stsb": "pearson", "mrpc": "f1"})
    assert values(chosen) == {"stsb": ("pearson", 86.0, 89.0), "mrpc": ("f1", 84.0, 90.0),
                              "sst2": ("accuracy", 90.0, 92.0)}


def test_global_metric_applies_where_it_exists(metric_jobs):
    chosen = values(choose_metric(metric_jobs, {"*": "f1"}))
    assert chosen["mrpc"] == ("f1", 84.0, 90.0) and chosen["sst2"][0] == "accuracy"


def test_unknown_metric_lists_available(metric_jobs):
    with pytest.raises(ReportError, match=r"no job of stsb has metric.f1 \(available: "
                                          r"pearson, spearman\)"):
        choose_metric(metric_jobs, {"stsb": "f1"})


def test_variants_separate_only_parameters_that_would_mix(tmp_path):
    # lam_pred differs between jobs sharing reduction and seed -> part of the variant;
    # sample_seed follows seed, so it is not.
    grid = [Job(pruner="kprune", seed=seed, extra={"lam_pred": lam, "sample_seed": str(seed)})
            for lam in ("0", "1") for seed in (0, 1)]
    grid += [Job(pruner="kcm", seed=seed, extra={"sample_seed": str(seed)}, label="KCM-approx")
             for seed in (0, 1)]
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", grid)).jobs, {})
    variants = done_prune_jobs(jobs)["variant"].value_counts().to_dict()
    assert variants == {"kprune (lam_pred=0)": 2, "kprune (lam_pred=1)": 2, "KCM-approx": 2}


def test_failed_jobs_and_jobs_without_metric_are_not_reported(tmp_path):
    grid = [Job(seed=0), Job(seed=1, status="failed", error="boom"),
            Job(seed=2, metrics={}), Job(kind="finetune")]
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", grid)).jobs, {})
    assert list(done_prune_jobs(jobs)["seed"]) == [0]


def test_a_parameter_the_label_tells_apart_is_not_repeated(tmp_path):
    # DynaBERT-w and -d are one pruner (dynabert) whose pruner.variant differs at the same
    # reduction and seed: the labels already separate them; lr still splits DynaBERT-w.
    curve = make_curve([1.0], [70.0], 0.5)
    grid = [retraining_job(curve, method=method) for method in ("DynaBERT-w", "DynaBERT-d")]
    grid.append(retraining_job(curve, method="DynaBERT-w", extra={"pruner.lr": "1e-4"}))
    grid.append(Job(kind="retrain", extra={"method": "dynabert"}))
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", grid)).jobs, {})
    assert sorted(done_prune_jobs(jobs)["variant"]) == ["DynaBERT-d", "DynaBERT-w",
                                                        "DynaBERT-w (lr=1e-4)"]
