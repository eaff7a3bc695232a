"""The knowledge diagnosis of K-prune jobs (details["knowledge"], written by kprune.cpp).

For each measurement step of a job, per remaining sublayer: the raw knowledge terms per unit
(heads per column, before mu), what the representational term is made of (squared features,
squared output weights, the LayerNorm input's mean square), each term's mean contribution to
the scores (after lambda, mu and the FLOPs division) and how many units the selection kept.
The markdown shows the first measurement (step 0, where every sublayer competes); the CSV has
every step.
"""
import pandas as pd

from kprune_report.selection import short_key

KNOWLEDGE_COLUMNS = ["model", "task", "pruner", "params", "flops_reduction", "seed", "step",
                     "sublayer", "kind", "kept", "units", "pred", "rep", "feature_square",
                     "weight_square", "pre_ln_square", "score_pred", "score_rep"]
RECORD_FIELDS = KNOWLEDGE_COLUMNS[7:]


def _varying_params(job):
    """The job's parameters besides the grid coordinates, as canonical key=value text."""
    skip = {"kind", "model", "task", "pruner", "flops_reduction", "seed", "checkpoint"}
    return " ".join(f"{short_key(key)}={value}" for key, value in sorted(job.param.items())
                    if short_key(key) not in skip)


def knowledge_table(prune_jobs):
    """One row per (job, measurement step, sublayer) of every job with a knowledge record."""
    rows = []
    for job in prune_jobs.itertuples():
        for record in job.details.get("knowledge", []):
            for sublayer in record.get("sublayers", []):
                rows.append(dict(model=job.model, task=job.task, pruner=job.pruner,
                                 params=_varying_params(job),
                                 flops_reduction=job.flops_reduction, seed=job.seed,
                                 step=record["step"],
                                 **{name: sublayer.get(name) for name in RECORD_FIELDS}))
    table = pd.DataFrame(rows, columns=KNOWLEDGE_COLUMNS)
    return table.sort_values(["model", "task", "pruner", "params", "flops_reduction", "seed",
                              "step", "sublayer"], kind="stable").reset_index(drop=True)


def _number(value):
    return f"{value:.3g}"


def to_markdown(table):
    """Step 0 of every job: which term decides, per sublayer."""
    lines = ["# K-prune's knowledge terms at the first measurement (step 0)", "",
             "Per sublayer, means over its units: `pred` and `rep` are the raw terms (heads per "
             "column, before mu); `rep` is built from `feature²` (mean over tokens of a column's "
             "squared feature) times `weight²` (mean squared output weight), divided by the "
             "tokens (weighting=paper) or also by `LN in²` (weighting=normalized: the LayerNorm "
             "input's mean square); `score pred` and `score rep` are what the two terms add to "
             "a unit's score after lambda, mu and the division by its FLOPs. At step 0 the "
             "student is the teacher, so `pred` is zero.", ""]
    first = table[table["step"] == table.groupby(
        ["model", "task", "pruner", "params", "flops_reduction", "seed"])["step"].transform("min")]
    for key, job in first.groupby(["model", "task", "pruner", "params", "flops_reduction",
                                   "seed"], sort=True):
        model, task, pruner, params, reduction, seed = key
        method = f"{pruner} {params}" if params else pruner
        lines += [f"## {model} {task}, {method}, {reduction * 100:g} % FLOPs reduction, "
                  f"seed {seed}", "",
                  "| sublayer | kind | kept | pred | rep | feature² | weight² | LN in² "
                  "| score pred | score rep |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for row in job.itertuples():
            lines.append(f"| {row.sublayer} | {row.kind} | {row.kept}/{row.units} | "
                         f"{_number(row.pred)} | {_number(row.rep)} | "
                         f"{_number(row.feature_square)} | {_number(row.weight_square)} | "
                         f"{_number(row.pre_ln_square)} | {_number(row.score_pred)} | "
                         f"{_number(row.score_rep)} |")
        lines.append("")
    return "\n".join(lines)


def write_knowledge(table, out_dir):
    """knowledge.csv (every step) and knowledge.md (step 0); nothing without records."""
    if table.empty:
        return []
    csv_path, md_path = out_dir / "knowledge.csv", out_dir / "knowledge.md"
    table.to_csv(csv_path, index=False)
    md_path.write_text(to_markdown(table), encoding="utf-8")
    return [csv_path, md_path]
