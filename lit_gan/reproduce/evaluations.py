"""Evaluate one finished run (or a real split, for a floor row) and keep the result as JSON
beside it, keyed by the evaluation options, so a repeated reproduce doesn't redo it.

Image metrics go through ``python -m lit_gan evaluate`` (a subprocess: the same code path,
protocol card and device handling a user gets); ``modes`` (2-D toy data) and ``paired``
(image-to-image L1 / PSNR / SSIM on the test split, the model's own ``test_step``) run here.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from lit_gan.atomic import atomic_path
from lit_gan.reproduce.runs import digest, run_logged
from lit_gan.reproduce.table import EVALUATE_METRICS, metric_list

# evaluate's options a table may set (keys as in YAML; flags are --key-with-hyphens)
EVALUATE_OPTIONS = {"metrics", "num", "num_real", "split", "feature_extractor", "inception_weights", "batch_size",
                    "kid_subsets", "kid_subset_size", "direction", "domain", "seed", "min_count"}
MODES_MIN_COUNT = 20  # high-quality samples a mode needs to count as covered (as compare-losses)
# VEEGAN's Table 1 and PacGAN's code count a mode with a single high-quality sample
# (lit_gan.metrics.modes): modes_covered_min1 is that count, for comparing with their numbers.
MODES_VEEGAN_MIN_COUNT = 1


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
        if key in ("metrics", "min_count"):
            continue
        args += [f"--{key.replace('_', '-')}", str(value)]
    metrics = [m for m in metric_list(options.get("metrics")) if m in EVALUATE_METRICS]
    return ["--metrics", ",".join(metrics), *args]


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
    metrics = metric_list(options.get("metrics"))
    result: dict[str, Any] = {"metrics": {}, "protocol": {}}
    if set(metrics) & set(EVALUATE_METRICS):
        found = run_evaluate(["--ckpt", str(ckpt)], options, devices, out_dir, f"evaluating {ckpt}")
        result["metrics"].update(found["metrics"])
        result["protocol"].update(found["protocol"])
    if "modes" in metrics:
        min_count = int(options.get("min_count", MODES_MIN_COUNT))
        # "min1" in the key: entries cached before modes_covered_min1 existed lack it
        found = _cached(out_dir / f"modes_{digest(str(ckpt), str(min_count), 'min1')}.json",
                        lambda: mode_coverage(ckpt, min_count))
        result["metrics"].update(found)
        result["protocol"]["modes"] = {"samples": found["samples"], "min_count": min_count, "noise_seed": 0,
                                       "modes_covered_min1": "modes with >= 1 high-quality sample (VEEGAN / PacGAN)"}
    if "paired" in metrics:
        found = _cached(out_dir / f"paired_{digest(str(ckpt))}.json", lambda: paired_quality(ckpt))
        result["metrics"].update(found)
        result["protocol"]["paired"] = {"split": "test", "images": "translations vs targets in [0, 1]"}
    return result


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


def _instantiate(spec: dict[str, Any]):
    module, _, name = spec["class_path"].rpartition(".")
    return getattr(importlib.import_module(module), name)(**spec.get("init_args", {}))


def datamodule_from_config(config: str, data_args: list[str]):
    from lit_gan.commands.evaluate import parse

    # evaluate's own reading of a config's data section and --data.* overrides (the samples
    # path is only a placeholder there: it is opened later, by evaluate itself)
    return parse(["--samples", "-", "--config", config, *data_args])[1]


def write_real_samples(config: str, split: str, num: int | None, data_args: list[str], path: Path,
                       domain: str | None = None) -> None:
    """The first ``num`` images of ``split`` as a `generate`-style .npz (uint8, N x H x W x C)."""
    from lit_gan.metrics.evaluation import real_images

    datamodule = datamodule_from_config(config, data_args)
    datamodule.prepare_data()
    images = real_images(datamodule, split, num, domain=domain)
    with atomic_path(path) as tmp:
        with tmp.open("wb") as f:
            np.savez(f, samples=images.permute(0, 2, 3, 1).numpy())


def _checkpoint_datamodule(ckpt: Path):
    from lit_gan.commands.evaluate import checkpoint_datamodule

    spec = checkpoint_datamodule(str(ckpt))
    if spec is None:
        raise ValueError(f"{ckpt} does not record its datamodule; train it with `python -m lit_gan fit`")
    return _instantiate(spec)


def mode_coverage(ckpt: Path, min_count: int) -> dict[str, Any]:
    """Modes covered with ``min_count`` high-quality samples, and with one (VEEGAN's count),
    of the same samples."""
    import torch

    from lit_gan.commands.compare_losses import NUM_SAMPLES, evaluate_run
    from lit_gan.metrics.modes import mode_statistics

    datamodule = _checkpoint_datamodule(ckpt)
    points, stats = evaluate_run(ckpt, datamodule, min_count)
    veegan = mode_statistics(torch.from_numpy(points), datamodule.modes, datamodule.mode_std, MODES_VEEGAN_MIN_COUNT)
    return {"modes_covered": stats["modes_covered"], "modes_covered_min1": veegan["modes_covered"],
            "num_modes": stats["num_modes"], "high_quality_fraction": stats["high_quality_fraction"],
            "samples": NUM_SAMPLES}


def paired_quality(ckpt: Path) -> dict[str, float]:
    """The model's own test_step (L1, PSNR, SSIM of translations vs targets) over the test split."""
    import lightning as L

    from lit_gan.commands.checkpoint import load_model

    model = load_model(ckpt, "cpu")
    trainer = L.Trainer(accelerator="auto", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    (logged,) = trainer.test(model, datamodule=_checkpoint_datamodule(ckpt), verbose=False)
    return {key.removeprefix("test/"): float(value) for key, value in logged.items()}
