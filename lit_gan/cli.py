"""``python -m lit_gan fit|validate|test|predict``: LightningCLI in subclass mode.

What this adds to LightningCLI:
- ``data.data_shape`` is linked into ``model.init_args.data_shape``, so a config never
  states the image size twice; ``data.num_classes`` into ``model.init_args.num_classes`` of
  the models that take it (the class-conditional ones), and only those (``link_num_classes``).
  What a datamodule provides for this: lit_gan.data.contract.
- Every run gets its own directory ``runs/<name>/version_<k>/`` (config.yaml,
  metrics.csv, checkpoints/, samples/); running the same config again makes a new
  version, so nothing is overwritten. With wandb (experiments/_base/wandb.yaml) it is
  ``runs/lit_gan/<wandb run id>/``, and the resolved config also becomes the wandb run's
  config.
- ``--max_iterations N`` trains for N generator iterations (Lightning's ``max_steps``
  counts optimizer steps, several per iteration); both become a stop request
  (lit_gan.callbacks.training_length) so that resumes stay exact.
- ``--ckpt_path last`` resumes from the most recently written ``last.ckpt`` of the
  experiment's runs (Lightning alone would only look in the new, empty run directory),
  says which, and refuses a damaged file in one line. Under DDP rank 0 picks it for every
  rank (lit_gan.training.resume.agreed_newest_checkpoint). The resumed run writes into a new
  version directory.
- Always on: RunCheckpoint (``--checkpoint.*``: a ``last.ckpt`` that resumes exactly, also
  written on SIGTERM / SIGINT), DivergenceGuard (``--divergence.*``) and a SampleGrid
  (``--samples.*``).
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path
from typing import Any

import lightning as L
import yaml
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger, WandbLogger

from lit_gan.callbacks.divergence import DivergenceGuard
from lit_gan.callbacks.run_checkpoint import RunCheckpoint
from lit_gan.callbacks.run_dir_cleanup import RunDirCleanup
from lit_gan.callbacks.samples import SampleGrid
from lit_gan.callbacks.training_length import TrainingLength
from lit_gan.data.contract import require_labels
from lit_gan.errors import UserError
from lit_gan.launch import check_world_size
from lit_gan.models.adversarial import AdversarialModel
from lit_gan.program import program_name
from lit_gan.sync_batchnorm import check_sync_batchnorm
from lit_gan.training.resume import agreed_newest_checkpoint, describe, read_checkpoint

TRAINER_DEFAULTS: dict[str, Any] = {
    "default_root_dir": "runs",
    "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": "runs", "name": "default"}},
    "log_every_n_steps": 50,
}


class GANTrainer(L.Trainer):
    """A Trainer whose ``log_dir`` is a folder of its own for every run, whatever the logger.

    Lightning's ``log_dir`` is the logger's ``save_dir`` itself for loggers other than CSV
    and TensorBoard (wandb, MLflow): config.yaml and samples/ of all runs would share one
    folder, and the second run (e.g. of a sweep) would refuse to start. Here it is the
    folder that ModelCheckpoint already uses for them, ``<save_dir>/<name>/<version>``
    (wandb: ``runs/lit_gan/<run id>/``), so a run's checkpoints, config and samples sit
    together.
    """

    @property
    def log_dir(self) -> str | None:
        logger = self.loggers[0] if self.loggers else None
        if logger is None or isinstance(logger, (CSVLogger, TensorBoardLogger)) or logger.save_dir is None:
            return super().log_dir
        if logger.version is None:
            _ = logger.experiment  # wandb only has its run id once the run has started (rank 0)
        version = logger.version if isinstance(logger.version, str) else f"version_{logger.version}"
        return self.strategy.broadcast(os.path.join(logger.save_dir, str(logger.name), version))


class SaveConfig(SaveConfigCallback):
    """config.yaml in the run directory, and for wandb the same resolved config as the
    run's config (Lightning alone would send only the model's init args), so runs can be
    filtered and compared by any setting."""

    def save_config(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        loggers = [logger for logger in trainer.loggers if isinstance(logger, WandbLogger)]
        if loggers:
            config = yaml.safe_load(self.parser.dump(self.config, skip_none=False))
            for logger in loggers:
                logger.log_hyperparams(config)


def import_class(class_path: str) -> type:
    """The class named by a full dotted path (jsonargparse's ``class_path``)."""
    parts = class_path.split(".")
    for cut in range(len(parts) - 1, 0, -1):  # the longest importable module prefix
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(f"cannot import {class_path}")


def takes_num_classes(model_class: type) -> bool:
    """Whether ``model_class`` takes a ``num_classes`` argument (a class-conditional model): in its own
    ``__init__`` or in a parent's that it forwards ``**kwargs`` to (lit_gan.models.arguments)."""
    for cls in model_class.__mro__:
        if "__init__" in vars(cls):
            parameters = inspect.signature(cls.__init__).parameters
            if "num_classes" in parameters:
                return True
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
                return False
    return False


def num_classes_as_given(data: Any, model: Any) -> int | None:
    """The parse-time half of the num_classes link: keeps the value given, if any, for
    ``link_num_classes`` to check against the data."""
    init_args = getattr(model, "init_args", None)
    return init_args.get("num_classes") if init_args is not None else None


def link_num_classes(config: Any) -> None:
    """Set ``model.init_args.num_classes`` of a parsed config to the datamodule's ``num_classes``
    when the model class takes one; leave every other model's config alone.

    One-line UserErrors: unlabelled data (no ``num_classes``) for a conditional model, and a
    given ``num_classes`` that disagrees with the data. The datamodule is constructed here
    once more to be asked (construction is cheap, lit_gan.data.contract); nothing is read.
    """
    model = config.get("model")
    if model is None or not getattr(model, "class_path", None):
        return
    model_class = import_class(model.class_path)
    if not takes_num_classes(model_class):
        return
    data = config.get("data")
    datamodule = None
    if data is not None and getattr(data, "class_path", None):
        init_args = data.get("init_args")
        kwargs = {**(init_args.as_dict() if init_args is not None else {}), **(data.get("dict_kwargs") or {})}
        datamodule = import_class(data.class_path)(**kwargs)
    num_classes = require_labels(datamodule, model_class.__name__)
    given = model.init_args.get("num_classes")
    if given is not None and given != num_classes:
        raise UserError(f"--model.init_args.num_classes={given} disagrees with the data: {type(datamodule).__name__} "
                        f"has {num_classes} classes; leave num_classes out (it is linked from the data) or set it "
                        f"to {num_classes}")
    model.init_args.num_classes = num_classes


class GANCLI(LightningCLI):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trainer_class", GANTrainer)
        kwargs.setdefault("save_config_callback", SaveConfig)
        kwargs.setdefault("trainer_defaults", TRAINER_DEFAULTS)
        kwargs.setdefault("save_config_kwargs", {"overwrite": False})
        kwargs.setdefault("auto_configure_optimizers", False)
        kwargs.setdefault("parser_kwargs", {"prog": program_name()})  # not "__main__.py"
        super().__init__(
            AdversarialModel, L.LightningDataModule, subclass_mode_model=True, subclass_mode_data=True, **kwargs
        )

    def instantiate_classes(self) -> None:
        link_num_classes(self.config[self.subcommand] if self.subcommand else self.config)
        super().instantiate_classes()

    def instantiate_trainer(self, **kwargs: Any) -> L.Trainer:
        trainer = super().instantiate_trainer(**kwargs)
        check_world_size(trainer.num_devices, trainer.num_nodes)  # torchrun / srun must match the config
        trainer_config = {**self._get(self.config_init, "trainer", default={}), **kwargs}
        check_sync_batchnorm(trainer, bool(trainer_config.get("sync_batchnorm")))  # before DDP wraps the model
        RunDirCleanup.attach(trainer)  # a fit failing before its first step leaves no empty version_k
        return trainer

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.data_shape", "model.init_args.data_shape", apply_on="instantiate")
        # num_classes is set by link_num_classes (instantiate_classes), not by an instantiation link:
        # jsonargparse skips such a link for a model without the parameter, but LightningCLI still
        # records the value in that model's hparams (DCGAN on MNIST would get num_classes: 10, and
        # DCGAN.load_from_checkpoint would then fail). This parse-time link keeps the value given;
        # it makes num_classes a linked argument: not required, not repeated in printed or saved configs.
        parser.link_arguments(("data", "model"), "model.init_args.num_classes", compute_fn=num_classes_as_given,
                              apply_on="parse")
        parser.add_argument(
            "--max_iterations",
            type=int | None,
            default=None,
            help="Train for this many generator iterations (overrides trainer.max_steps).",
        )
        # RunCheckpoint: ModelCheckpoint whose last.ckpt resumes exactly (lit_gan.callbacks.run_checkpoint).
        parser.add_lightning_class_args(RunCheckpoint, "checkpoint")
        # save_top_k=1 without a monitor keeps the newest epoch's checkpoint; last.ckpt is
        # refreshed at the end of every epoch and of the run, and on SIGTERM / SIGINT.
        parser.set_defaults({"checkpoint.save_last": True, "checkpoint.save_top_k": 1})
        parser.add_lightning_class_args(DivergenceGuard, "divergence")
        parser.add_lightning_class_args(SampleGrid, "samples")

    def before_fit(self) -> None:
        # --max_iterations and trainer.max_steps become a stop request (TrainingLength), so that
        # Lightning never treats a resume as iteration-based (see lit_gan.callbacks.training_length).
        iterations = self.config_init[self.subcommand].get("max_iterations")
        max_steps = self.trainer.max_steps if self.trainer.max_steps != -1 else None
        if iterations is not None or max_steps is not None:
            self.trainer.callbacks.insert(0, TrainingLength(iterations, max_steps))  # before the checkpoint callback
            self.trainer.fit_loop.epoch_loop.max_steps = -1
            if self.trainer.fit_loop.max_epochs is None:
                self.trainer.fit_loop.max_epochs = -1  # as Lightning does when max_steps is set

    def _parse_ckpt_path(self) -> None:
        """Lightning merges a ``--ckpt_path FILE``'s hyperparameters into the config here, as it
        parses, with its own ``torch.load(weights_only=True)``: a damaged file ended in torch's
        traceback (``--ckpt_path last`` names no file yet, so skipped this). Same merge, but the
        file is read by ``read_checkpoint``: a damaged one is one line naming it."""
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if not ckpt_path or not Path(ckpt_path).is_file():
            return
        hparams = dict(read_checkpoint(ckpt_path).get("hyper_parameters") or {})
        hparams.pop("_instantiator", None)
        if not hparams:
            return
        if "_class_path" in hparams:  # saved by a model in subclass mode
            hparams = {"class_path": hparams.pop("_class_path"), "dict_kwargs": hparams}
        self.config = self.parser.parse_object({subcommand: {"model": hparams}}, self.config)

    def _resolve_ckpt_path(self, ckpt_path: str | None, verb: str = "Resuming from") -> str | None:
        if ckpt_path is None:
            return None
        if ckpt_path == "last":
            run_root = self._run_root()
            processes = self.trainer.num_devices * self.trainer.num_nodes
            found = agreed_newest_checkpoint(run_root, processes, self.trainer.strategy.setup_environment)
            if found is None:
                L.pytorch.utilities.rank_zero_warn(
                    f"--ckpt_path last: no last.ckpt under {run_root}/*/checkpoints/; starting from scratch"
                )
                return None
            ckpt_path = str(found)
        state = read_checkpoint(ckpt_path)  # a damaged file: one line naming it, not a pickle traceback
        L.pytorch.utilities.rank_zero_info(f"{verb} {ckpt_path} ({describe(state)})")
        return ckpt_path

    def _run_root(self) -> Path:
        """Where this experiment's runs live: ``<save_dir>/<name>`` of its logger."""
        logger = self.trainer.logger
        if logger is None:
            return Path(self.trainer.default_root_dir)
        if getattr(logger, "root_dir", None) is not None:  # CSV / TensorBoard: <save_dir>/<name>
            return Path(logger.root_dir)
        # wandb has no root_dir; its runs live in <save_dir>/<name>/<run id>/ (GANTrainer.log_dir)
        return Path(logger.save_dir or self.trainer.default_root_dir) / str(logger.name)

    def fit(self, model, **kwargs: Any) -> None:
        kwargs["ckpt_path"] = self._resolve_ckpt_path(kwargs.get("ckpt_path"))
        self.trainer.fit(model, **kwargs)

    def validate(self, model, **kwargs: Any):
        kwargs["ckpt_path"] = self._resolve_ckpt_path(kwargs.get("ckpt_path"), "Validating")
        return self.trainer.validate(model, **kwargs)

    def test(self, model, **kwargs: Any):
        kwargs["ckpt_path"] = self._resolve_ckpt_path(kwargs.get("ckpt_path"), "Testing")
        return self.trainer.test(model, **kwargs)


def main(args: list[str] | None = None) -> None:
    GANCLI(args=args)
