import csv
import math

import pytest
from results_factory import Job, write_results

from kprune_report.cli import main
from kprune_report.compare import read_reference_csv
from kprune_report.errors import ReportError


def file_a(path):
    # kprune 50%: 79, 81 -> 80 ± 1.41; 60% only in A
    return write_results(path, [Job(flops_reduction=0.5, seed=0, metrics={"accuracy": 79.0}),
                                Job(flops_reduction=0.5, seed=1, metrics={"accuracy": 81.0}),
                                Job(flops_reduction=0.6, metrics={"accuracy": 75.0})])


def read_rows(path):
    with open(path, newline="") as handle:
        return {(row["pruner"], float(row["flops_reduction"])): row
                for row in csv.DictReader(handle)}


def test_two_results_files_side_by_side(tmp_path):
    (tmp_path / "ref").mkdir()
    (tmp_path / "clean").mkdir()
    a = file_a(tmp_path / "ref" / "results.h5")
    b = write_results(tmp_path / "clean" / "results.h5",
                      [Job(flops_reduction=0.5, metrics={"accuracy": 78.0}),
                       Job(flops_reduction=0.7, metrics={"accuracy": 70.0})])
    out = tmp_path / "out"
    assert main([str(a), "--out", str(out), "--compare", str(b), "--format", "svg"]) == 0
    rows = read_rows(out / "compare.csv")
    assert set(rows) == {("kprune", 0.5), ("kprune", 0.6), ("kprune", 0.7)}
    assert float(rows[("kprune", 0.5)]["difference"]) == pytest.approx(2.0)
    assert float(rows[("kprune", 0.5)]["std_a"]) == pytest.approx(math.sqrt(2))
    assert rows[("kprune", 0.6)]["mean_b"] == "" and rows[("kprune", 0.7)]["mean_a"] == ""
    markdown = (out / "compare.md").read_text()
    assert f"A = {a}, B = {b}" in markdown  # same file names: full paths tell them apart
    assert "| kprune | 50% | 80.00 ± 1.41 | 78.00 | +2.00 |" in markdown
    assert "| kprune | 60% | 75.00 | – | – |" in markdown
    assert (out / "compare_vs_flops_mini-bert.svg").stat().st_size > 0


def test_paper_csv_with_percent_or_fraction(tmp_path):
    paper = tmp_path / "paper.csv"
    paper.write_text("model,task,pruner,flops_reduction,metric,std\n"
                     "mini-bert,mrpc,kprune,50,82.5,\n"
                     "mini-bert, mrpc ,kprune,0.6,76.0,0.5\n"
                     "mini-bert,mrpc,kcm,0.5,70.0,\n")
    out = tmp_path / "out"
    assert main([str(file_a(tmp_path / "ours.h5")), "--out", str(out), "--compare-csv",
                 str(paper), "--no-figures"]) == 0
    rows = read_rows(out / "compare.csv")
    assert float(rows[("kprune", 0.5)]["difference"]) == pytest.approx(80.0 - 82.5)
    assert float(rows[("kprune", 0.6)]["difference"]) == pytest.approx(75.0 - 76.0)
    assert rows[("kcm", 0.5)]["mean_a"] == "" and float(rows[("kcm", 0.5)]["mean_b"]) == 70.0
    markdown = (out / "compare.md").read_text()
    assert "A = ours.h5, B = paper.csv" in markdown
    assert "| kprune | 60% | 75.00 | 76.00 ± 0.50 | -1.00 |" in markdown


def test_paper_csv_filters_apply(tmp_path):
    paper = tmp_path / "paper.csv"
    paper.write_text("model,task,pruner,flops_reduction,metric\n"
                     "mini-bert,mrpc,kprune,0.5,82.5\nmini-bert,mrpc,kprune,0.6,76\n")
    out = tmp_path / "out"
    assert main([str(file_a(tmp_path / "ours.h5")), "--out", str(out), "--compare-csv",
                 str(paper), "--max-ratio", "0.55", "--no-figures"]) == 0
    assert set(read_rows(out / "compare.csv")) == {("kprune", 0.5)}


@pytest.mark.parametrize("text,message", [
    ("model,task,pruner,metric\nm,t,p,1\n", "missing column.*flops_reduction"),
    ("model,task,pruner,flops_reduction,metric\nm,t,p,0.5,80\nm,t,p,0.6,high\n",
     "line 3: column metric is 'high', expected a number"),
    ("", "not a readable CSV"),
])
def test_bad_paper_csv_is_named(tmp_path, text, message):
    paper = tmp_path / "paper.csv"
    paper.write_text(text)
    with pytest.raises(ReportError, match=message):
        read_reference_csv(paper)


def test_a_reports_accuracy_csv_reads_back_as_reference(tmp_path):
    out = tmp_path / "out"
    assert main([str(file_a(tmp_path / "ours.h5")), "--out", str(out), "--no-figures"]) == 0
    reference = read_reference_csv(out / "accuracy.csv").set_index("flops_reduction")
    assert reference.loc[0.5, "mean"] == pytest.approx(80.0)
    assert reference.loc[0.5, "std"] == pytest.approx(math.sqrt(2))
    assert reference.loc[0.6, "pruner"] == "kprune"
