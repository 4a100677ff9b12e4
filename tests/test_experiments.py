"""Every shipped experiment config parses, alone and with each metrics snippet of _base/
(reproduce's table files, which list rows instead of a model, are tested in tests/reproduce)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from lit_gan.cli import main as cli_main

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def is_table(path: Path) -> bool:
    return "rows" in (yaml.safe_load(path.read_text()) or {})


FIT_CONFIGS = sorted(p for p in EXPERIMENTS.rglob("*.yaml")
                     if p.parent.name not in ("_base", "classifiers") and not is_table(p))
TABLES = sorted(p for p in EXPERIMENTS.rglob("*.yaml") if is_table(p))
METRIC_SNIPPETS = sorted((EXPERIMENTS / "_base").glob("metrics_*.yaml"))


def print_config(capsys, monkeypatch, *configs: Path) -> str:
    monkeypatch.setattr(sys, "argv", ["lit_gan"])
    args = ["fit"] + [a for c in configs for a in ("--config", str(c))] + ["--print_config"]
    with pytest.raises(SystemExit) as exc:
        cli_main(args)
    out, err = capsys.readouterr()
    assert exc.value.code in (0, None), err
    return out


@pytest.mark.parametrize("config", FIT_CONFIGS, ids=lambda p: str(p.relative_to(EXPERIMENTS)))
def test_fit_config_parses(config, capsys, monkeypatch):
    assert "class_path" in print_config(capsys, monkeypatch, config)


@pytest.mark.parametrize("snippet", METRIC_SNIPPETS, ids=lambda p: p.name)
def test_metrics_snippet_appends_its_callback(snippet, capsys, monkeypatch):
    base = EXPERIMENTS / "radford2015" / "dcgan_fashion_mnist.yaml"
    out = print_config(capsys, monkeypatch, base, snippet)
    assert "lit_gan.callbacks.interpolation.LatentInterpolation" in out  # kept: the snippet appends
    assert "lit_gan.callbacks.generative_metrics.GenerativeMetrics" in out


def test_every_table_file_is_tested_as_a_table():
    from tests.reproduce.test_table import SHIPPED

    assert sorted(str(p.relative_to(EXPERIMENTS)) for p in TABLES) == sorted(SHIPPED)
