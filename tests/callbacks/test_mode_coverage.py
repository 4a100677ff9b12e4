"""The ModeCoverage callback in a real Trainer, and its old class path that saved configs name."""

from __future__ import annotations

import math
from types import SimpleNamespace

import lightning as L
import pytest
import torch
from torch import nn

from lit_gan.callbacks.mode_coverage import ModeCoverage
from lit_gan.data.toy import Toy2DDataModule, toy_modes

RING = toy_modes("ring8")  # (8, 2), radius 2
STD = 0.02


def test_the_old_class_path_is_the_callback():
    from lit_gan.metrics import modes

    assert modes.ModeCoverage is ModeCoverage
    with pytest.raises(AttributeError):
        modes.NoSuchCallback


class TwoModeModel(L.LightningModule):
    """A stand-in GAN whose ``sample`` only ever hits ring modes 0 and 1."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.drawn: list[torch.Tensor] = []

    def training_step(self, batch, batch_idx):
        x, _ = batch
        return (self.w * x.sum()) ** 2

    def validation_step(self, batch, batch_idx):
        pass

    def test_step(self, batch, batch_idx):
        pass

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)

    # the sampling protocol (lit_gan.evaluation.sampling.Sampler)
    data_shape, num_classes, sample_group = (2,), None, None
    modes_used = 2

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, 2, generator=generator)

    def generate(self, z: torch.Tensor, labels=None) -> torch.Tensor:
        idx = torch.arange(len(z)) % self.modes_used
        out = RING[idx] + 0.5 * STD * z
        self.drawn.append(out)
        return out


def _trainer(max_epochs: int = 1) -> L.Trainer:
    return L.Trainer(
        max_epochs=max_epochs,
        limit_train_batches=1,
        limit_val_batches=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[ModeCoverage(num_samples=200, min_count=20, seed=0)],
    )


def _dm() -> Toy2DDataModule:
    return Toy2DDataModule("ring8", num_train=256, num_val=64, batch_size=64)


def test_callback_logs_two_of_eight_modes_and_skips_sanity_check():
    model, trainer = TwoModeModel(), _trainer(max_epochs=2)
    trainer.fit(model, datamodule=_dm())
    assert trainer.callback_metrics["val/modes_covered"].item() == 2
    assert trainer.callback_metrics["val/high_quality_fraction"].item() == 1.0
    # an even split over 2 of 8 modes: KL = log(8 / 2)
    assert trainer.callback_metrics["val/mode_reverse_kl"].item() == pytest.approx(math.log(4))
    # two validation epochs, none during the sanity check (which did run: 2 steps by default)
    assert len(model.drawn) == 2
    # the same fixed noise each epoch
    assert torch.equal(model.drawn[0], model.drawn[1])


def test_callback_logs_test_keys():
    model, trainer = TwoModeModel(), _trainer()
    trainer.test(model, datamodule=_dm(), verbose=False)
    assert trainer.callback_metrics["test/modes_covered"].item() == 2
    assert trainer.callback_metrics["test/mode_reverse_kl"].item() == pytest.approx(math.log(4))


def test_callback_needs_a_toy_datamodule():
    trainer = SimpleNamespace(sanity_checking=False, datamodule=None)
    with pytest.raises(RuntimeError, match="Toy2DDataModule"):
        ModeCoverage().on_validation_epoch_end(trainer, TwoModeModel())


def test_callback_argument_checks():
    with pytest.raises(ValueError, match="min_count"):
        ModeCoverage(num_samples=10, min_count=20)
    with pytest.raises(ValueError):
        ModeCoverage(num_samples=0)


# ---- the final weights are scored even when no validation follows the last batch ------


class GrowingModel(TwoModeModel):
    """Covers one more ring mode per training batch (1 to 8), so a logged number says which
    weights were scored; logs a train row every batch to compare steps with."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def training_step(self, batch, batch_idx):
        self.log("train/batches", float(self.batches))
        return super().training_step(batch, batch_idx)

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        self.batches += 1

    @property
    def modes_used(self) -> int:
        return min(max(self.batches, 1), 8)  # 200 samples over k <= 8 modes: >= 25 each


def _val_rows(log_dir) -> tuple[list[tuple[int, float, float]], int]:
    """(step, modes, HQ) of every metrics.csv row with val/modes_covered, and the last train row's step."""
    import csv

    rows = list(csv.DictReader(open(log_dir / "metrics.csv")))
    val = [(int(r["step"]), float(r["val/modes_covered"]), float(r["val/high_quality_fraction"]))
           for r in rows if r.get("val/modes_covered")]
    return val, max(int(r["step"]) for r in rows if r.get("train/batches"))


@pytest.mark.parametrize(
    "trainer_kwargs, at_end, expected",
    [
        # 4 batches per epoch; max_steps=5 stops one batch into epoch 2: validation after
        # batch 4 (step 3, 4 modes), then the final weights (step 4, 5 modes)
        ({"max_steps": 5}, True, [(3, 4.0), (4, 5.0)]),
        # the same run with at_end=False ends with the stale epoch-1 numbers
        ({"max_steps": 5}, False, [(3, 4.0)]),
        # ends on an epoch boundary: the last validation already scored the final weights
        ({"max_steps": 8}, True, [(3, 4.0), (7, 8.0)]),
        # validation every 2nd epoch, 3 epochs: the final weights are scored after it
        ({"max_epochs": 3, "check_val_every_n_epoch": 2}, True, [(7, 8.0), (11, 8.0)]),
    ],
    ids=["max_steps_mid_epoch", "at_end_off", "ends_at_validation", "every_2nd_epoch"],
)
def test_callback_scores_the_final_weights_once(tmp_path, trainer_kwargs, at_end, expected):
    from lightning.pytorch.loggers import CSVLogger

    logger = CSVLogger(tmp_path, name="run", version=0)
    trainer = L.Trainer(
        limit_train_batches=4, limit_val_batches=1, accelerator="cpu", logger=logger, log_every_n_steps=1,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=[ModeCoverage(num_samples=200, min_count=20, seed=0, at_end=at_end)], **trainer_kwargs,
    )
    model = GrowingModel()
    trainer.fit(model, datamodule=_dm())
    val, last_train_step = _val_rows(tmp_path / "run" / "version_0")
    assert [(step, modes) for step, modes, _ in val] == expected
    assert all(hq == 1.0 for _, _, hq in val)
    # every val row, the at_end one included, has the reverse KL of its weights: 200 samples
    # spread evenly over m of the 8 modes (m = 4, 5 or 8 here) give log(8 / m)
    import csv

    kls = [float(r["val/mode_reverse_kl"]) for r in csv.DictReader(open(tmp_path / "run" / "version_0" / "metrics.csv"))
           if r.get("val/modes_covered")]
    assert kls == pytest.approx([math.log(8 / modes) for _, modes in expected])
    if at_end:  # the last val row sits at the step of the last training batch, with its numbers
        assert val[-1][0] == last_train_step
        assert trainer.callback_metrics["val/modes_covered"].item() == min(model.batches, 8)


def test_callback_adds_nothing_after_a_stop_request_validation(tmp_path):
    """A stop request after batch 5 (as the CLI's --max_iterations makes) has Lightning
    validate after that batch itself: one row at the final step, not two."""
    from lightning.pytorch.loggers import CSVLogger

    class StopAfter5(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if trainer.global_step >= 5:
                trainer.should_stop = True

    trainer = L.Trainer(
        max_epochs=10, limit_train_batches=4, limit_val_batches=1, accelerator="cpu", log_every_n_steps=1,
        logger=CSVLogger(tmp_path, name="run", version=0), enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
        callbacks=[StopAfter5(), ModeCoverage(num_samples=200, min_count=20, seed=0)],
    )
    trainer.fit(GrowingModel(), datamodule=_dm())
    val, last_train_step = _val_rows(tmp_path / "run" / "version_0")
    assert [(step, modes) for step, modes, _ in val] == [(3, 4.0), (4, 5.0)] and last_train_step == 4
