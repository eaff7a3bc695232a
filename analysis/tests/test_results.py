import h5py
import numpy as np
import pytest
from results_factory import (Job, make_curve, retraining_job, write_foreign_hdf5, write_not_hdf5,
                             write_results)

from kprune_report.errors import ReportError
from kprune_report.results import load_results, parse_params


def test_reads_summary_and_run_details(tmp_path):
    job = Job(task="stsb", metric_name="spearman", extra={"lam_pred": "0.5"},
              metrics={"spearman": 88.0, "pearson": 89.0},
              teacher_metrics={"spearman": 90.0, "pearson": 91.0},
              label="KCM-approx", latency=[[1, 128, 3.5, 0.1]])
    results = load_results(write_results(tmp_path / "r.h5", [job]))
    assert results.attrs["schema_version"] == 1
    assert results.attrs["kprune_version"] == "0.1.0 (git abc1234)"
    row = results.jobs.iloc[0]
    assert row["job_id"] == job.job_id()
    assert row["metric"] == 88.0 and row["teacher_metric"] == 90.0
    assert row["param"]["lam_pred"] == "0.5" and row["param"]["task"] == "stsb"
    assert row["metrics"] == {"spearman": 88.0, "pearson": 89.0}
    assert row["teacher_metrics"]["pearson"] == 91.0
    assert row["label"] == "KCM-approx"
    assert row["latency"].tolist() == [[1, 128, 3.5, 0.1]]


def test_last_summary_row_of_a_rerun_job_wins(tmp_path):
    failed = Job(status="failed", error="out of memory")
    rerun = Job(status="done", metrics={"accuracy": 77.0})
    results = load_results(write_results(tmp_path / "r.h5", [failed, rerun]))
    assert len(results.jobs) == 1
    assert results.jobs.iloc[0]["status"] == "done"
    assert results.jobs.iloc[0]["metric"] == 77.0


def test_job_without_run_group_keeps_summary_params(tmp_path):
    path = write_results(tmp_path / "r.h5", [Job(extra={"mu": "32"})])
    with h5py.File(path, "a") as handle:
        del handle["runs"]
    row = load_results(path).jobs.iloc[0]
    assert row["param"]["mu"] == "32"
    assert row["metrics"] == {}


def test_parse_params():
    assert parse_params("a=1 b=x=y  c=") == {"a": "1", "b": "x=y", "c": ""}


@pytest.mark.parametrize("version,words", [(0, "older"), (2, "newer")])
def test_other_schema_version_is_refused_clearly(tmp_path, version, words):
    path = write_results(tmp_path / "old.h5", [Job()], schema_version=version)
    with pytest.raises(ReportError) as error:
        load_results(path)
    message = str(error.value)
    assert str(path) in message and f"version {version}" in message and words in message
    assert "reads version 1" in message


def test_foreign_hdf5_file_is_refused(tmp_path):
    path = write_foreign_hdf5(tmp_path / "model.h5")
    with pytest.raises(ReportError, match="not a kprune results file"):
        load_results(path)


def test_non_hdf5_file_is_refused(tmp_path):
    path = write_not_hdf5(tmp_path / "results.csv")
    with pytest.raises(ReportError, match="not an HDF5 file"):
        load_results(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ReportError, match="no-such.h5: no such file"):
        load_results(tmp_path / "no-such.h5")


def test_summary_missing_a_column_is_named(tmp_path):
    path = tmp_path / "partial.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["schema_version"] = np.int64(1)
        handle.create_dataset("summary", data=np.zeros(2, dtype=[("job_id", "S16"),
                                                                 ("metric", "f8")]))
    with pytest.raises(ReportError, match="'/summary' lacks column.*kind"):
        load_results(path)


def test_summary_that_is_not_a_table_is_refused(tmp_path):
    path = tmp_path / "flat.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["schema_version"] = np.int64(1)
        handle.create_dataset("summary", data=np.zeros(3))
    with pytest.raises(ReportError, match="not a compound dataset"):
        load_results(path)


def test_latency_of_wrong_shape_is_named(tmp_path):
    job = Job(kind="latency", latency=[[1.0, 2.0, 3.0]])
    with pytest.raises(ReportError, match=r"latency has shape \[1, 3\], expected \[K, 4\]"):
        load_results(write_results(tmp_path / "r.h5", [job]))


def test_non_integer_schema_version_is_named(tmp_path):
    path = tmp_path / "r.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["schema_version"] = "one"
    with pytest.raises(ReportError, match="schema_version.*expected an integer"):
        load_results(path)


def test_reads_learning_curve_censored_flag_and_details(tmp_path):
    curve = make_curve([0.5, 4.0, 9.0], [60.0, 75.0, 78.5], [0.5, 0.52, 0.5], importance_s=0.5)
    job = retraining_job(curve, censored="true", details={"subnetwork": "w=0.5 d=1",
                                                          "flops_reduction": 0.52})
    row = load_results(write_results(tmp_path / "r.h5", [job])).jobs.iloc[0]
    assert row["curve"]["t"].tolist() == [0.5, 4.0, 9.0]
    assert row["curve"]["metric"].tolist() == [60.0, 75.0, 78.5]
    assert row["curve"]["flops_reduction"].tolist() == [0.5, 0.52, 0.5]
    assert row["curve"]["step"].tolist() == [0, 10, 20]
    assert row["curve"]["t_train"].tolist() == [0.0, 3.5, 8.5]
    assert row["censored"]
    assert row["details"] == {"subnetwork": "w=0.5 d=1", "flops_reduction": 0.52}
    assert row["label"] == "DynaBERT-w" and row["times"]["train"] == 8.5


def test_file_without_curves_still_loads(tmp_path):
    row = load_results(write_results(tmp_path / "r.h5", [Job()])).jobs.iloc[0]
    assert row["curve"] is None and not row["censored"] and row["details"] == {}


@pytest.mark.parametrize("change,words", [
    (lambda curve: curve.update(metric=[60.0, 70.0]),
     r"curve: columns of unequal length \(.*metric 2.*t 3"),
    (lambda curve: curve.pop("metric"), r"curve lacks metric \(a curve needs t, metric, "),
    (lambda curve: curve.pop("t"), r"curve lacks t "),
])
def test_malformed_curve_is_named(tmp_path, change, words):
    curve = make_curve([1.0, 2.0, 3.0], [50.0, 60.0, 70.0], 0.5)
    change(curve)
    job = retraining_job(make_curve([1.0], [1.0], 0.5))
    job.curve = curve
    path = write_results(tmp_path / "r.h5", [job])
    with pytest.raises(ReportError, match=rf"r\.h5: /runs/{job.job_id()}/{words}"):
        load_results(path)


def test_details_that_are_not_json_are_named(tmp_path):
    job = retraining_job(make_curve([1.0], [1.0], 0.5))
    path = write_results(tmp_path / "r.h5", [job])
    with h5py.File(path, "a") as handle:
        handle[f"runs/{job.job_id()}"].attrs["details"] = "{width: 0.5"
    with pytest.raises(ReportError, match=rf"/runs/{job.job_id()}: attribute 'details' is not "
                                          r"JSON"):
        load_results(path)
