"""pix2pix and CycleGAN on the datasets made from real Fashion-MNIST: the configs build their
models and data, the ablation tables change the objective only, a few iterations of each
config train and evaluate end to end on a fixture in Fashion-MNIST's format (classifier score
included), and (slow) both tables' --quick versions run."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.cli import GANCLI
from lit_gan.reproduce.table import load_table
from tests.conftest import write_tiny_mnist
from tests.metrics.helpers import write_tiny_extractor

REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS = REPO / "experiments"
PIX2PIX = "isola2017/pix2pix_edges2fashion.yaml"
CYCLEGAN = "zhu2017/cyclegan_sneaker2boot.yaml"
CONFIGS = {PIX2PIX: ("Pix2Pix", "edges2fashion"), CYCLEGAN: ("CycleGAN", "sneaker2boot")}
TABLES = {  # table -> (config, the paper's objectives)
    "isola2017/edges2fashion_table1.yaml": (PIX2PIX, {"l1", "cgan", "l1+gan", "l1+cgan"}),
    "zhu2017/sneaker2boot_table4.yaml": (CYCLEGAN, {"cycle", "gan", "gan+forward", "gan+backward", "cyclegan"}),
}


@pytest.fixture(autouse=True)
def no_pytest_argv(monkeypatch):
    """LightningCLI warns when it sees both pytest's sys.argv and `args`."""
    monkeypatch.setattr(sys, "argv", ["lit_gan"])


def run(*args) -> int:
    """The exit code of ``python -m lit_gan ARGS`` (fit returns normally when it succeeds)."""
    try:
        lit_gan_main([*map(str, args)])
    except SystemExit as exc:
        return exc.code or 0
    return 0


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_builds_its_model_on_its_derived_dataset(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # building the CLI touches no data: nothing may land here
    cli = GANCLI(args=["--config", str(EXPERIMENTS / name), "--trainer.logger", "false"], run=False)
    model_class, dataset = CONFIGS[name]
    assert type(cli.model).__name__ == model_class and cli.datamodule.dataset == dataset
    assert tuple(cli.model.data_shape) == (3, 32, 32)
    assert cli.datamodule.also_look_in == ["/usr/share/datasets/fashion-mnist"]
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("name", sorted(TABLES))
def test_ablation_tables_change_the_objective_only(name, monkeypatch):
    monkeypatch.chdir(REPO)
    table = load_table(EXPERIMENTS / name)
    config, objectives = TABLES[name]
    assert {row.config for row in table.rows} == {f"experiments/{config}"}
    seen = {}
    for row in table.rows:
        flag, objective = row.fit
        assert flag == "--model.init_args.objective"
        seen.setdefault(objective, []).append(row.evaluate.get("direction"))
    assert set(seen) == objectives and table.seeds == 3
    if "zhu2017" in name:  # each CycleGAN objective is scored both ways, from the same runs
        assert all(sorted(directions) == ["AtoB", "BtoA"] for directions in seen.values())


@pytest.mark.parametrize("name, direction, processes", [(PIX2PIX, "AtoB", 1), (CYCLEGAN, "BtoA", 2)])
def test_config_trains_and_its_translations_are_scored_by_class(name, direction, processes, tmp_path, capsys):
    source = write_tiny_mnist(tmp_path / "fashion", n_train=64, n_test=40)
    runs = tmp_path / "runs"
    assert run("fit", "--config", EXPERIMENTS / name, f"--data.init_args.root={tmp_path / 'data'}",
               f"--data.init_args.also_look_in=[{source}]", "--max_iterations", "3",
               f"--trainer.logger.init_args.save_dir={runs}", "--trainer.enable_progress_bar=false",
               "--samples.every_n_iterations", "3") == 0, capsys.readouterr().err
    (version,) = (runs / yaml.safe_load((EXPERIMENTS / name).read_text())["trainer"]["logger"]["init_args"]["name"]).iterdir()
    assert sorted(p.name for p in (version / "samples").iterdir()) == ["iter_0000003.png"]  # test images' rows
    capsys.readouterr()
    extractor = write_tiny_extractor(tmp_path / "tiny.pt2")
    assert run("evaluate", "--ckpt", version / "checkpoints" / "last.ckpt", "--metrics", "fid,accuracy",
               "--feature-extractor", extractor, "--direction", direction, "--no-progress",
               "--cache-dir", tmp_path / "cache", "--devices", processes, "--accelerator", "cpu") == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    targets = result["protocol"]["n_fake"]
    assert 0 < targets <= 40 and result["protocol"]["source"]["labels"]["num_classes"] == 10
    # the score is a share of the translations: k / n for a whole k
    assert 0.0 <= result["metrics"]["accuracy"] <= 1.0
    assert abs(result["metrics"]["accuracy"] * targets - round(result["metrics"]["accuracy"] * targets)) < 1e-9


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TABLES))
def test_ablation_table_runs_quick_on_a_fashion_mnist_fixture(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("LIT_GAN_CACHE", str(tmp_path / "reference_cache"))
    data = write_tiny_mnist(tmp_path / "fashion", n_train=10_200, n_test=256)  # the classifier holds out 10,000
    results = tmp_path / "results"
    assert run("reproduce", EXPERIMENTS / name, "--quick", "--runs", tmp_path / "runs", "--results", results,
               "--data-root", data) == 0, capsys.readouterr().err
    table = load_table(EXPERIMENTS / name)
    text = (results / f"{table.name}.md").read_text()
    assert "**Quick run**" in text and "not produced" not in text, text
    for row in table.rows:
        (line,) = [ln for ln in text.splitlines() if ln.startswith(f"| {row.name} |")]
        cells = [c.strip() for c in line.strip().strip("|").split("|")][1:]
        assert cells and all(re.match(r"^-?\d", c) for c in cells[: len(table.columns)]), text
