"""Reads a kprune-sweep results file (docs/results-schema.md, version 1) into one job table.

Every problem with the file becomes a ReportError naming the file and the object at fault,
so that a foreign or damaged file gives one clear line instead of an h5py traceback.
"""
import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from kprune_report.errors import ReportError

SCHEMA_VERSION = 1

STRING_COLUMNS = ("job_id", "kind", "model", "task", "pruner", "params", "status",
                  "metric_name", "host", "start_time", "end_time", "error")
FLOAT_COLUMNS = ("flops_reduction", "metric", "teacher_metric", "flops_before", "flops_after",
                 "prune_time_s", "eval_time_s", "wall_time_s")
INT_COLUMNS = ("seed", "rank")
SUMMARY_COLUMNS = STRING_COLUMNS + FLOAT_COLUMNS + INT_COLUMNS

# Reductions are grouped on this many decimals so that 0.5 and 0.49999999999 are one column.
REDUCTION_DECIMALS = 6
# A learning curve without these columns cannot say when a checkpoint reached what.
CURVE_COLUMNS = ("t", "metric", "flops_reduction", "step")
RUN_COLUMNS = ("param", "metrics", "teacher_metrics", "times", "label", "code_version",
               "device", "peak_rss_mb", "latency", "curve", "censored", "details")


@dataclass
class Results:
    path: Path
    attrs: dict  # root attributes (kprune_version, config_path, created, ...)
    # One row per job_id (the last summary row wins), the summary columns plus:
    #   param (dict key -> string value), metrics / teacher_metrics (dict name -> float),
    #   times (dict name -> seconds), label, code_version, device (str), peak_rss_mb (float),
    #   latency (np.ndarray [K, 4] or None); retraining methods: curve (pd.DataFrame, one row
    #   per checkpoint, columns t, metric, flops_reduction, step, ...; None without a curve),
    #   censored (bool: max_wall_s stopped the training), details (dict, {} when absent).
    jobs: pd.DataFrame


def parse_params(text):
    """Canonical `key=value key=value` -> dict (values never contain spaces)."""
    params = {}
    for item in text.split():
        key, sep, value = item.partition("=")
        if sep:
            params[key] = value
    return params


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


def _read_root_attrs(path, handle):
    if "schema_version" not in handle.attrs:
        raise ReportError(f"{path}: not a kprune results file (no 'schema_version' attribute "
                          f"on '/'; results files are written by kprune-sweep)")
    try:
        version = int(handle.attrs["schema_version"])
    except (TypeError, ValueError):
        raise ReportError(f"{path}: attribute '/schema_version' is "
                          f"{handle.attrs['schema_version']!r}, expected an integer") from None
    if version != SCHEMA_VERSION:
        age = "an older" if version < SCHEMA_VERSION else "a newer"
        advice = ("rerun the sweep with this kprune to rewrite it" if version < SCHEMA_VERSION
                  else "update kprune-report")
        raise ReportError(f"{path}: results schema version {version} is {age} format; this "
                          f"kprune-report reads version {SCHEMA_VERSION} ({advice})")
    return {key: (_text(value) if key != "schema_version" else version)
            for key, value in handle.attrs.items()}


def _read_summary(path, handle):
    summary = handle.get("summary")
    if not isinstance(summary, h5py.Dataset) or summary.dtype.names is None:
        raise ReportError(f"{path}: '/summary' is missing or not a compound dataset "
                          f"(expected one row per job, see docs/results-schema.md)")
    missing = [name for name in SUMMARY_COLUMNS if name not in summary.dtype.names]
    if missing:
        raise ReportError(f"{path}: '/summary' lacks column(s) {', '.join(missing)}")
    rows = summary[()]
    columns = {}
    for name in STRING_COLUMNS:
        columns[name] = [_text(value) for value in rows[name]]
    for name in FLOAT_COLUMNS:
        columns[name] = rows[name].astype(np.float64)
    for name in INT_COLUMNS:
        columns[name] = rows[name].astype(np.int64)
    table = pd.DataFrame(columns, columns=list(SUMMARY_COLUMNS))
    # A job rerun after failure appends a row; the last one is the job's state.
    return table.drop_duplicates("job_id", keep="last").reset_index(drop=True)


def _prefixed(attrs, prefix, convert):
    return {key[len(prefix):]: convert(value) for key, value in attrs.items()
            if key.startswith(prefix)}


def _read_curve(where, group):
    """/runs/<id>/curve: one 1-D dataset per column, all of one length -> DataFrame."""
    curve = group.get("curve")
    if curve is None:
        return None
    where = f"{where}/curve"
    if not isinstance(curve, h5py.Group):
        raise ReportError(f"{where} is not a group of curve/<column> datasets")
    columns = {}
    for name, item in curve.items():
        if not isinstance(item, h5py.Dataset) or item.ndim != 1:
            raise ReportError(f"{where}/{name} is not a 1-D dataset")
        columns[name] = item[()]
    missing = [name for name in CURVE_COLUMNS if name not in columns]
    if missing:
        raise ReportError(f"{where} lacks {', '.join(missing)} (a curve needs "
                          f"{', '.join(CURVE_COLUMNS)})")
    if len({len(values) for values in columns.values()}) > 1:
        lengths = ", ".join(f"{name} {len(values)}" for name, values in columns.items())
        raise ReportError(f"{where}: columns of unequal length ({lengths})")
    for name in CURVE_COLUMNS:
        columns[name] = columns[name].astype(np.float64)
    return pd.DataFrame(columns)


def _read_details(where, attrs):
    if "details" not in attrs:
        return {}
    try:
        details = json.loads(_text(attrs["details"]))
    except ValueError as error:
        raise ReportError(f"{where}: attribute 'details' is not JSON ({error})") from None
    if not isinstance(details, dict):
        raise ReportError(f"{where}: attribute 'details' is not a JSON object")
    return details


def _read_run(path, runs, row):
    """Details from /runs/<job_id>; a job without a group keeps its summary values."""
    group = runs.get(row.job_id) if runs is not None else None
    if group is None:
        return dict(param=parse_params(row.params), metrics={}, teacher_metrics={}, times={},
                    label="", code_version="", device="", peak_rss_mb=np.nan, latency=None,
                    curve=None, censored=False, details={})
    attrs = group.attrs
    where = f"{path}: /runs/{row.job_id}"
    try:
        param = _prefixed(attrs, "param.", _text) or parse_params(row.params)
        latency = None
        if "latency" in group:
            latency = np.asarray(group["latency"][()], dtype=np.float64)
            if latency.ndim != 2 or latency.shape[1] != 4:
                raise ReportError(f"{where}/latency has shape {list(latency.shape)}, expected "
                                  f"[K, 4] (batch, seq_len, mean ms, std ms)")
        return dict(param=param,
                    metrics=_prefixed(attrs, "metric.", float),
                    teacher_metrics=_prefixed(attrs, "teacher_metric.", float),
                    times=_prefixed(attrs, "time.", float),
                    label=_text(attrs.get("label", "")),
                    code_version=_text(attrs.get("code_version", "")),
                    device=_text(attrs.get("device", "")),
                    peak_rss_mb=float(attrs.get("peak_rss_mb", np.nan)),
                    latency=latency,
                    curve=_read_curve(where, group),
                    censored=_text(attrs.get("censored", "false")) == "true",
                    details=_read_details(where, attrs))
    except (TypeError, ValueError) as error:
        raise ReportError(f"{where}: malformed attribute or dataset ({error})") from None


def load_results(path):
    """Opens and validates a results file; raises ReportError with a one-line reason."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"{path}: no such file")
    if not h5py.is_hdf5(str(path)):
        raise ReportError(f"{path}: not an HDF5 file (expected a results file written by "
                          f"kprune-sweep)")
    try:
        with h5py.File(path, "r") as handle:
            attrs = _read_root_attrs(path, handle)
            jobs = _read_summary(path, handle)
            runs = handle.get("runs")
            details = [_read_run(path, runs, row) for row in jobs.itertuples()]
    except OSError as error:
        raise ReportError(f"{path}: cannot read HDF5 data ({error})") from None
    for key in RUN_COLUMNS:
        jobs[key] = [detail[key] for detail in details]
    jobs["flops_reduction"] = jobs["flops_reduction"].round(REDUCTION_DECIMALS)
    return Results(path=path, attrs=attrs, jobs=jobs)
