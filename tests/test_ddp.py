"""Two-process CPU DDP (gloo): the multi-GPU code path, runnable on any machine.

Lightning wraps G and D in one DDP module; with plain ``ddp`` the D-only step leaves G's
parameters without gradients and DDP raises "parameters that were not used".
``ddp_find_unused_parameters_true`` is the strategy to use (docs/training.md, "Many GPUs").
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest
import torch

from lit_gan.callbacks.rank_sync import RankSyncCheck, parameter_checksums


def _fit_ddp(tmp_path, tiny_mnist, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "lit_gan", "fit",
        "--seed_everything", "3",
        "--trainer.accelerator", "cpu",
        "--trainer.devices", "2",
        "--trainer.strategy", "ddp_find_unused_parameters_true",
        "--trainer.max_epochs", "2",
        "--trainer.enable_progress_bar", "false",
        "--trainer.logger.init_args.save_dir", str(tmp_path / "runs"),
        "--trainer.callbacks+=lit_gan.callbacks.rank_sync.RankSyncCheck",
        "--samples.every_n_iterations", "2",
        "--data", "lit_gan.data.MNISTDataModule",
        "--data.init_args.root", str(tiny_mnist),
        "--data.init_args.val_size", "64",
        "--data.init_args.batch_size", "16",
        "--model", "lit_gan.models.DCGAN",
        "--model.init_args.generator_options", "{features: 8}",
        "--model.init_args.discriminator_options", "{features: 8}",
        *extra,
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def test_two_process_dcgan_keeps_ranks_identical(tmp_path, tiny_mnist):
    result = _fit_ddp(tmp_path, tiny_mnist)
    assert result.returncode == 0, result.stderr[-3000:]
    checks = [line for line in result.stdout.splitlines() if line.startswith("RankSyncCheck:")]
    assert len(checks) == 2, result.stdout[-2000:]  # one per epoch
    assert all("2 ranks identical" in line for line in checks)
    run = tmp_path / "runs" / "default" / "version_0"
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    # 192 images / (2 ranks x 16) = 6 batches an epoch per rank, 2 epochs, 1 iteration each
    assert ckpt["lit_gan"]["iterations"] == 12
    assert len(ckpt["lit_gan"]["rng"]) == 2  # both ranks' streams, for an exact resume
    assert sorted(p.name for p in (run / "samples").glob("*.png"))[-1] == "iter_0000012.png"


def test_two_process_wgan_gp_keeps_ranks_identical(tmp_path, tiny_mnist):
    """The gradient penalty's autograd.grad(create_graph=True) under DDP: gradients of the
    double backward are all-reduced once, so both ranks keep bit-identical weights."""
    import csv
    import math

    result = _fit_ddp(
        tmp_path, tiny_mnist,
        "--model", "lit_gan.models.WGANGP",
        "--model.init_args.generator_options", "{features: 8}",
        "--model.init_args.discriminator_options", "{features: 8, norm: layer}",
        "--trainer.log_every_n_steps", "1",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    checks = [line for line in result.stdout.splitlines() if line.startswith("RankSyncCheck:")]
    assert len(checks) == 2 and all("2 ranks identical" in line for line in checks), result.stdout[-2000:]
    run = tmp_path / "runs" / "default" / "version_0"
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    # 6 batches an epoch per rank, 2 epochs = 12 critic steps, n_critic = 5: 2 generator iterations
    assert (ckpt["lit_gan"]["model_class"], ckpt["lit_gan"]["iterations"]) == ("lit_gan.models.wgan.WGANGP", 2)
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    penalties = [float(r["train/gradient_penalty"]) for r in rows if r.get("train/gradient_penalty")]
    assert len(penalties) >= 10 and all(math.isfinite(v) and v >= 0 for v in penalties)
    assert any(r.get("train/wasserstein") for r in rows)


def test_plain_ddp_strategy_fails_as_documented(tmp_path, tiny_mnist):
    """If this starts passing, Lightning changed and the advice in docs/training.md can be relaxed."""
    result = _fit_ddp(tmp_path, tiny_mnist, "--trainer.strategy", "ddp", "--trainer.max_epochs", "1")
    assert result.returncode != 0
    assert "find_unused_parameters" in result.stderr


def test_rank_sync_check_flags_divergence():
    class FakeModule(torch.nn.Linear):
        device = torch.device("cpu")
        logged: dict = {}

        def all_gather(self, tensor):  # two "ranks", the second one nudged
            return torch.stack([tensor, tensor + 1e-3])

        def log(self, key, value, **kwargs):
            self.logged[key] = value

    class FakeTrainer:
        current_epoch, is_global_zero = 0, True

    module = FakeModule(3, 2)
    check = RankSyncCheck()
    try:
        check.on_train_epoch_end(FakeTrainer(), module)
    except RuntimeError as err:
        assert "diverged" in str(err)
    else:
        raise AssertionError("a divergence was not reported")
    assert abs(check.max_difference - 1e-3) < 1e-6  # float32 checksums of size ~1
    assert parameter_checksums(module).shape == (2,)


def test_two_process_metrics_equal_one_process_evaluation_of_the_final_weights(tmp_path, tiny_mnist):
    """GenerativeMetrics under DDP: shards without duplicates, compute() on every rank, and
    the value equals evaluating the saved weights in one process."""
    import csv

    import pytest

    from lit_gan.evaluation.checkpoints import load_model
    from lit_gan.evaluation.features import Evaluator, Protocol
    from lit_gan.evaluation.real import real_images
    from lit_gan.evaluation.sources import GeneratorSource
    from lit_gan.metrics.extractors import load_extractor
    from lit_gan.metrics.reference_cache import ReferenceCache
    from tests.metrics.helpers import write_tiny_extractor

    extractor = write_tiny_extractor(tmp_path / "tiny.pt2")
    result = _fit_ddp(
        tmp_path, tiny_mnist, "--trainer.max_epochs", "1",
        "--trainer.callbacks+=lit_gan.callbacks.generative_metrics.GenerativeMetrics",
        f"--trainer.callbacks.init_args.feature_extractor={extractor}",
        "--trainer.callbacks.init_args.metrics=[fid, kid]", "--trainer.callbacks.init_args.num_samples=51",
        "--trainer.callbacks.init_args.kid_subsets=5", f"--trainer.callbacks.init_args.cache_dir={tmp_path / 'cache'}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "runs" / "default" / "version_0"
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    fids = [float(r["val/fid_51"]) for r in rows if r.get("val/fid_51")]
    kids = [float(r["val/kid_51"]) for r in rows if r.get("val/kid_51")]
    assert len(fids) == 1 and len(kids) == 1  # one epoch; logged once, not once per rank

    model = load_model(run / "checkpoints" / "last.ckpt")
    from lit_gan.data import MNISTDataModule

    dm = MNISTDataModule(root=str(tiny_mnist), val_size=64)
    evaluator = Evaluator(Protocol(["fid", "kid"], num_samples=51, split="val", kid_subsets=5),
                          load_extractor(str(extractor)), ReferenceCache(tmp_path / "cache"), progress=False)
    single = evaluator.evaluate(lambda rows_: GeneratorSource(model, evaluator.protocol.num_samples, 0).uint8_batches(rows_, 250), real_images(dm, "val"), "x")
    assert fids[0] == pytest.approx(single["fid_51"], rel=1e-4)
    assert kids[0] == pytest.approx(single["kid_51"], rel=1e-4)


def test_parameter_checksums_make_no_float64_and_see_a_small_nudge():
    """Apple GPUs have no float64: the check makes none, yet a one-in-a-million change of one
    weight (lost in a float32 sum of 4,096 of them) is still seen as a divergence."""
    from tests.dtype_helpers import Float64Ops

    class TwoRanks(torch.nn.Sequential):  # rank 1 holds a copy with weight[3, 5] nudged
        device = torch.device("cpu")

        def all_gather(self, tensor):
            nudged = copy.deepcopy(self)
            with torch.no_grad():
                nudged[0].weight[3, 5] *= 1 + 1e-6
            if tensor.dtype == torch.int64:  # the exact fingerprint of the bits
                from lit_gan.callbacks.rank_sync import parameter_fingerprints
                return torch.stack([tensor, parameter_fingerprints(nudged)])
            other = parameter_checksums(nudged)
            return torch.stack([tensor, other])

        def log(self, *args, **kwargs):
            pass

    class FakeTrainer:
        current_epoch, is_global_zero = 0, True

    torch.manual_seed(0)
    module = TwoRanks(torch.nn.Linear(64, 64), torch.nn.Linear(64, 1))
    with Float64Ops() as seen, pytest.raises(RuntimeError, match="ranks diverged"):
        RankSyncCheck().on_train_epoch_end(FakeTrainer(), module)
    assert seen.ops == []
    RankSyncCheck(atol=1e-3).on_train_epoch_end(FakeTrainer(), module)  # within a tolerance: the checksums' size
