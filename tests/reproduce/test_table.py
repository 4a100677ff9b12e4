"""Table files: every shipped table loads, and a broken one is refused with a message that
names the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lit_gan.reproduce.table import TableError, load_table

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ["goodfellow2014/table1.yaml", "lucic2018/fid_table.yaml", "isola2017/facades.yaml",
           "zhu2017/monet2photo.yaml", "toy/ring8.yaml", "fashion_mnist/classifier_fid.yaml",
           "mirza2014/table1.yaml", "fashion_mnist/conditional.yaml", "isola2017/edges2fashion_table1.yaml",
           "zhu2017/sneaker2boot_table4.yaml", "fashion_mnist/mode_collapse.yaml", "lin2018/pacgan_2d.yaml",
           "lessons/non_saturating.yaml", "lessons/wgan_signal.yaml", "lessons/step_ratio.yaml",
           "lessons/label_smoothing.yaml", "fashion_mnist/stabilizers.yaml"]


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch):
    monkeypatch.chdir(REPO)  # table paths are relative to the repository root


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_tables_load_with_their_paper_numbers(name):
    table = load_table(REPO / "experiments" / name)
    assert table.rows and table.columns and table.source
    runnable = [r for r in table.rows if r.kind in ("run", "floor")]
    assert runnable, "every shipped table trains or measures at least one row here"
    for row in runnable:
        for quick in (False, True):
            config, _, options = row.settings(quick)
            assert (REPO / config).is_file() and options.get("metrics")


def test_the_issue_s_paper_numbers_are_in_the_tables():
    lucic = {r.name: r.paper["fid"] for r in load_table(REPO / "experiments/lucic2018/fid_table.yaml").rows}
    assert (lucic["NS GAN / MNIST"].value, lucic["NS GAN / MNIST"].std) == (6.8, 0.5)
    assert (lucic["NS GAN / Fashion-MNIST"].value, lucic["NS GAN / CelebA 64"].value) == (26.5, 55.0)
    assert (lucic["WGAN-GP / CelebA 64"].value, lucic["WGAN-GP / CelebA 64"].std) == (30.0, 1.0)
    goodfellow = {r.name: r for r in load_table(REPO / "experiments/goodfellow2014/table1.yaml").rows}
    assert goodfellow["GAN (adversarial nets)"].paper["parzen_ll"].value == 225
    assert {r.name: r.kind for r in goodfellow.values()} == {
        "GAN (adversarial nets)": "run", "DBN": "context", "Stacked CAE": "context", "Deep GSN": "context"}


def test_the_stabilizers_table_trains_every_share_and_setting_at_equal_length():
    """12 rows: 3 shares x {plain, EMA, DiffAugment, both}, each with the same length, batch and
    epoch cap, so the table compares the stabilizers and nothing else."""
    rows = load_table(REPO / "experiments/fashion_mnist/stabilizers.yaml").rows

    def value(args: list[str], flag: str) -> str | None:
        return args[args.index(flag) + 1] if flag in args else None

    settings = set()
    for row in rows:
        args = row.settings(quick=False)[1]
        assert (value(args, "--max_iterations"), value(args, "--data.init_args.batch_size")) == ("1000", "64"), row.name
        assert "--trainer.max_epochs=-1" in args, row.name  # the config's 25 epochs would cut the 1% runs short
        settings.add((value(args, "--data.init_args.train_fraction"),
                      value(args, "--model.init_args.ema_half_life_images"),
                      value(args, "--model.init_args.ema_rampup"), value(args, "--model.init_args.augment")))
    # EMA rows: ramp-up 0.25, so a 1,000-iteration run reaches its 10,000-image half-life (see the about)
    assert settings == {(share, *ema, augment) for share in ("1.0", "0.1", "0.01")
                        for ema in ((None, None), ("10000", "0.25")) for augment in (None, "color,translation,cutout")}
    assert len(rows) == 12


def write(tmp_path: Path, table: dict) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(table))
    return path


BASE = {"columns": [{"metric": "fid", "label": "FID"}], "evaluate": {"metrics": "fid"},
        "rows": [{"name": "a", "config": "experiments/quickstart.yaml"}]}


@pytest.mark.parametrize("change, message", [
    ({"colums": []}, "unknown keys ['colums']"),
    ({"rows": [{"name": "a", "config": "experiments/nope.yaml"}]}, "config experiments/nope.yaml not found"),
    ({"rows": [{"name": "a"}]}, "needs `paper` values"),
    ({"rows": [{"name": "a", "paper": {"is": 3.0}}]}, "not columns"),
    ({"rows": [{"name": "a", "paper": {"fid": "low"}}]}, "must be a number or [value, std]"),
    ({"rows": [{"name": "a", "config": "experiments/quickstart.yaml"}] * 2}, "two rows are named 'a'"),
    ({"evaluate": {"metrics": "fid,sharpness"}}, "unknown metrics ['sharpness']"),
    ({"rows": [{"name": "a", "config": "experiments/quickstart.yaml", "floor": "holdout"}]}, "floor must name a split"),
    ({"columns": [{"metric": "fid", "better": "smaller"}]}, "better must be lower or higher"),
])
def test_broken_tables_are_refused_with_the_reason(tmp_path, change, message):
    with pytest.raises(TableError, match=None) as err:
        load_table(write(tmp_path, {**BASE, **change}))
    assert message in str(err.value)


def test_quick_settings_merge_over_the_full_ones(tmp_path):
    table = load_table(write(tmp_path, {
        **BASE, "quick": {"fit": ["--max_iterations", "5"], "evaluate": {"num": 10}},
        "rows": [{"name": "a", "config": "experiments/quickstart.yaml", "fit": ["--x", "1"],
                  "evaluate": {"num": 1000}, "quick": {"config": "experiments/toy/hinge_ring8.yaml", "evaluate": {"split": "val"}}}]}))
    (row,) = table.rows
    assert row.settings(False) == ("experiments/quickstart.yaml", ["--x", "1"], {"metrics": "fid", "num": 1000})
    assert row.settings(True) == ("experiments/toy/hinge_ring8.yaml", ["--x", "1", "--max_iterations", "5"],
                                  {"metrics": "fid", "num": 10, "split": "val"})


def test_a_failed_run_reports_the_log_s_last_error_with_its_detail():
    from lit_gan.reproduce.runs import last_error

    log = ("Epoch 0\nTraceback (most recent call last):\n  File x\n"
           "lit_gan.download.DownloadError: Could not download a.gz; every source failed:\n"
           "  https://example.org/a.gz\n    -> URLError: no network\nmore noise\n")
    assert last_error(log) == ("lit_gan.download.DownloadError: Could not download a.gz; every source failed: "
                               "https://example.org/a.gz -> URLError: no network")
    assert last_error("usage: ...\nerror: --seeds must be >= 1\n") == "error: --seeds must be >= 1"
    assert last_error("all fine\n") == ""
