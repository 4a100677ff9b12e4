"""The one adversarial training step that every model in lit_gan shares.

Manual optimization, because a GAN alternates two optimizers with different step
counts. One *training step* consumes one batch and makes one discriminator (critic)
update; every ``n_critic``-th batch is followed by ``n_gen`` generator updates and
completes one *generator iteration* (Arjovsky et al. 2017, Alg. 1, samples a fresh real
batch for every critic update, which is why a batch is one critic step, not one
iteration).

Counting: Lightning's ``trainer.global_step`` counts optimizer steps (Lightning
#17958), so one generator iteration is ``n_critic + n_gen`` global steps. To train for
N generator iterations pass ``--max_iterations N`` to ``fit`` or, from Python, add
``lit_gan.callbacks.training_length.TrainingLength(max_iterations=N)`` (a stop request;
Lightning's own ``max_steps`` makes resumes inexact). ``train/iteration`` logs the count.

Divergence: every update is checked before it is applied (``lit_gan.training.divergence``;
policy from the CLI's ``--divergence.*``).

Compile: ``compile=True`` (``--model.init_args.compile true``) runs each net's forward
through ``torch.compile`` during ``fit`` (lit_gan.models.compile); off by default.

Stabilizers: ``spectral_norm``, ``r1_gamma`` / ``r1_interval``, ``augment`` (DiffAugment) and
``ema_half_life_images`` / ``ema_rampup`` are arguments of every model, declared here once
(subclasses forward them with ``**kwargs``) and applied by ``stabilize_nets`` once a model has
built its nets (lit_gan.models.stabilizers). R1 joins D's loss in the step below; the EMA of G
moves after each applied G step.

Subclasses say what their losses are and nothing else:
``discriminator_loss(batch) -> (loss, logs)``, ``generator_loss(batch) -> (loss, logs)``,
``configure_optimizers`` (returning ``[opt_g, opt_d]`` and their schedulers) and
``validation_scores(batch, batch_idx) -> {name: value}``, which the one ``validation_step``
(and ``test_step``) logs as ``val/<name>`` (``test/<name>``).
"""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.utilities import rank_zero_info
import torch
from torch import Tensor

from lit_gan.errors import SettingError
from lit_gan.losses.gradient_penalty import check_r1_settings, r1_penalty, refuse_batch_norm, refuse_float16
from lit_gan.models import compile as compiling
from lit_gan.models import rng, stabilizers
from lit_gan.training import divergence
from lit_gan.training.ema import RAMPUP


class AdversarialModel(L.LightningModule):
    def __init__(self, n_critic: int = 1, n_gen: int = 1, grad_clip: float | None = None,
                 compile: bool = False, spectral_norm: bool = False, r1_gamma: float = 0.0, r1_interval: int = 1,
                 augment: str | None = None, ema_half_life_images: float | None = None,
                 ema_rampup: float | None = RAMPUP) -> None:
        """
        Args:
            spectral_norm: spectrally normalise every conv / linear / embedding weight of D
                (Miyato et al. 2018; lit_gan.training.spectral_norm); refused for a D with
                BatchNorm (set its ``discriminator_options.norm`` to ``none``).
            r1_gamma: weight of the R1 penalty gamma / 2 E||grad_x D(x)||^2 on real data
                (Mescheder et al. 2018, eq. 9; lit_gan.losses.gradient_penalty); 0: off.
            r1_interval: lazy R1 (StyleGAN2): the penalty every this many D steps, times this.
            augment: DiffAugment policy (Zhao et al. 2020), e.g. ``color,translation,cutout``,
                applied to every D input, real and fake, in D and G steps; null: none.
            ema_half_life_images: keep an exponential moving average of G with this half-life
                in images (StyleGAN2-ADA: 10000; lit_gan.training.ema); null: no average. When
                present, sampling, translation, callbacks and commands use it (``--use-ema``).
            ema_rampup: the average's ramp-up (StyleGAN2-ADA: 0.05); null: none.
        """
        super().__init__()
        if n_critic < 1 or n_gen < 1:
            raise ValueError(f"n_critic and n_gen must be >= 1, got n_critic={n_critic}, n_gen={n_gen}")
        if grad_clip is not None and grad_clip <= 0:
            raise ValueError(f"grad_clip must be positive or null, got {grad_clip}")
        self.automatic_optimization = False
        self.n_critic, self.n_gen, self.grad_clip = n_critic, n_gen, grad_clip
        self.compile_nets = bool(compile)  # not ``self.compile``: that is nn.Module.compile
        self.batches_seen = 0  # critic updates so far; saved in checkpoints
        self.iterations = 0  # generator iterations so far; saved in checkpoints
        self.skipped_steps = 0  # updates dropped by the divergence policy "skip"; saved in checkpoints
        # skipped updates in a row, per net (reset by a good update); saved in checkpoints
        self.consecutive_skips = {"discriminator": 0, "generator": 0}
        # Set by the CLI's DivergenceGuard (``--divergence.*``); a run property, not a hyperparameter.
        self.divergence_policy = divergence.DivergencePolicy()
        check_r1_settings(r1_gamma, r1_interval)
        stabilizers.check_ema_option(ema_half_life_images, ema_rampup)
        self.spectral_norm, self.r1_gamma, self.r1_interval = bool(spectral_norm), float(r1_gamma), r1_interval
        self.augmentation = stabilizers.diffaugment_for(augment)
        self.ema_half_life_images, self.ema_rampup = ema_half_life_images, ema_rampup
        # Sample with the averaged G when there is one; a run property (`generate --use-ema false`).
        self.use_ema = True
        self._applied = True  # whether the last update was applied (not skipped by the divergence policy)

    # ---- the stabilizers (lit_gan.models.stabilizers) -------------------------------
    def generator_attributes(self) -> tuple[str, ...]:
        """Attributes holding the generators (averaged by the EMA)."""
        return ("generator",)

    def discriminator_attributes(self) -> tuple[str, ...]:
        """Attributes holding the discriminators (spectral norm, DiffAugment, R1)."""
        return ("discriminator",)

    def stabilize_nets(self) -> None:
        """Apply the stabilizer options to the nets; each model calls it once its nets are built
        (before any checkpoint loads: a spectrally normalised D has other state-dict keys)."""
        for name in self.discriminator_attributes():
            net = getattr(self, name)
            if self.spectral_norm:
                stabilizers.normalize_discriminator(net, name)
            if self.r1_gamma > 0:
                refuse_batch_norm(type(self).__name__, net, name)
            if self.augmentation is not None:
                net.register_forward_pre_hook(self._augment_hook)
        if self.ema_half_life_images is not None:
            stabilizers.attach_averages(self, self.generator_attributes(), self.ema_half_life_images, self.ema_rampup)

    def _augment_hook(self, net, args: tuple) -> tuple | None:
        if not net.training:  # validation and test see the images as they are
            return None
        return (self.augment_discriminator_input(args[0]), *args[1:])

    def augment_discriminator_input(self, x: Tensor) -> Tensor:
        """D's image input augmented (pix2pix augments its (condition, image) pair together)."""
        return self.augmentation(x)

    def r1_terms(self, batch: Any) -> list[tuple[Any, Tensor, int]]:
        """``(critic, real inputs, pack)`` per D for the R1 penalty of a D step."""
        raise NotImplementedError(f"{type(self).__name__} does not say where R1 applies")

    def averaged(self, name: str):
        """The average of G ``name`` (a GeneratorEMA), or None."""
        return getattr(self, name + stabilizers.EMA_SUFFIX, None)

    def for_sampling(self, net: torch.nn.Module) -> torch.nn.Module:
        """The net to sample with in place of G ``net``: its average when there is one and ``use_ema``."""
        if self.use_ema:
            for name in self.generator_attributes():
                average = self.averaged(name)
                if average is not None and getattr(self, name) is net:
                    return average.module
        return net

    def has_ema(self) -> bool:
        return any(self.averaged(name) is not None for name in self.generator_attributes())

    def _update_averages(self, batch: Any) -> None:
        world = self.trainer.world_size if self._trainer is not None else 1
        for name in self.generator_attributes():
            average = self.averaged(name)
            if average is not None:
                average.update(getattr(self, name), stabilizers.batch_size_of(batch) * world)

    def _discriminator_objective(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        """D's loss plus R1 on the D steps it falls on (every ``r1_interval``-th, counted by the
        checkpointed ``batches_seen``, so a resumed run penalises the same steps)."""
        loss, logs = self.discriminator_loss(batch)
        if self.r1_gamma > 0 and self.batches_seen % self.r1_interval == 0:
            penalty = sum(r1_penalty(critic, real, self.r1_gamma, self.r1_interval, group)
                          for critic, real, group in self.r1_terms(batch))
            loss = loss + penalty
            logs = {**logs, "train/r1_penalty": penalty}
        return loss, logs

    # ---- what a subclass provides -------------------------------------------------
    def discriminator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError

    def generator_loss(self, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError

    def validation_scores(self, batch: Any, batch_idx: int) -> dict[str, Any]:
        """Scores of one held-out batch: tensors, or torchmetrics Metrics that accumulate over the epoch."""
        return {}

    def after_discriminator_step(self) -> None:
        """Hook after each critic update (WGAN clips its weights here)."""

    def double_backward_nets(self) -> tuple[str, ...]:
        """Nets whose gradient is differentiated again (a gradient penalty): ``compile`` leaves
        them eager, since torch.compile has no double backward."""
        return self.discriminator_attributes() if self.r1_gamma > 0 else ()

    def configure_model(self) -> None:
        """Lightning calls this once the Trainer is set up; ``compile`` acts here, in fit only
        (a test or evaluation pass is shorter than a compile)."""
        if self.compile_nets and self._trainer is not None and self.trainer.state.fn == "fit":
            eager = self.double_backward_nets()
            compiling.compile_nets(self, eager=eager)
            if eager:
                rank_zero_info(f"compile: {', '.join(eager)} stays eager (a gradient penalty differentiates it twice; "
                               "torch.compile has no double backward)")

    # ---- counting -----------------------------------------------------------------
    @property
    def optimizer_steps_per_iteration(self) -> int:
        return self.n_critic + self.n_gen

    def max_steps_for(self, iterations: int) -> int:
        """``trainer.max_steps`` that stops after ``iterations`` generator iterations."""
        return iterations * self.optimizer_steps_per_iteration

    # ---- the step -----------------------------------------------------------------
    def training_step(self, batch: Any, batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()
        loss_d, logs = self._update(opt_d, self._discriminator_objective, batch)
        self.after_discriminator_step()
        self.batches_seen += 1
        logs["train/loss_d"] = loss_d
        if self.batches_seen % self.n_critic == 0:
            for _ in range(self.n_gen):
                loss_g, g_logs = self._update(opt_g, self.generator_loss, batch)
                if self._applied:
                    self._update_averages(batch)
            logs.update(g_logs)
            logs["train/loss_g"] = loss_g
            self.iterations += 1
            self._step_schedulers("step")
        if self._logger_will_write():
            self.log_dict(logs, prog_bar=False)
            self.log("train/iteration", float(self.iterations), prog_bar=True)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """The template of validation and test: a subclass's ``validation_scores``, logged."""
        prefix = "test" if self.trainer.testing else "val"
        for name, value in self.validation_scores(batch, batch_idx).items():
            self.log(f"{prefix}/{name}", value, sync_dist=True)  # Metrics sync themselves; sync_dist is for tensors

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self.validation_step(batch, batch_idx)

    def _logger_will_write(self) -> bool:
        """Log only on the steps the logger writes (every ``trainer.log_every_n_steps``).

        Each ``self.log`` call costs ~0.45 ms per key in Lightning's bookkeeping (measured
        by benchmarks/dcgan_speed.py); on every step that was 10-20% of a small model's
        time for values the logger then discards. ``should_update_logs`` is Lightning's
        own test for a write step, so no logged row is lost.
        """
        connector = getattr(self._trainer, "_logger_connector", None)
        return bool(getattr(connector, "should_update_logs", True))

    def _update(self, opt, loss_fn, batch) -> tuple[Tensor, dict[str, Tensor]]:
        # toggled_optimizer turns off requires_grad for the other net's parameters, so
        # the generator step does not compute gradients for D and vice versa.
        net = "discriminator" if "discriminator" in getattr(loss_fn, "__name__", "") else "generator"
        with self.toggled_optimizer(opt):
            loss, logs = loss_fn(batch)
            opt.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            # fp16's loss scaler skips steps with inf gradients by design, and its gradients are
            # loss-scaled: there, judge only the loss and log no gradient norm.
            scaled = self._trainer is not None and str(self.trainer.precision) == "16-mixed"
            grad_norm = None if scaled else divergence.gradient_norm(
                [p for group in opt.param_groups for p in group["params"]])
            if grad_norm is not None and self._logger_will_write():
                # before any clipping: what the non-saturating trick changes (experiments/lessons/non_saturating.yaml)
                logs = {**logs, f"train/grad_norm_{net[0]}": grad_norm}
            self._applied = not self._diverged(loss, grad_norm, net)
            if not self._applied:
                opt.zero_grad(set_to_none=True)  # policy "skip": drop this step, keep training
            else:
                if self.grad_clip is not None:
                    self.clip_gradients(opt, gradient_clip_val=self.grad_clip, gradient_clip_algorithm="norm")
                opt.step()
        return loss.detach(), {k: v.detach() for k, v in logs.items()}

    def _diverged(self, loss: Tensor, grad_norm: Tensor | None, net: str) -> bool:
        """Check the update before it is applied (lit_gan.training.divergence); raise
        ``Diverged`` under the default policy, return True to skip the step."""
        policy = self.divergence_policy
        reason = divergence.check_update(loss, grad_norm, policy)  # the same verdict on every rank
        if reason is None:
            self.consecutive_skips[net] = 0
            return False
        where = f"iteration {self.iterations} (epoch {self.current_epoch}), {net} update"
        if policy.action == "skip":
            self.skipped_steps += 1
            self.consecutive_skips[net] += 1
            self.log("train/skipped_steps", float(self.skipped_steps))
            if self.consecutive_skips[net] < policy.max_skips:
                return True
            raise divergence.Diverged(f"training diverged at {where}: {reason}; its last {policy.max_skips} updates were "
                                      f"all skipped (--divergence.max_skips {policy.max_skips}): "
                                      f"{divergence.SKIP_CAUSES}.")
        raise divergence.Diverged(f"training diverged at {where}: {reason}. {divergence.CAUSES}.")

    def _step_schedulers(self, interval: str) -> None:
        for config in self.trainer.lr_scheduler_configs:
            if config.interval == interval:
                config.scheduler.step()

    def on_train_epoch_end(self) -> None:
        self._step_schedulers("epoch")

    def on_fit_start(self) -> None:
        precision = str(self.trainer.precision)
        if self.r1_gamma > 0:
            refuse_float16(precision)
        if self.grad_clip is not None and precision == "16-mixed":
            raise SettingError(
                "grad_clip with precision 16-mixed would clip loss-scaled gradients; "
                "use precision bf16-mixed or 32 (bf16 needs no loss scaling)"
            )

    # ---- state a resume needs that Lightning does not save --------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["lit_gan"] = {
            "model_class": f"{type(self).__module__}.{type(self).__qualname__}",
            "batches_seen": self.batches_seen,
            "iterations": self.iterations,
            "skipped_steps": self.skipped_steps,
            "consecutive_skips": dict(self.consecutive_skips),
            "rng": rng.capture_all_ranks(),
            "datamodule": self._datamodule_config(),
        }

    def _datamodule_config(self) -> dict[str, Any] | None:
        """class_path + init_args of the training data, so `evaluate --ckpt` finds the
        real images without the run's config file."""
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        if datamodule is None or not getattr(datamodule, "hparams", None):
            return None
        cls = type(datamodule)
        return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": dict(datamodule.hparams)}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("lit_gan", {})
        self.batches_seen = state.get("batches_seen", 0)
        self.iterations = state.get("iterations", 0)
        self.skipped_steps = state.get("skipped_steps", 0)
        self.consecutive_skips = {"discriminator": 0, "generator": 0, **state.get("consecutive_skips", {})}
        # Restore RNG only when a Trainer resumes (not for load_from_checkpoint). This
        # runs before the train loader's iterator is made, which draws the shuffling
        # seed from the global stream; the sanity check in between draws nothing (our
        # validation uses its own generators).
        if self._trainer is not None and state.get("rng") is not None:
            if not rng.restore_for_this_rank(state["rng"]):
                self.print("lit_gan: the world size changed since the checkpoint; RNG streams are not restored")
