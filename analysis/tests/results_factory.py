"""Writes small results files to docs/results-schema.md (version 1, or another version) with
chosen jobs, as kprune-sweep would, so that the analysis is tested without running a sweep."""
import hashlib
import json
from dataclasses import dataclass, field

import h5py
import numpy as np

STR = h5py.string_dtype()
SUMMARY_DTYPE = np.dtype([
    ("job_id", STR), ("kind", STR), ("model", STR), ("task", STR), ("pruner", STR),
    ("flops_reduction", "f8"), ("seed", "i8"), ("params", STR), ("status", STR),
    ("metric_name", STR), ("metric", "f8"), ("teacher_metric", "f8"), ("flops_before", "f8"),
    ("flops_after", "f8"), ("prune_time_s", "f8"), ("eval_time_s", "f8"), ("wall_time_s", "f8"),
    ("rank", "i8"), ("host", STR), ("start_time", STR), ("end_time", STR), ("error", STR)])


@dataclass
class Job:
    kind: str = "prune"
    model: str = "mini-bert"
    task: str = "mrpc"
    pruner: str = "kprune"
    flops_reduction: float = 0.5
    seed: int = 0
    extra: dict = field(default_factory=dict)  # further parameters, e.g. {"lam_pred": "0.5"}
    status: str = "done"
    metric_name: str = "accuracy"
    metrics: dict = field(default_factory=lambda: {"accuracy": 80.0})
    teacher_metrics: dict = field(default_factory=lambda: {"accuracy": 85.0})
    prune_time_s: float = 1.0
    wall_time_s: float = 2.0
    host: str = "node1"
    device: str = "cpu"
    code_version: str = "0.1.0 (git abc1234)"
    error: str = ""
    label: str = ""
    latency: list = None  # rows of (batch, seq_len, mean ms, std ms)
    times: dict = field(default_factory=dict)  # further time.<name> attributes
    curve: dict = None  # retraining methods: column -> values (see make_curve)
    censored: str = None  # retraining methods: "true" when max_wall_s stopped the training
    details: dict = None  # retraining methods: written as JSON

    def params(self):
        params = {"kind": self.kind, "model": self.model, "task": self.task, "seed": str(self.seed),
                  **self.extra}
        if self.kind == "prune":
            params["pruner"] = self.pruner
            params["flops_reduction"] = f"{self.flops_reduction:g}"
        return dict(sorted(params.items()))

    def canonical(self):
        return " ".join(f"{key}={value}" for key, value in self.params().items())

    def job_id(self):
        return hashlib.sha256(self.canonical().encode()).hexdigest()[:16]


def _summary_row(job):
    is_prune = job.kind == "prune"
    done = job.status == "done"
    return (job.job_id(), job.kind, job.model, job.task, job.pruner if is_prune else "",
            job.flops_reduction if is_prune else np.nan, job.seed, job.canonical(), job.status,
            job.metric_name, job.metrics.get(job.metric_name, np.nan) if done else np.nan,
            job.teacher_metrics.get(job.metric_name, np.nan) if done else np.nan,
            10.0, 10.0 * (1 - job.flops_reduction) if is_prune else np.nan,
            job.prune_time_s if is_prune else np.nan, 0.5, job.wall_time_s, 0, job.host,
            "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z", job.error)


def _write_run(runs, job):
    group = runs.require_group(job.job_id())
    for key in list(group.attrs):
        del group.attrs[key]
    for key, value in job.params().items():
        group.attrs[f"param.{key}"] = value
    if job.status == "done":
        for name, value in job.metrics.items():
            group.attrs[f"metric.{name}"] = float(value)
        for name, value in job.teacher_metrics.items():
            group.attrs[f"teacher_metric.{name}"] = float(value)
    group.attrs["time.total"] = job.wall_time_s
    group.attrs["time.prune"] = job.prune_time_s
    for name, seconds in job.times.items():
        group.attrs[f"time.{name}"] = float(seconds)
    if job.censored is not None:
        group.attrs["censored"] = job.censored
    if job.details is not None:
        group.attrs["details"] = json.dumps(job.details)
    if job.curve is not None:
        if "curve" in group:
            del group["curve"]
        for name, values in job.curve.items():
            group.create_dataset(f"curve/{name}", data=np.asarray(values))
    for key in ("status", "error", "host", "kind", "code_version", "device", "label"):
        group.attrs[key] = getattr(job, key)
    group.attrs["rank"] = np.int64(0)
    group.attrs["peak_rss_mb"] = 512.0
    if job.latency is not None:
        if "latency" in group:
            del group["latency"]
        group.create_dataset("latency", data=np.asarray(job.latency, dtype=np.float64))


def make_curve(t, metric, flops_reduction, importance_s=0.0):
    """Every curve/<column> of a learning curve as kprune-sweep writes it: checkpoints at
    steps 0, 10, 20, ... in stage 1, `t` the cumulative pruning time (importance + training),
    dev evaluations 0.5 s each."""
    count = len(t)
    return {"t": np.asarray(t, dtype=np.float64),
            "metric": np.asarray(metric, dtype=np.float64),
            "flops_reduction": np.broadcast_to(np.asarray(flops_reduction, dtype=np.float64),
                                               (count,)).copy(),
            "step": np.arange(count, dtype=np.int64) * 10,
            "stage": np.ones(count, dtype=np.int64),
            "t_importance": np.full(count, importance_s),
            "t_train": np.asarray(t, dtype=np.float64) - importance_s,
            "t_eval": 0.5 * np.arange(1, count + 1, dtype=np.float64),
            "t_io": np.zeros(count)}


def retraining_job(curve, method="DynaBERT-w", **fields):
    """A finished retraining prune job (DynaBERT-w/-d or EBERT) with its learning curve; the
    job's pruning time is the curve's last t plus 0.5 s of selection unless given."""
    pruner, extra = {"DynaBERT-w": ("dynabert", {"pruner.variant": "w"}),
                     "DynaBERT-d": ("dynabert", {"pruner.variant": "d"}),
                     "EBERT": ("ebert", {})}[method]
    fields.setdefault("prune_time_s", float(curve["t"][-1]) + 0.5 if len(curve["t"]) else 0.5)
    fields.setdefault("censored", "false")
    last = {name: float(values[-1]) if len(values) else 0.0 for name, values in curve.items()}
    return Job(pruner=pruner, label=method, extra={**extra, **fields.pop("extra", {})},
               curve=curve, times={"importance": last["t_importance"], "train": last["t_train"],
                                   "eval": last["t_eval"], "io": last["t_io"]}, **fields)


def write_results(path, jobs, schema_version=1):
    """A results file with one summary row and one /runs group per job, in order (a job
    given twice is a rerun: two summary rows, the group holds the last)."""
    with h5py.File(path, "w") as handle:
        handle.attrs["schema_version"] = np.int64(schema_version)
        handle.attrs["kprune_version"] = "0.1.0 (git abc1234)"
        handle.attrs["config_path"] = "configs/test.toml"
        handle.attrs["config_text"] = "[sweep]\n"
        handle.attrs["created"] = "2024-01-01T00:00:00Z"
        rows = np.array([_summary_row(job) for job in jobs], dtype=SUMMARY_DTYPE)
        handle.create_dataset("summary", data=rows, maxshape=(None,), chunks=True)
        runs = handle.create_group("runs")
        for job in jobs:
            _write_run(runs, job)
    return path


def write_foreign_hdf5(path):
    """A valid HDF5 file that is not a results file."""
    with h5py.File(path, "w") as handle:
        handle.create_dataset("weights", data=np.zeros((2, 3)))
    return path


def write_not_hdf5(path):
    path.write_text("job_id,metric\nabc,80\n")
    return path
