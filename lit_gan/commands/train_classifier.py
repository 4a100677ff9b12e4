"""``python -m lit_gan train-classifier``: train a small image classifier and save it as a
feature-extractor file (``lit_gan.metrics.feature_module``) for classifier FID and class
coverage without Inception.

    python -m lit_gan train-classifier --config experiments/classifiers/fashion_mnist.yaml
    python -m lit_gan train-classifier --config FILE.yaml --trainer.max_epochs 1 --out x.pt --overwrite

Arguments are LightningCLI's, as for ``fit`` (``--config``, ``--trainer.*``, ``--data.init_args.*``,
``--model.init_args.*``, ``--checkpoint.*``, ``--seed_everything``), plus:

- ``--out PATH``: ``.pt2`` (torch.export) or ``.pt`` (TorchScript); default from the config,
  else ``<run dir>/classifier.pt2``. An existing file is refused unless ``--overwrite``.

Flow: fit (the run lives in ``runs/<name>/version_<k>/`` like ``fit``: config.yaml,
metrics.csv, checkpoints/), test the checkpoint with the best ``val/acc`` (the last
weights when there is no validation set) on the test set, save the extractor with that test
accuracy in its metadata. Prints one summary line on stderr and one JSON line on stdout
(progress bars go to stderr, so stdout holds only that line):
``{"out", "test_accuracy", "feature_dim", "num_classes"}``. Exit 2 on a user error.

Attribute data (``CelebADataModule`` with ``attributes: [...]``, which has ``multilabel`` and
``attribute_names``) trains a multi-label classifier: its extractor returns (features, one
logit per attribute, present when > 0) and its metadata says ``multilabel: true``,
``attribute_names`` and ``test_attribute_accuracy`` (per attribute; ``test_accuracy`` is their
mean), with no ``num_classes`` / ``class_names``, so nothing takes it for a K-class
classifier (the ``classes`` metric refuses it). The JSON line then has ``num_attributes``
instead of ``num_classes``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import lightning as L
import torch
from jsonargparse import ActionYesNo
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI

from lit_gan.classifier import ImageClassifier
from lit_gan.cli import TRAINER_DEFAULTS
from lit_gan.download import DownloadError
from lit_gan.evaluation.checkpoints import CommandError
from lit_gan.metrics.feature_module import FORMATS, FeatureModuleError, save_feature_module

DATASET_NAMES = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}  # MNISTDataModule variants
DEFAULT_OUT_NAME = "classifier.pt2"  # in the run directory when neither config nor --out names one
LINKED = ("data_shape", "num_classes", "class_names")  # datamodule properties the model needs
MULTILABEL = ("multilabel", "attribute_names")  # instead of num_classes, class_names: attribute labels
# a link whose attribute the datamodule lacks is skipped by jsonargparse (the model's default stays)


def check_out(out: str | None, overwrite: bool) -> None:
    """Refuse a bad or existing ``--out`` before minutes of training, not after."""
    if out is None:
        return
    path = Path(out)
    if path.is_dir():
        raise CommandError(f"--out {out} is a folder; name a file ending in .pt2 or .pt")
    if path.suffix.lower() not in FORMATS:
        raise CommandError(f"--out {out}: must end in .pt2 (torch.export) or .pt (TorchScript)")
    if path.exists() and not overwrite:
        raise CommandError(f"{out} already exists; choose another --out or pass --overwrite")


def dataset_name(datamodule: L.LightningDataModule) -> str:
    variant = getattr(datamodule, "variant", None)
    return DATASET_NAMES.get(variant, variant) if variant is not None else type(datamodule).__name__


def check_attribute_data(data: Any, data_class: type) -> None:
    """A datamodule that may carry attribute labels must be asked for some (CelebA without
    ``attributes`` yields a constant label). Constructing it reads nothing (lit_gan.data.contract)."""
    init_args = data.get("init_args")
    kwargs = {**(init_args.as_dict() if init_args is not None else {}), **(data.get("dict_kwargs") or {})}
    datamodule = data_class(**kwargs)
    if not getattr(datamodule, "multilabel", False) and getattr(datamodule, "num_classes", None) is None:
        raise CommandError(
            f"{data.class_path} gives no labels to learn: name the attributes to classify, e.g. "
            "`attributes: [Eyeglasses, Male, Smiling]` under data.init_args (or "
            "--data.init_args.attributes '[Eyeglasses, Male, Smiling]'); see experiments/classifiers/celeba_attributes.yaml")


class ClassifierCLI(LightningCLI):
    """LightningCLI with ``run=False``: parse, seed, instantiate; ``train_and_save`` does the rest."""

    def __init__(self, args: list[str] | None = None) -> None:
        """``args=None`` reads sys.argv[1:]."""
        super().__init__(
            ImageClassifier, L.LightningDataModule, subclass_mode_model=True, subclass_mode_data=True,
            trainer_defaults=TRAINER_DEFAULTS, save_config_kwargs={"overwrite": False},
            run=False, args=args,
        )

    def add_arguments_to_parser(self, parser) -> None:
        for name in LINKED + MULTILABEL:
            parser.link_arguments(f"data.{name}", f"model.init_args.{name}", apply_on="instantiate")
        parser.add_argument("--out", type=str | None, default=None,
                            help=f"extractor file, .pt2 (torch.export) or .pt (TorchScript); default <run dir>/{DEFAULT_OUT_NAME}")
        parser.add_argument("--overwrite", action=ActionYesNo, default=False, help="replace an existing --out file")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({
            "model": {"class_path": "lit_gan.classifier.ImageClassifier"},
            # keep the best epoch by validation accuracy (tested and saved) and the last
            "checkpoint.monitor": "val/acc", "checkpoint.mode": "max",
            "checkpoint.save_top_k": 1, "checkpoint.save_last": True,
        })

    def before_instantiate_classes(self) -> None:
        check_out(self.config.get("out"), bool(self.config.get("overwrite")))
        module, _, name = self.config.data.class_path.rpartition(".")
        data_class = getattr(importlib.import_module(module), name)  # the parser has imported it already
        if hasattr(data_class, "attribute_names") and hasattr(data_class, "data_shape"):
            check_attribute_data(self.config.data, data_class)
            return
        missing = [name for name in LINKED if not hasattr(data_class, name)]
        if missing:
            raise CommandError(
                f"{self.config.data.class_path} cannot train a classifier: it has no {', '.join(missing)} "
                f"(the classifier needs {', '.join(LINKED)}, as lit_gan.data.MNISTDataModule has, or "
                "attribute labels, as lit_gan.data.CelebADataModule with `attributes: [...]` has)")

    def train_and_save(self) -> dict[str, Any]:
        """fit -> test the best checkpoint -> save the extractor; returns the summary dict."""
        trainer, model, datamodule = self.trainer, self.model, self.datamodule
        trainer.fit(model, datamodule=datamodule)
        epochs, steps = trainer.current_epoch, trainer.global_step
        callback = trainer.checkpoint_callback
        best = getattr(callback, "best_model_path", "") or None
        results = trainer.test(model, datamodule=datamodule, ckpt_path=best, verbose=False)
        if not results or "test/acc" not in results[0]:
            raise CommandError("the test set gave no accuracy (is the datamodule's test_dataloader empty?)")
        accuracy = float(results[0]["test/acc"])
        labels = label_meta(model, datamodule, results[0])
        run_dir = Path(trainer.log_dir) if trainer.log_dir else Path(trainer.default_root_dir)
        out = Path(self.config.get("out") or run_dir / DEFAULT_OUT_NAME)
        best_score = getattr(callback, "best_model_score", None)
        meta = {
            "input_shape": list(model.data_shape),
            "input_range": [-1.0, 1.0],
            **labels,
            "feature_dim": model.feature_dim,
            "features": f"post-ReLU penultimate layer of {type(model).__module__}.{type(model).__qualname__}",
            "dataset": dataset_name(datamodule),
            "test_accuracy": accuracy,
            "test_images": len(datamodule.test_dataloader().dataset),
            "val_accuracy": float(best_score) if best_score is not None else None,
            "epochs": epochs,
            "global_step": steps,
            "seed": self.config.get("seed_everything"),
            "checkpoint": best or (callback.last_model_path if callback is not None else None) or None,
            "run_dir": str(run_dir),
            "model": {"class_path": f"{type(model).__module__}.{type(model).__qualname__}",
                      "init_args": {k: (list(v) if isinstance(v, tuple) else v) for k, v in model.hparams.items()
                                    if not k.startswith("_")}},  # not jsonargparse's _class_path etc.
            "trained_by": "python -m lit_gan train-classifier",
            "torch_version": torch.__version__,
        }
        summary = {"out": str(out), "test_accuracy": accuracy, "feature_dim": model.feature_dim}
        if model.multilabel:
            summary["num_attributes"] = len(model.attribute_names)
        else:
            summary["num_classes"] = model.num_classes
        if trainer.is_global_zero:
            check_out(str(out), bool(self.config.get("overwrite")))  # nothing appeared there meanwhile
            example = next(iter(datamodule.test_dataloader()))[0][:2]
            save_feature_module(model.extractor(), out, example, meta)
        return summary


def label_meta(model: ImageClassifier, datamodule: L.LightningDataModule, results: dict[str, float]) -> dict[str, Any]:
    """What the logits mean: K classes, or (multi-label) one logit per attribute, present when > 0,
    with each attribute's test accuracy and share of test images that have it."""
    if not model.multilabel:
        return {"num_classes": model.num_classes, "class_names": list(model.class_names)}
    names = list(model.attribute_names)
    meta: dict[str, Any] = {
        "multilabel": True, "attribute_names": names, "num_attributes": len(names),
        "logits": "one per attribute, in attribute_names' order; the attribute is present when its logit > 0",
        "test_attribute_accuracy": {n: float(results[f"test/acc_{n}"]) for n in names if f"test/acc_{n}" in results},
    }
    labels = getattr(getattr(datamodule, "test_set", None), "labels", None)
    if labels is not None and len(labels):  # the majority-class baseline an accuracy is to be read against
        meta["test_attribute_prevalence"] = {n: float(p) for n, p in zip(names, labels.mean(axis=0))}
    return meta


def main(argv: list[str]) -> int:
    saved_argv = sys.argv
    # LightningCLI reads sys.argv[1:] (and warns when given `args` beside a non-empty one)
    sys.argv = ["python -m lit_gan train-classifier", *argv]
    try:
        cli = ClassifierCLI()  # --print_config prints here, to stdout
        # stdout carries only the JSON line: progress bars and tables go to stderr
        with contextlib.redirect_stdout(sys.stderr):
            summary = cli.train_and_save()
    except (CommandError, FeatureModuleError, FileNotFoundError, DownloadError) as err:
        # FileNotFoundError / DownloadError: the datamodule's "data not found" with what to do
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        sys.argv = saved_argv
    if not cli.trainer.is_global_zero:  # several processes (DDP): rank 0 reports
        return 0
    outputs = (f"{summary['num_attributes']} attributes (mean accuracy)" if "num_attributes" in summary
               else f"{summary['num_classes']} classes")
    print(f"wrote {summary['out']}: test accuracy {summary['test_accuracy']:.4f}, "
          f"{summary['feature_dim']}-d features, {outputs}", file=sys.stderr)
    print(json.dumps(summary), flush=True)
    return 0
