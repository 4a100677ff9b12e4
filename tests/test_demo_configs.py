"""The CPU demo configs differ from their paper-length variants in the settings their headers
list, and in nothing else: a retuned demo keeps its paper's defaults visible beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
# demo -> (its paper-length variant, the settings the demo changes: flattened keys)
DEMOS = {
    "radford2015/cdcgan_fashion_mnist.yaml": ("radford2015/cdcgan_fashion_mnist_paper.yaml", {
        "max_iterations", "trainer.max_epochs", "trainer.logger.init_args.name", "data.init_args.batch_size",
        "model.init_args.generator_options.features", "model.init_args.discriminator_options.features",
        "model.init_args.ema_half_life_images", "model.init_args.sample_batch_size"}),
    "odena2017/acgan_fashion_mnist.yaml": ("odena2017/acgan_fashion_mnist_paper.yaml", {
        "max_iterations", "trainer.logger.init_args.name", "data.init_args.batch_size",
        "model.init_args.generator_options.features", "model.init_args.discriminator_options.features",
        "model.init_args.ema_half_life_images", "model.init_args.classifier"}),
}


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def changed_settings(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    return {k for k in a.keys() | b.keys() if a.get(k, "<unset>") != b.get(k, "<unset>")}


def test_changed_settings_sees_a_changed_added_or_removed_key():
    base = flatten({"model": {"init_args": {"lr": 1, "n": 2}}})
    assert changed_settings(base, base) == set()
    assert changed_settings(base, flatten({"model": {"init_args": {"lr": 2, "n": 2}}})) == {"model.init_args.lr"}
    assert changed_settings(base, flatten({"model": {"init_args": {"lr": 1}}})) == {"model.init_args.n"}
    assert changed_settings(base, {**base, "x": 0}) == {"x"}


@pytest.mark.parametrize("demo", sorted(DEMOS))
def test_demo_differs_from_its_paper_variant_only_where_its_header_says(demo):
    paper, allowed = DEMOS[demo]
    demo_text, paper_text = (EXPERIMENTS / demo).read_text(), (EXPERIMENTS / paper).read_text()
    changed = changed_settings(flatten(yaml.safe_load(demo_text)), flatten(yaml.safe_load(paper_text)))
    assert changed == allowed, f"{demo} vs {paper}: unlisted {changed - allowed}, listed but equal {allowed - changed}"
    assert paper in demo_text and demo in paper_text  # each header names the other
    for key in allowed - {"trainer.logger.init_args.name", "trainer.max_epochs"}:
        leaf = key.rsplit(".", 1)[-1]
        assert leaf in demo_text.split("\nseed_everything")[0], f"{demo}'s header does not name {leaf} ({key})"
