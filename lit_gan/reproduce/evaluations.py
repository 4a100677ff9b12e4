"""Evaluate one finished run (or a real split, for a floor row) and keep the result as JSON
beside it, keyed by the evaluation options, so a repeated reproduce doesn't redo it.

Every metric goes through ``python -m lit_gan evaluate`` (a subprocess: the same code path,
protocol card and device handling a user gets); the metric names are the registry's
(lit_gan.evaluation.registry).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from lit_gan.atomic import atomic_path
from lit_gan.evaluation.data_config import datamodule_from_config
from lit_gan.reproduce.runs import digest, run_logged
from lit_gan.reproduce.table import metric_list

# evaluate's options a table may set (keys as in YAML; flags are --key-with-hyphens)
EVALUATE_OPTIONS = {"metrics", "num", "num_real", "split", "feature_extractor", "inception_weights", "batch_size",
                    "kid_subsets", "kid_subset_size", "direction", "domain", "seed", "min_count"}


def _cached(path: Path, compute) -> dict[str, Any]:
    if path.is_file():
        return json.loads(path.read_text())
    result = compute()
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(result, indent=2))
    return result


def evaluate_cli_args(options: dict[str, Any]) -> list[str]:
    args = []
    for key, value in sorted(options.items()):
        if key == "metrics":
            continue
        args += [f"--{key.replace('_', '-')}", str(value)]
    return ["--metrics", ",".join(metric_list(options.get("metrics"))), *args]


def run_evaluate(source: list[str], options: dict[str, Any], devices: int, out_dir: Path, what: str) -> dict[str, Any]:
    """``python -m lit_gan evaluate SOURCE ...`` once; its JSON is kept beside the run, keyed by
    the source and every option, and read back on later calls."""
    args = evaluate_cli_args(options) + ["--devices", str(devices)]
    path = out_dir / f"evaluate_{digest(source[1], *args)}.json"
    partial = path.with_suffix(".tmp.json")  # evaluate writes it atomically; _cached then keeps it

    def compute():
        cmd = [sys.executable, "-m", "lit_gan", "evaluate", *source, *args, "--no-progress", "--out", str(partial)]
        run_logged(cmd, out_dir / "evaluate.log", what)
        return json.loads(partial.read_text())

    found = _cached(path, compute)
    partial.unlink(missing_ok=True)
    return found


def evaluate_checkpoint(ckpt: Path, options: dict[str, Any], devices: int, out_dir: Path) -> dict[str, Any]:
    """{"metrics": {...}, "protocol": {...}} for every metric the options ask for."""
    return run_evaluate(["--ckpt", str(ckpt)], options, devices, out_dir, f"evaluating {ckpt}")


def evaluate_floor(config: str, split: str, options: dict[str, Any], data_args: list[str], devices: int,
                   out_dir: Path) -> dict[str, Any]:
    """Real images of ``split`` scored as if generated, against the options' split: the floor."""
    domain = options.get("domain")
    samples = out_dir / f"real_{split}{domain or ''}_{digest(config, *data_args, str(options.get('num')))}.npz"
    if not samples.is_file():
        write_real_samples(config, split, options.get("num"), data_args, samples, domain)
    found = run_evaluate(["--samples", str(samples), "--config", config, *data_args], options, devices, out_dir,
                         f"evaluating the {split} floor of {config}")
    found["protocol"]["source"] = {"real_split_as_fake": split}
    return found


def write_real_samples(config: str, split: str, num: int | None, data_args: list[str], path: Path,
                       domain: str | None = None) -> None:
    """The first ``num`` images of ``split`` as a `generate`-style .npz (uint8, N x H x W x C),
    with their classes as ``labels`` when the data has them (so accuracy and intra-FID have
    a floor too)."""
    from lit_gan.evaluation.real import real_images_and_labels

    datamodule = datamodule_from_config(config, data_args)
    datamodule.prepare_data()
    images, labels = real_images_and_labels(datamodule, split, num, domain=domain)
    arrays = {"samples": images.permute(0, 2, 3, 1).numpy()}
    if labels is not None and getattr(datamodule, "num_classes", None):
        arrays["labels"], arrays["num_classes"] = labels.numpy(), np.int64(datamodule.num_classes)
    with atomic_path(path) as tmp:
        with tmp.open("wb") as f:
            np.savez(f, **arrays)
