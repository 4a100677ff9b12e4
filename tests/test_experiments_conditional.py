"""The class-conditional experiment configs and their tables: every config builds its model
through the CLI with num_classes linked from the data (10), both tables load and
`reproduce --dry-run` them, and the Fashion-MNIST table's --quick version runs end to end on
a tiny fixture in Fashion-MNIST's on-disk format."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest
import yaml

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.cli import GANCLI
from lit_gan.reproduce.table import load_table
from tests.conftest import write_tiny_mnist

REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS = REPO / "experiments"
CONFIGS = {  # config -> the model class it builds
    "mirza2014/cgan_mnist.yaml": "CGAN",
    "radford2015/cdcgan_fashion_mnist.yaml": "ConditionalDCGAN",
    "radford2015/cdcgan_fashion_mnist_paper.yaml": "ConditionalDCGAN",
    "odena2017/acgan_fashion_mnist.yaml": "ACGAN",
    "odena2017/acgan_fashion_mnist_paper.yaml": "ACGAN",
    "miyato2018/projection_fashion_mnist.yaml": "ProjectionGAN",
}
MIRZA = EXPERIMENTS / "mirza2014" / "table1.yaml"
CONDITIONAL = EXPERIMENTS / "fashion_mnist" / "conditional.yaml"


@pytest.fixture(autouse=True)
def no_pytest_argv(monkeypatch):
    """LightningCLI warns when it sees both pytest's sys.argv and `args`."""
    monkeypatch.setattr(sys, "argv", ["lit_gan"])


def reproduce(*args) -> int:
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["reproduce", *map(str, args)])
    return exc.value.code


# ---- the fit configs ------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_builds_its_model_with_num_classes_from_the_data(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may land in the repository
    config = EXPERIMENTS / name
    assert "num_classes" not in yaml.safe_load(config.read_text())["model"]["init_args"]  # linked, not set
    cli = GANCLI(args=["--config", str(config), "--trainer.logger", "false"], run=False)
    model = cli.model
    assert type(model).__name__ == CONFIGS[name]
    assert cli.datamodule.num_classes == 10 and model.num_classes == 10 and model.hparams["num_classes"] == 10
    assert tuple(model.data_shape) == (1, 28, 28)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_prints_through_the_cli(name, capsys):
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["fit", "--config", str(EXPERIMENTS / name), "--print_config"])
    out, err = capsys.readouterr()
    assert exc.value.code in (0, None), err
    printed = yaml.safe_load(out)
    assert printed["model"]["class_path"] == f"lit_gan.models.{CONFIGS[name]}"
    assert "num_classes" not in printed["model"]["init_args"]  # the data's, at instantiation


def test_fashion_configs_read_debian_s_fashion_mnist_at_28_px():
    for name in CONFIGS:
        data = yaml.safe_load((EXPERIMENTS / name).read_text())["data"]["init_args"]
        if "fashion" in name:
            assert data["variant"] == "fashion" and data["image_size"] == 28
            assert data["also_look_in"] == ["/usr/share/datasets/fashion-mnist"]
        else:
            assert data["variant"] == "mnist" and data["batch_size"] == 100  # Mirza & Osindero, sec. 4.1


# ---- the tables -------------------------------------------------------------------------------
@pytest.fixture
def at_repo(monkeypatch):
    monkeypatch.chdir(REPO)  # tables name configs relative to the repository root


def test_mirza_table_quotes_table_1_and_trains_both_adversarial_rows(at_repo):
    table = load_table(MIRZA)
    rows = {r.name: r for r in table.rows}
    quoted = {name: (r.paper["parzen_ll"].value, r.paper["parzen_ll"].std) for name, r in rows.items()}
    assert quoted == {"Conditional adversarial nets": (132, 1.8), "Adversarial nets": (225, 2),
                      "DBN": (138, 2), "Stacked CAE": (121, 1.6), "Deep GSN": (214, 1.1)}
    assert rows["Conditional adversarial nets"].config == "experiments/mirza2014/cgan_mnist.yaml"
    assert rows["Adversarial nets"].config == "experiments/goodfellow2014/gan_mnist.yaml"
    assert {r.name for r in table.rows if r.kind == "context"} == {"DBN", "Stacked CAE", "Deep GSN"}
    for row in rows.values():
        if row.kind == "run":
            full, quick = row.settings(False), row.settings(True)
            assert full[2] == {"metrics": "parzen", "split": "test", "num": 10000}  # 1,000 per class
            assert "--max_iterations" in quick[1] and quick[2]["num"] < 1000


def test_conditional_table_rows_metrics_and_budget(at_repo):
    table = load_table(CONDITIONAL)
    assert table.seeds == 3 and [c.metric for c in table.columns] == [
        "fid", "classes_covered", "classes_kl", "accuracy", "intra_fid"]
    assert [r.path for r in table.requires] == ["extractors/fashion_mnist_classifier.pt2"]
    classifier_table = load_table(EXPERIMENTS / "fashion_mnist" / "classifier_fid.yaml")
    assert table.requires == classifier_table.requires  # the same extractor, built the same way
    runs = [r for r in table.rows if r.kind == "run"]
    assert [r.config.split("/")[-1] for r in runs] == [
        "dcgan_fashion_mnist.yaml", "cdcgan_fashion_mnist_paper.yaml", "acgan_fashion_mnist_paper.yaml",
        "projection_fashion_mnist.yaml"]
    budgets = {tuple(r.fit) for r in runs}
    assert len(budgets) == 1, "equal generator iterations and batch size for every row"
    (budget,) = budgets
    assert budget[budget.index("--max_iterations") + 1] and budget[budget.index("--data.init_args.batch_size") + 1]
    unconditional, *conditional = runs
    assert table.metrics(unconditional, False) == ["fid", "classes"]  # no labels: no accuracy / intra-FID
    for row in conditional:
        assert table.metrics(row, False) == ["fid", "classes", "accuracy", "intra_fid"]
    (floor,) = [r for r in table.rows if r.kind == "floor"]
    assert floor.floor == "train" and table.metrics(floor, False) == ["fid", "classes", "accuracy", "intra_fid"]


@pytest.mark.parametrize("table", [MIRZA, CONDITIONAL], ids=lambda p: p.parent.name)
def test_tables_dry_run(table, at_repo, tmp_path, capsys):
    assert reproduce(table, "--dry-run", "--runs", tmp_path / "runs", "--results", tmp_path / "results") == 0
    out = capsys.readouterr().out
    for row in load_table(table).rows:
        assert row.name in out
    assert not (tmp_path / "runs").exists()  # nothing was run
    if table == CONDITIONAL:
        assert "seed 2: train" in out and "floor, real train images" in out


# ---- the conditional table, quick, on a fixture ---------------------------------------------
def cells(text: str, row: str) -> list[str]:
    (line,) = [ln for ln in text.splitlines() if ln.startswith(f"| {row} |")]
    return [c.strip() for c in line.strip().strip("|").split("|")][1:]


NUMBER = re.compile(r"^-?\d")


@pytest.mark.slow
def test_conditional_table_runs_quick_on_a_fashion_mnist_fixture(at_repo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIT_GAN_CACHE", str(tmp_path / "reference_cache"))
    # Fashion-MNIST's four IDX files; 10,200 training images because the configs hold out 10,000
    data = write_tiny_mnist(tmp_path / "fashion", n_train=10_200, n_test=256)
    results, runs = tmp_path / "results", tmp_path / "runs"
    start = time.monotonic()
    code = reproduce(CONDITIONAL, "--quick", "--runs", runs, "--results", results, "--data-root", data)
    print(f"reproduce --quick conditional.yaml: {time.monotonic() - start:.0f} s", file=sys.stderr)
    assert code == 0, capsys.readouterr().err
    text = (results / "fashion_mnist_conditional.md").read_text()
    assert "**Quick run**" in text and "not produced" not in text, text
    table = load_table(CONDITIONAL)
    for row in table.rows:
        found = cells(text, row.name)
        assert len(found) == 5, text
        if row.config.endswith("/dcgan_fashion_mnist.yaml"):  # unconditional: fid, classes only
            assert all(NUMBER.match(c) for c in found[:3]) and found[3:] == ["–", "–"], text
        else:
            assert all(NUMBER.match(c) for c in found), text
    assert "(n=1)" not in text  # one quick seed: plain values
    # the conditional rows' evaluations come from conditional checkpoints with cycled labels
    evaluations = [json.loads(p.read_text()) for p in (runs / "fashion_mnist_conditional").glob("*/eval/evaluate_*.json")]
    assert len(evaluations) == 4
    labelled = [e for e in evaluations if "accuracy" in e["metrics"]]
    assert len(labelled) == 3 and all(e["protocol"]["source"]["labels"]["num_classes"] == 10 for e in labelled)
    assert all(0.0 <= e["metrics"]["accuracy"] <= 1.0 and e["metrics"]["intra_fid"] >= 0 for e in labelled)


@pytest.mark.slow
def test_mirza_table_runs_quick_on_an_mnist_fixture(at_repo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIT_GAN_CACHE", str(tmp_path / "reference_cache"))
    data = write_tiny_mnist(tmp_path / "mnist", n_train=10_200, n_test=256)  # the configs hold out 10,000
    results = tmp_path / "results"
    code = reproduce(MIRZA, "--quick", "--runs", tmp_path / "runs", "--results", results, "--data-root", data)
    assert code == 0, capsys.readouterr().err
    text = (results / "mirza2014_table1.md").read_text()
    assert "**Quick run**" in text and "not produced" not in text, text
    assert cells(text, "Conditional adversarial nets")[0] == "132.0 ± 1.8"  # at the paper's precision
    for row in ("Conditional adversarial nets", "Adversarial nets"):
        assert NUMBER.match(cells(text, row)[1]), text  # ours
    assert cells(text, "Deep GSN")[1] == "–"


def test_class_pictures_snippet_adds_both_interpolations(capsys):
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["fit", "--config", str(EXPERIMENTS / "radford2015/cdcgan_fashion_mnist.yaml"),
                      "--config", str(EXPERIMENTS / "_base/class_pictures.yaml"), "--print_config"])
    out = capsys.readouterr().out
    assert exc.value.code in (0, None), out
    assert "lit_gan.callbacks.interpolation.LatentInterpolation" in out
    assert "lit_gan.callbacks.interpolation.ClassInterpolation" in out
