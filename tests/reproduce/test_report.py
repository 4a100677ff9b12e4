"""The markdown of a reproduction: paper beside ours, mean ± std over seeds, and the rows
that could not be produced."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lit_gan.reproduce.report import RowResult, markdown, metric_value, ours_cell
from lit_gan.reproduce.table import Column, PaperValue, Row, Table


def test_metric_names_match_evaluate_s_tagged_keys():
    metrics = {"fid_10k": 12.5, "kid_10k": 0.01, "kid_10k_std": 0.002, "classes_covered": 9, "parzen_ll": 210.0,
               "parzen_ll_sem": 2.0}
    assert metric_value(metrics, "fid") == 12.5
    assert metric_value(metrics, "kid") == 0.01  # not kid_10k_std
    assert metric_value(metrics, "classes_covered") == 9
    assert metric_value(metrics, "parzen_ll") == 210.0
    assert metric_value(metrics, "is") is None


def test_ours_is_mean_and_sample_std_over_seeds():
    column = Column("fid", "FID", "lower", 2)
    result = RowResult(Row("r", config="c.yaml"), values=[{"fid_10k": v} for v in (10.0, 12.0, 17.0)])
    expected_std = np.std([10.0, 12.0, 17.0], ddof=1)
    assert ours_cell(result, column) == f"13.00 ± {expected_std:.2f} (n=3)"
    assert ours_cell(RowResult(Row("r", config="c.yaml"), values=[{"fid_1k": 4.0}]), column) == "4.00"
    assert ours_cell(RowResult(Row("r", config="c.yaml"), problem="no data"), column) == "–"


def test_markdown_shows_paper_and_ours_and_says_what_is_missing():
    table = Table("t", Path("experiments/x/t.yaml"), "A title", "Someone 2020, Table 3", "About the protocol.", 1, 1,
                  [Column("fid", "FID", "lower", 1)],
                  [Row("ours", config="a.yaml", paper={"fid": PaperValue(20.0, 1.5)}),
                   Row("broken", config="b.yaml", paper={"fid": PaperValue(30.0)}),
                   Row("context", paper={"fid": PaperValue(40.0)}),
                   Row("later", unavailable="needs a model not built yet")], [])
    results = [RowResult(table.rows[0], config="a.yaml", values=[{"fid_10k": 22.25}],
                         protocols=[{"n_real": 10000, "split": "test"}], runs=["a_1234_seed0"]),
               RowResult(table.rows[1], config="b.yaml", problem="training b failed (exit 1)"),
               RowResult(table.rows[2]), RowResult(table.rows[3])]
    text = markdown(table, results, {"command": "python -m lit_gan reproduce t.yaml", "when": "2026-01-01",
                                     "version": "0.1.0", "wall": "1.0 min", "quick": True, "warnings": ["w1"]})
    assert "| ours | 20.0 ± 1.5 | 22.2 |" in text or "| ours | 20.0 ± 1.5 | 22.3 |" in text
    assert "| broken | 30.0 | – |" in text and "| context | 40.0 | – |" in text
    assert "not produced: training b failed (exit 1)" in text
    assert "not possible yet: needs a model not built yet" in text
    assert "quoted from the paper" in text and "`a_1234_seed0`" in text and '"n_real": 10000' in text
    assert "**Quick run**" in text and "**Note**: w1" in text and "FID ↓ paper" in text


def test_paper_values_keep_the_paper_s_precision():
    from lit_gan.reproduce.report import results_table

    table = Table("t", Path("t.yaml"), "T", "", "", 1, 1, [Column("fid", "FID", "lower", 3)],
                  [Row("a", paper={"fid": PaperValue(55.0, 3.3)}), Row("b", paper={"fid": PaperValue(30.0, 1.0)}),
                   Row("c", paper={"fid": PaperValue(119.1)})], [])
    lines = results_table(table, [RowResult(r) for r in table.rows]).splitlines()
    assert lines[2:] == ["| a | 55.0 ± 3.3 | – |", "| b | 30.0 ± 1.0 | – |", "| c | 119.1 | – |"]


def test_a_metric_without_any_paper_number_gets_no_paper_column():
    from lit_gan.reproduce.report import results_table

    table = Table("t", Path("t.yaml"), "T", "", "", 1, 1, [Column("fid", "FID", "lower", 1), Column("kid", "KID", None, 2)],
                  [Row("a", config="a.yaml", paper={"fid": PaperValue(5.0)})], [])
    text = results_table(table, [RowResult(table.rows[0], values=[{"fid_1k": 6.0, "kid_1k": 0.5}])])
    assert text.splitlines()[0] == "| row | FID ↓ paper | FID ↓ ours | KID |"
    assert text.splitlines()[2] == "| a | 5 | 6.0 | 0.50 |"


def test_numbers_from_another_source_get_a_context_column_never_paper():
    from lit_gan.reproduce.report import results_table

    table = Table("t", Path("t.yaml"), "T", "", "", 1, 1, [Column("fid", "FID", "lower", 1)],
                  [Row("ours", config="a.yaml"), Row("released model", context={"fid": PaperValue(119.1)}),
                   Row("paper row", paper={"fid": PaperValue(50.5)})], [])
    results = [RowResult(table.rows[0], values=[{"fid_106": 130.0}]), RowResult(table.rows[1]), RowResult(table.rows[2])]
    lines = results_table(table, results).splitlines()
    assert lines[0] == "| row | FID ↓ paper | FID ↓ context | FID ↓ ours |"
    assert lines[2:] == ["| ours | – | – | 130.0 |", "| released model | – | 119.1 | – |", "| paper row | 50.5 | – | – |"]
    text = markdown(table, results, {"command": "c", "when": "d", "version": "v", "wall": "w"})
    assert "**released model**: quoted from another source, not from the paper" in text


def test_the_facades_table_has_no_paper_column(monkeypatch):
    from lit_gan.reproduce.report import results_table
    from lit_gan.reproduce.table import load_table

    repo = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(repo)  # table paths are relative to the repository root
    table = load_table(repo / "experiments/isola2017/facades.yaml")
    assert not any(r.paper for r in table.rows)
    head = results_table(table, [RowResult(r) for r in table.rows]).splitlines()[0]
    assert "paper" not in head and "FID ↓ context" in head


def test_findings_follow_the_table_of_a_full_run_only():
    from dataclasses import replace

    table = Table("t", Path("t.yaml"), "T", "", "", 1, 1, [Column("fid", "FID", "lower", 1)],
                  [Row("ours", config="a.yaml")], [], findings="On 2026-12-02 the minimax G never left noise.")
    results = [RowResult(table.rows[0], config="a.yaml", values=[{"fid_10k": 22.25}])]
    header = {"command": "c", "when": "2026-01-01", "version": "0.1.0", "wall": "1.0 min", "quick": False}
    text = markdown(table, results, header)
    assert text.index("| ours | 22.2 |") < text.index("## What the numbers show") < text.index("never left noise")
    assert "never left noise" not in markdown(table, results, {**header, "quick": True})  # quick numbers differ
    assert "What the numbers show" not in markdown(replace(table, findings=""), results, header)
