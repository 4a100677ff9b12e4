"""``python -m lit_gan fit|validate|test|predict``: LightningCLI in subclass mode.

What this adds to LightningCLI:
- ``data.data_shape`` is linked into ``model.init_args.data_shape``, so a config never
  states the image size twice.
- Every run gets its own directory ``runs/<name>/version_<k>/`` (config.yaml,
  metrics.csv, checkpoints/, samples/); running the same config again makes a new
  version, so nothing is overwritten.
- ``--max_iterations N`` trains for N generator iterations (Lightning's
  ``max_steps`` counts optimizer steps, several per iteration).
- ``--ckpt_path last`` resumes from the newest ``last.ckpt`` of any earlier run of the
  same experiment (Lightning alone would only look in the new, empty run directory).
  The resumed run writes into a new version directory.
- A ModelCheckpoint (``--checkpoint.*``, refreshes ``last.ckpt`` every epoch) and a SampleGrid
  (``--samples.*``) are always on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI

from lit_gan.callbacks.samples import SampleGrid
from lit_gan.models.adversarial import AdversarialModel

TRAINER_DEFAULTS: dict[str, Any] = {
    "default_root_dir": "runs",
    "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": "runs", "name": "default"}},
    "log_every_n_steps": 50,
}


def find_last_checkpoint(run_root: Path) -> Path | None:
    """The newest ``last.ckpt`` under ``run_root/version_*/checkpoints/`` (by mtime)."""
    candidates = list(run_root.glob("version_*/checkpoints/last*.ckpt"))
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


class GANCLI(LightningCLI):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trainer_defaults", TRAINER_DEFAULTS)
        kwargs.setdefault("save_config_kwargs", {"overwrite": False})
        kwargs.setdefault("auto_configure_optimizers", False)
        super().__init__(
            AdversarialModel, L.LightningDataModule, subclass_mode_model=True, subclass_mode_data=True, **kwargs
        )

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.data_shape", "model.init_args.data_shape", apply_on="instantiate")
        parser.add_argument(
            "--max_iterations",
            type=int | None,
            default=None,
            help="Train for this many generator iterations (overrides trainer.max_steps).",
        )
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        # save_top_k=1 without a monitor keeps the newest epoch's checkpoint, and with it
        # last.ckpt is refreshed every epoch (with save_top_k=0 only at the end of fit,
        # which a preempted job never reaches).
        parser.set_defaults({"checkpoint.save_last": True, "checkpoint.save_top_k": 1})
        parser.add_lightning_class_args(SampleGrid, "samples")

    def before_fit(self) -> None:
        iterations = self.config_init[self.subcommand].get("max_iterations")
        if iterations is not None:
            if iterations <= 0:
                raise ValueError(f"--max_iterations must be positive, got {iterations}")
            self.trainer.fit_loop.epoch_loop.max_steps = self.model.max_steps_for(iterations)

    def _resolve_ckpt_path(self, ckpt_path: str | None) -> str | None:
        if ckpt_path != "last":
            if ckpt_path is not None and not Path(ckpt_path).is_file():
                raise FileNotFoundError(f"--ckpt_path {ckpt_path}: no such checkpoint file")
            return ckpt_path
        logger = self.trainer.logger
        run_root = Path(logger.root_dir) if logger is not None else Path(self.trainer.default_root_dir)
        found = find_last_checkpoint(run_root)
        if found is None:
            L.pytorch.utilities.rank_zero_warn(
                f"--ckpt_path last: no last.ckpt under {run_root}/version_*/checkpoints/; starting from scratch"
            )
            return None
        L.pytorch.utilities.rank_zero_info(f"Resuming from {found}")
        return str(found)

    def fit(self, model, **kwargs: Any) -> None:
        kwargs["ckpt_path"] = self._resolve_ckpt_path(kwargs.get("ckpt_path"))
        self.trainer.fit(model, **kwargs)

    def validate(self, model, **kwargs: Any):
        kwargs["ckpt_path"] = self._resolve_ckpt_path(kwargs.get("ckpt_path"))
        return self.trainer.validate(model, **kwargs)

    def test(self, model, **kwargs: Any):
        kwargs["ckpt_path"] = self._resolve_ckpt_path(kwargs.get("ckpt_path"))
        return self.trainer.test(model, **kwargs)


def main(args: list[str] | None = None) -> None:
    GANCLI(args=args)
