"""kprune-report RESULTS.h5 --out DIR [options]: tables, figures and a run summary.

Exit codes: 0 report written; 1 nothing to report (no finished prune jobs after filters; the
run summary is still written); 2 unusable input (file, option, CSV), one line on stderr.
"""
import argparse
import sys
from pathlib import Path

from kprune_report.ablation import ablation_heatmaps, ablation_lines, ablation_table
from kprune_report.compare import compare, read_reference_csv, write_comparison
from kprune_report.efficiency import (DEFAULT_REFERENCE, check_epsilon, efficiency_table,
                                      resolve_reference, write_efficiency)
from kprune_report.errors import ReportError
from kprune_report.figures import accuracy_vs_flops, efficiency_figures, metric_vs_time
from kprune_report.knowledge import knowledge_table, write_knowledge
from kprune_report.pareto import latency_points, pareto_figures
from kprune_report.plotting import FORMATS
from kprune_report.results import load_results
from kprune_report.selection import (Filters, choose_metric, done_prune_jobs, filter_jobs,
                                     filter_table, parse_metric_choices)
from kprune_report.summary import run_summary
from kprune_report.tables import aggregate, teacher_metrics, write_accuracy_tables


def _names(values):
    return [name.strip() for value in values or [] for name in value.split(",") if name.strip()]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kprune-report",
        description="Paper-style tables and figures from a kprune-sweep results file.")
    parser.add_argument("results", type=Path, help="results file (HDF5) written by kprune-sweep")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--task", action="append", help="only these tasks (repeat or a,b)")
    parser.add_argument("--pruner", action="append", help="only these pruners (repeat or a,b)")
    parser.add_argument("--model", action="append", help="only these models (repeat or a,b)")
    parser.add_argument("--min-ratio", type=float, default=float("-inf"),
                        help="smallest FLOPs reduction shown (fraction, e.g. 0.4)")
    parser.add_argument("--max-ratio", type=float, default=float("inf"),
                        help="largest FLOPs reduction shown (fraction, e.g. 0.8)")
    parser.add_argument("--metric", action="append",
                        help="metric shown instead of each task's main metric: NAME for every "
                             "task that has it, or TASK=NAME (e.g. stsb=pearson, mrpc=f1)")
    reference = parser.add_mutually_exclusive_group()
    reference.add_argument("--compare", type=Path, metavar="OTHER.h5",
                           help="second results file: tables of A, B and A - B")
    reference.add_argument("--compare-csv", type=Path, metavar="PAPER.csv",
                           help="CSV model,task,pruner,flops_reduction,metric[,std]")
    parser.add_argument("--reference", metavar="NAME",
                        help="retraining-free row the retraining methods' time to reach is "
                             f"measured against (default {DEFAULT_REFERENCE}, when present)")
    parser.add_argument("--epsilon", type=float, default=0.0,
                        help="time to reach: tolerance in points of the metric (default 0; "
                             "0.5 is always reported beside it)")
    parser.add_argument("--format", default=",".join(FORMATS),
                        help="figure formats, comma-separated (png, svg)")
    parser.add_argument("--no-figures", action="store_true",
                        help="tables, CSVs and summary only (fast; no plotting)")
    return parser


def _formats(text):
    formats = _names([text])
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown or not formats:
        raise ReportError(f"--format {text!r}: expected a comma-separated list of "
                          f"{', '.join(FORMATS)}")
    return formats


def _accuracy(results, filters, metric_choices, strict):
    jobs = choose_metric(filter_jobs(results.jobs, filters, strict=strict), metric_choices)
    prune_jobs = done_prune_jobs(jobs)
    return jobs, prune_jobs, aggregate(jobs, prune_jobs)


def _efficiency(results, filters, args):
    """(main-metric prune jobs, teachers, reference, efficiency table or None).

    Time to reach compares learning curves, which record each task's main metric only, so it
    ignores --metric.
    """
    jobs = choose_metric(filter_jobs(results.jobs, filters, strict=False), {})
    prune_jobs = done_prune_jobs(jobs)
    reference = resolve_reference(prune_jobs, args.reference or DEFAULT_REFERENCE,
                                  explicit=args.reference is not None)
    return (prune_jobs, teacher_metrics(jobs, prune_jobs), reference,
            efficiency_table(prune_jobs, reference, args.epsilon))


def _labels(path_a, path_b):
    if path_a.name != path_b.name:
        return path_a.name, path_b.name
    return str(path_a), str(path_b)


class NothingToReport(Exception):
    def __init__(self, message, written):
        super().__init__(message)
        self.written = written


def make_report(args):
    """Writes the report; returns the paths written."""
    _formats(args.format)  # bad --format, --epsilon are reported before any work
    check_epsilon(args.epsilon)
    filters = Filters(tasks=_names(args.task), pruners=_names(args.pruner),
                      models=_names(args.model), min_ratio=args.min_ratio,
                      max_ratio=args.max_ratio)
    metric_choices = parse_metric_choices(args.metric)
    results = load_results(args.results)
    args.out.mkdir(parents=True, exist_ok=True)
    summary_path = args.out / "summary.md"
    summary_path.write_text(run_summary(results), encoding="utf-8")
    written = [summary_path]

    jobs, prune_jobs, accuracy = _accuracy(results, filters, metric_choices, strict=True)
    if prune_jobs.empty:
        failed = int((results.jobs["status"] == "failed").sum())
        raise NothingToReport(f"{args.results}: no finished prune jobs with a metric"
                              f"{' match the filters' if filters != Filters() else ''} "
                              f"({len(results.jobs)} jobs in the file, {failed} failed); "
                              f"wrote only {summary_path}", written)

    ablation = ablation_table(prune_jobs)
    points = latency_points(jobs, prune_jobs)
    main_prune_jobs, teachers, reference_name, efficiency = _efficiency(results, filters, args)
    reference, label_a, label_b = None, "", ""
    if args.compare:
        _, _, reference = _accuracy(load_results(args.compare), filters, metric_choices,
                                    strict=False)
        label_a, label_b = _labels(args.results, args.compare)
    elif args.compare_csv:
        reference = filter_table(read_reference_csv(args.compare_csv), filters)
        label_a, label_b = _labels(args.results, args.compare_csv)

    written += write_accuracy_tables(accuracy, args.out)
    for name, table in (("ablation.csv", ablation), ("pareto.csv", points)):
        if len(table):
            table.to_csv(args.out / name, index=False)
            written.append(args.out / name)
    if reference is not None:
        written += write_comparison(compare(accuracy, reference), label_a, label_b, args.out)
    if efficiency is not None:
        written += write_efficiency(efficiency, reference_name, args.epsilon, args.out)
    written += write_knowledge(knowledge_table(prune_jobs), args.out)
    if not args.no_figures:
        formats = _formats(args.format)
        written += _figures(prune_jobs, accuracy, ablation, points, reference, label_b,
                            args.out, formats)
        if efficiency is not None:
            written += efficiency_figures(main_prune_jobs, efficiency, teachers, reference_name,
                                          args.out, formats)
    return written


def _figures(prune_jobs, accuracy, ablation, points, reference, reference_label, out, formats):
    written = accuracy_vs_flops(accuracy, out, formats)
    written += metric_vs_time(prune_jobs, accuracy, out, formats)
    if len(ablation):
        written += ablation_lines(ablation, out, formats)
        written += ablation_heatmaps(prune_jobs, out, formats)
    if len(points):
        written += pareto_figures(points, out, formats)
    if reference is not None:
        written += accuracy_vs_flops(accuracy, out, formats, reference=reference,
                                     reference_label=reference_label)
    return written


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        written = make_report(args)
    except ReportError as error:
        print(f"kprune-report: error: {error}", file=sys.stderr)
        return 2
    except NothingToReport as empty:
        print(f"kprune-report: {empty}", file=sys.stderr)
        return 1
    print(f"kprune-report: wrote {len(written)} files to {args.out}:")
    for path in written:
        print(f"  {path.name}")
    return 0
