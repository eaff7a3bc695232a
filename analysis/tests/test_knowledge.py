from results_factory import Job, write_results

from kprune_report.cli import main
from kprune_report.knowledge import knowledge_table, to_markdown
from kprune_report.results import load_results
from kprune_report.selection import choose_metric, done_prune_jobs


def record(step, heads_kept, neurons_kept):
    sublayer = dict(pred=0.0, rep=2.0, feature_square=4.0, weight_square=0.5, pre_ln_square=1.5,
                    score_pred=0.0)
    return {"step": step, "sublayers": [
        dict(sublayer=step, kind="heads", units=4, kept=heads_kept, score_rep=1e-3, **sublayer),
        dict(sublayer=step + 1, kind="neurons", units=16, kept=neurons_kept, score_rep=5e-2,
             **sublayer)]}


def prune_jobs(tmp_path):
    grid = [Job(task="mrpc", flops_reduction=0.6, extra={"kprune.weighting": weighting},
                details={"knowledge": [record(0, 0, 12), record(2, 1, 9)]})
            for weighting in ("paper", "normalized")]
    grid.append(Job(pruner="kwon", flops_reduction=0.6))  # no record: no rows
    jobs = choose_metric(load_results(write_results(tmp_path / "r.h5", grid)).jobs, {})
    return done_prune_jobs(jobs)


def test_one_row_per_job_step_and_sublayer(tmp_path):
    table = knowledge_table(prune_jobs(tmp_path))
    assert len(table) == 2 * 2 * 2
    assert set(table["pruner"]) == {"kprune"}
    assert sorted(set(table["params"])) == ["weighting=normalized", "weighting=paper"]
    first = table[(table["params"] == "weighting=paper") & (table["step"] == 0)]
    assert list(first["kind"]) == ["heads", "neurons"]
    assert list(first["kept"]) == [0, 12]
    assert list(first["score_rep"]) == [1e-3, 5e-2]


def test_markdown_shows_step_zero_of_each_job(tmp_path):
    text = to_markdown(knowledge_table(prune_jobs(tmp_path)))
    assert text.count("## mini-bert mrpc, kprune") == 2
    assert "| 0 | heads | 0/4 | 0 | 2 | 4 | 0.5 | 1.5 | 0 | 0.001 |" in text
    assert "| 1 | neurons | 12/16 |" in text
    assert "| 2 | heads |" not in text  # later steps are in the CSV only


def test_report_writes_the_view_only_with_records(tmp_path):
    path = write_results(tmp_path / "r.h5", [Job(pruner="kwon")])
    main([str(path), "--out", str(tmp_path / "plain"), "--no-figures"])
    assert not (tmp_path / "plain" / "knowledge.md").exists()
    grid = [Job(details={"knowledge": [record(0, 0, 12)]})]
    path = write_results(tmp_path / "k.h5", grid)
    main([str(path), "--out", str(tmp_path / "k"), "--no-figures"])
    assert "| 0 | heads | 0/4 |" in (tmp_path / "k" / "knowledge.md").read_text()
    assert (tmp_path / "k" / "knowledge.csv").exists()
