"""``python -m lit_gan evaluate``: FID / KID / IS / class coverage / Parzen of a checkpoint
or of a samples file, with the protocol that produced them.

    python -m lit_gan evaluate --ckpt runs/x/version_0/checkpoints/last.ckpt --num 10000 \\
        --metrics fid,kid,classes --feature-extractor extractors/fashion_mnist_classifier.pt2
    python -m lit_gan evaluate --samples samples.npz --config experiments/radford2015/dcgan_mnist.yaml \\
        --data.init_args.root=/data/mnist --devices 2

Real images come from the datamodule saved in the checkpoint, or from ``--config`` (a
``fit`` config; only its ``data`` section is read), with the same ``--data.*`` overrides
as ``fit``. The last line of stdout is one JSON object: {"metrics": ..., "protocol": ...};
progress and logs go to stderr. ``--devices K`` splits the work over K processes (CPU with
gloo, or K GPUs) and gives the same numbers as one process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from jsonargparse import ArgumentParser
from lightning import LightningDataModule

from lit_gan.atomic import atomic_path
from lit_gan.commands.checkpoint import CommandError, load_model
from lit_gan.metrics.evaluation import FEATURE_METRICS, Evaluator, Protocol, real_images, sampling_card
from lit_gan.metrics.extractors import load_extractor
from lit_gan.metrics.feature_module import FeatureModuleError
from lit_gan.metrics.inception import InceptionWeightsMissing
from lit_gan.metrics.parzen_eval import parzen_metric
from lit_gan.metrics.reference_cache import ReferenceCache
from lit_gan.metrics.translation_sets import translated_batches, translation_sets
from lit_gan.models.sampling import sample_rows


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m lit_gan evaluate", description=__doc__.split("\n\n")[0], env_prefix="LIT_GAN")
    p.add_argument("--ckpt", type=str | None, default=None, help="checkpoint to sample from (see --num, --seed)")
    p.add_argument("--samples", type=str | None, default=None,
                   help="FILE.npz written by `generate` (uint8 N x H x W x C; Parzen uses samples_float when present)")
    p.add_argument("--num", type=int, default=10_000, help="samples to generate with --ckpt")
    p.add_argument("--metrics", type=str, default="fid,kid", help=f"comma-separated: {', '.join(FEATURE_METRICS)}, parzen")
    p.add_argument("--feature-extractor", type=str, default="inception", help="inception, or a .pt / .pt2 feature module")
    p.add_argument("--inception-weights", type=str | None, default=None, help="Inception weights file, if not in $TORCH_HOME/hub/checkpoints/")
    p.add_argument("--direction", type=str | None, default=None, help="image-to-image checkpoints: AtoB or BtoA (default: the model's)")
    p.add_argument("--split", type=str, default="test", help="real images: test, val or train")
    p.add_argument("--domain", type=str | None, default=None, help="unpaired data (--samples / generators): real images of domain A or B")
    p.add_argument("--num-real", type=int | None, default=None, help="first N real images of the split (default: all)")
    p.add_argument("--seed", type=int, default=0, help="noise seed for --ckpt, and KID / IS subsets")
    p.add_argument("--batch-size", type=int, default=250)
    p.add_argument("--kid-subsets", type=int, default=100)
    p.add_argument("--kid-subset-size", type=int, default=1000, help="shrunk to the smaller set when larger")
    p.add_argument("--devices", type=int, default=1, help="processes (GPUs, or CPU processes with gloo)")
    p.add_argument("--accelerator", type=str, default="auto", help="auto, cpu or gpu")
    p.add_argument("--cache-dir", type=str | None, default=None, help="real-feature cache (default ~/.cache/lit_gan/reference)")
    p.add_argument("--out", type=str | None, default=None, help="also write the JSON result to this file")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--config", type=str | None, default=None, help="a `fit` config; its `data` section supplies the real images")
    p.add_subclass_arguments(LightningDataModule, "data", required=False, fail_untyped=False)
    return p


def checkpoint_datamodule(ckpt: str) -> dict[str, Any] | None:
    try:
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
    except Exception as err:
        raise CommandError(f"{ckpt} is not a readable PyTorch checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(state, dict):
        return None
    saved = (state.get("lit_gan") or {}).get("datamodule")
    if saved is None and "_class_path" in state.get("datamodule_hyper_parameters", {}):
        # LightningCLI's own record (checkpoints of lit_gan 0.1 before "datamodule" was saved)
        saved = {"class_path": state["datamodule_hyper_parameters"]["_class_path"],
                 "init_args": state["datamodule_hyper_parameters"]}
    if saved is not None:  # LightningCLI records its own keys (_class_path, _instantiator) in init_args
        saved = {**saved, "init_args": {k: v for k, v in (saved.get("init_args") or {}).items()
                                        if not k.startswith("_")}}
    return saved


def parse(argv: list[str]) -> tuple[Any, LightningDataModule]:
    import argparse

    # --ckpt / --config decide the defaults of --data, so read them first
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--ckpt")
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    parser = build_parser()
    data_default = None
    if known.config is not None:
        if not Path(known.config).is_file():
            raise CommandError(f"--config {known.config}: no such file")
        data_default = (yaml.safe_load(Path(known.config).read_text()) or {}).get("data")
        if data_default is None:
            raise CommandError(f"{known.config} has no `data` section")
    elif known.ckpt is not None and Path(known.ckpt).is_file():
        data_default = checkpoint_datamodule(known.ckpt)
    if data_default is not None:  # --data.* on the command line override it
        parser.set_defaults(data=data_default)
    args = parser.parse_args(argv)
    if (args.ckpt is None) == (args.samples is None):
        raise CommandError("give exactly one of --ckpt CKPT (generate samples) or --samples FILE.npz")
    if args.ckpt is not None and not Path(args.ckpt).is_file():
        raise CommandError(f"checkpoint not found: {args.ckpt}")
    if args.data is None:
        raise CommandError("no real data to compare with: give --config FIT_CONFIG.yaml (its `data` section) or "
                           "--data.class_path / --data.init_args.* as for `fit`")
    return args, parser.instantiate(args).data


def load_samples(path: str, float_copy: bool = False) -> torch.Tensor | None:
    """uint8 (N, C, H, W) from a `generate` .npz file; with ``float_copy``, its float32
    ``samples_float`` (N, C, H, W) in [-1, 1] instead, or None when the file has none."""
    try:
        with np.load(path) as data:
            samples = data["samples"]
            floats = data["samples_float"] if float_copy and "samples_float" in data.files else None
    except (OSError, KeyError, ValueError) as err:
        raise CommandError(f"{path}: not a samples file from `generate` (needs an array 'samples'): {err}") from None
    if samples.dtype != np.uint8 or samples.ndim != 4:
        raise CommandError(f"{path}: image metrics need uint8 images N x H x W x C, got {samples.dtype} {samples.shape}")
    if float_copy:
        if floats is None:
            return None
        if floats.dtype != np.float32 or floats.shape != samples.shape:
            raise CommandError(f"{path}: samples_float must be float32 {samples.shape}, got {floats.dtype} {floats.shape}")
        samples = floats
    return torch.from_numpy(samples).permute(0, 3, 1, 2).contiguous()


def run(fabric, args, datamodule: LightningDataModule) -> dict[str, Any]:
    """One rank's part; every rank returns the same result."""
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    device = fabric.device
    samples = load_samples(args.samples) if args.samples else None
    model = load_model(args.ckpt, str(device)) if args.ckpt else None
    translating = model is not None and hasattr(model, "translate")
    if model is not None and not translating and not (hasattr(model, "noise") and hasattr(model, "generate")):
        raise CommandError(f"{type(model).__name__} checkpoints can neither sample nor translate")
    if translating:  # image-to-image: translations of the split's inputs vs its real targets
        direction = args.direction or model.default_direction
        source, field, real = translation_sets(datamodule, args.split, direction)
        num = len(source)
    else:
        num = len(samples) if samples is not None else args.num
    protocol = Protocol(metrics, num, args.num_real, args.split, args.seed, args.batch_size, args.kid_subsets,
                        args.kid_subset_size)
    progress = not args.no_progress and fabric.global_rank == 0
    if not translating:
        real = real_images(datamodule, args.split, args.num_real, domain=args.domain)
    if samples is not None and tuple(samples.shape[1:]) != tuple(real.shape[1:]):
        raise CommandError(f"samples are {tuple(samples.shape[1:])} (C, H, W) but the {args.split} images are "
                           f"{tuple(real.shape[1:])}: check --data.init_args.image_size")
    label = f"{type(datamodule).__name__}-{args.split}-{len(real)}"
    extractor = None
    if set(metrics) & set(FEATURE_METRICS):
        extractor = load_extractor(args.feature_extractor, device, args.inception_weights)
        label += f"-{extractor.name}"
    evaluator = Evaluator(protocol, extractor, ReferenceCache(args.cache_dir), progress)

    def fake_batches(rows: range):
        if samples is not None:
            return samples[rows.start : rows.stop].split(args.batch_size)
        if translating:
            return translated_batches(model, source, field, direction, args.batch_size)(rows)
        return evaluator.generated_shard(model, rows)

    values = evaluator.evaluate(fake_batches, real, label) if extractor is not None else {}
    card = evaluator.card(real, label) if extractor is not None else {"split": args.split, "n_real": len(real), "n_fake": num}
    card["source"] = {"ckpt": args.ckpt} if args.ckpt else {"samples": args.samples}
    if translating:
        card["source"]["translation"] = direction
    elif model is not None:
        card["sampling"] = sampling_card(model)
    if "parzen" in metrics:
        # the protocol's window sits on G's continuous outputs (parzen_ll.py), not rounded pixels
        floats = load_samples(args.samples, float_copy=True) if samples is not None else None
        if samples is not None and floats is None and fabric.global_rank == 0:
            print(f"warning: {args.samples} holds only uint8 samples, so Parzen uses rounded pixels (not the "
                  "protocol's float outputs); write it with `generate --keep-float`", file=sys.stderr)

        def parzen_batches(rows: range):
            if floats is not None:
                return floats[rows.start : rows.stop].split(args.batch_size)
            if samples is not None or translating:
                return fake_batches(rows)
            return sample_rows(model, num, args.seed, rows, args.batch_size)

        result, parzen_card = parzen_metric(parzen_batches, num, datamodule, args.split, progress)
        values.update(result)
        card["parzen"] = parzen_card
    return {"metrics": values, "protocol": card}


def run_and_close(fabric, args, datamodule: LightningDataModule) -> dict[str, Any]:
    """`run`, then tear the process group down on every rank once all ranks are done: a spawned
    worker that exits with gloo's threads still alive aborts ("terminate called without an
    active exception") and takes the whole command down with it."""
    result = run(fabric, args, datamodule)
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return result


def evaluate(argv: list[str]) -> dict[str, Any]:
    from lightning.fabric import Fabric

    args, datamodule = parse(argv)
    if args.devices < 1:
        raise CommandError(f"--devices must be >= 1, got {args.devices}")
    strategy = "ddp_spawn" if args.devices > 1 else "auto"
    if args.devices > 1:
        preflight(args, datamodule)
    fabric = Fabric(accelerator=args.accelerator, devices=args.devices, strategy=strategy)
    result = fabric.launch(run_and_close, args, datamodule)
    if args.out:
        with atomic_path(args.out) as tmp:
            tmp.write_text(json.dumps(result, indent=2))
    return result


def preflight(args, datamodule: LightningDataModule) -> None:
    """Catch the usual mistakes in this process, where they print as one clear line
    (inside spawned workers they would surface as a traceback per rank)."""
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    Protocol(metrics, max(args.num, 2), args.num_real, args.split)  # validates names and counts
    if args.samples:
        load_samples(args.samples)
    if set(metrics) & set(FEATURE_METRICS):
        load_extractor(args.feature_extractor, "cpu", args.inception_weights)
    datamodule.prepare_data()
    real_images(datamodule, args.split, args.num_real, domain=args.domain)


def main(argv: list[str]) -> int:
    try:
        result = evaluate(argv)
    except (CommandError, InceptionWeightsMissing, FeatureModuleError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0
