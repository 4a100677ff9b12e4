"""The results index (results/README.md) is generated from results/*.md and kept in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from lit_gan.reproduce.readme import BEGIN, END, section, update_readme

REPO = Path(__file__).resolve().parents[2]


def test_the_results_index_is_what_results_generate():
    text = (REPO / "results" / "README.md").read_text()
    assert BEGIN in text and END in text, "results/README.md lost its results markers"
    current = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert current == section(REPO / "results", REPO / "results"), (
        "results/README.md is stale: run `python -m lit_gan reproduce --update-readme`")


def test_the_index_names_every_table_and_not_itself():
    index = (REPO / "results" / "README.md").read_text()
    tables = sorted((REPO / "results").glob("*.md"))
    missing = [t.name for t in tables if t.name != "README.md" and f"]({t.name})" not in index]
    assert not missing, f"results/README.md does not link {missing}: run `python -m lit_gan reproduce --update-readme`"
    assert "](README.md)" not in index


def test_update_rewrites_only_the_section(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "a_table.md").write_text("# Table A\n\nProduced by `x` (today).\n\n| row | FID paper | FID ours |\n"
                                        "|---|---|---|\n| r | 1.0 | 2.0 |\n| s | 3.0 | – |\n\n## Rows\n\n- r: fine.\n"
                                        "- **s**: not produced: no data here (log: x).\n")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n\n{BEGIN}\nold text\n{END}\n\noutro\n")
    assert update_readme(readme, results) is True
    text = readme.read_text()
    assert text.startswith("intro\n\n") and text.endswith("\n\noutro\n") and "old text" not in text
    assert "### Table A" in text and "| r | 1.0 | 2.0 |" in text and "(results/a_table.md)" in text
    assert "## Rows" not in text  # only the summary table; the rest stays in the results file
    assert "1 row(s) without our number yet; the first reason: not produced: no data here.\n" in text
    assert update_readme(readme, results) is False  # idempotent


def test_a_missing_index_is_started_beside_the_tables(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "t.md").write_text("# T\n\n| row | x |\n|---|---|\n| r | 1 |\n")
    index = results / "README.md"
    assert update_readme(index, results) is True
    text = index.read_text()
    assert text.startswith("# Results") and "### T" in text and "(t.md)" in text
    assert update_readme(index, results) is False  # its own file is not summarised as a table


def test_a_readme_without_markers_is_refused(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="no results markers"):
        update_readme(readme, tmp_path)
