"""Divergence: the check itself, the model step, and a real run that diverges."""

from __future__ import annotations

import math

import pytest
import torch

from lit_gan.models import GAN
from lit_gan.training.divergence import DivergencePolicy, Diverged, check_update, first_non_finite_tensor, gradient_norm
from tests.run_helpers import fit_command, last, run, write_callbacks


def _param_with_grad(value: float) -> torch.nn.Parameter:
    p = torch.nn.Parameter(torch.zeros(3))
    p.grad = torch.full((3,), value)
    return p


def test_check_update_names_the_reason():
    stop = DivergencePolicy()
    assert check_update(torch.tensor(0.7), gradient_norm([_param_with_grad(1.0)]), stop) is None
    assert "loss is nan" in check_update(torch.tensor(math.nan), gradient_norm([_param_with_grad(1.0)]), stop)
    assert "gradient norm is inf" in check_update(torch.tensor(0.7), gradient_norm([_param_with_grad(math.inf)]), stop)
    bounded = DivergencePolicy(max_loss=5.0)
    assert check_update(torch.tensor(4.9), gradient_norm([_param_with_grad(1.0)]), bounded) is None
    assert "exceeds --divergence.max_loss 5.0" in check_update(torch.tensor(5.1), gradient_norm([]), bounded)


def test_policy_refuses_bad_settings():
    with pytest.raises(ValueError, match="'stop' or 'skip'"):
        DivergencePolicy(action="ignore")
    with pytest.raises(ValueError, match="positive"):
        DivergencePolicy(max_loss=0.0)
    with pytest.raises(ValueError, match=">= 1"):
        DivergencePolicy(max_skips=0)


class _Opt:  # what toggled_optimizer / zero_grad / step need from a LightningOptimizer
    def __init__(self, opt):
        self.optimizer, self.param_groups = opt, opt.param_groups

    def zero_grad(self, set_to_none=True):
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self):
        self.optimizer.step()


def _nan_step(policy: DivergencePolicy):
    torch.manual_seed(0)
    model = GAN(data_shape=(2,), latent_dim=4, generator="mlp", discriminator="mlp",
                generator_options={"hidden": [8]}, discriminator_options={"hidden": [8]}, optimizer="adam")
    model.divergence_policy = policy
    model.toggled_optimizer = lambda opt: torch.enable_grad()  # no Trainer here
    model.manual_backward = lambda loss: loss.backward()
    opt = _Opt(torch.optim.Adam(model.discriminator.parameters(), lr=0.1))
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def nan_loss(batch):
        loss, logs = model.discriminator_loss(batch)
        return loss * math.nan, logs

    nan_loss.__name__ = "discriminator_loss"
    return model, opt, before, nan_loss


def test_a_nan_update_stops_before_the_weights_change():
    model, opt, before, nan_loss = _nan_step(DivergencePolicy("stop"))
    with pytest.raises(Diverged, match=r"iteration 0 \(epoch 0\), discriminator update: the loss is nan.*learning rate"):
        model._update(opt, nan_loss, (torch.randn(16, 2), torch.zeros(16)))
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_skip_policy_drops_the_step_and_counts_it(monkeypatch):
    model, opt, before, nan_loss = _nan_step(DivergencePolicy("skip"))
    monkeypatch.setattr(model, "log", lambda *a, **k: None)
    model._update(opt, nan_loss, (torch.randn(16, 2), torch.zeros(16)))
    assert model.skipped_steps == 1
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_a_diverging_run_exits_3_and_keeps_the_last_good_checkpoint(tmp_path):
    """NaN weights at batch 12 (mid-epoch 1): the next update's loss is NaN, the run stops with
    exit code 3 and one message, and last.ckpt is still epoch 0's, finite."""
    write_callbacks(tmp_path)
    result = run(tmp_path, fit_command(tmp_path / "runs", "--max_iterations", "20",
                                       "--trainer.callbacks+=test_callbacks.PoisonAt"), env={"POISON_AT_BATCH": "12"})
    assert result.returncode == 3, result.stderr[-3000:]
    assert "training diverged at iteration 6 (epoch 1), discriminator update: the loss is nan" in result.stderr
    assert "Traceback" not in result.stderr
    saved = last(tmp_path / "runs", 0)
    assert saved["lit_gan"]["iterations"] == 4 and first_non_finite_tensor(saved["state_dict"]) is None


def test_non_finite_weights_are_never_written(tmp_path):
    """Poisoned at the batch that closes epoch 0, just before its checkpoint: the save refuses."""
    write_callbacks(tmp_path)
    result = run(tmp_path, fit_command(tmp_path / "runs", "--max_iterations", "20",
                                       "--trainer.callbacks+=test_callbacks.PoisonAt"), env={"POISON_AT_BATCH": "8"})
    assert result.returncode == 3, result.stderr[-3000:]
    assert "the weights are not finite" in result.stderr and "previous checkpoint is kept" in result.stderr
    assert not list((tmp_path / "runs").rglob("*.ckpt"))  # nothing good existed yet, nothing bad was written


def test_skips_in_a_row_are_bounded_and_reset_by_a_good_update(monkeypatch):
    model, opt, before, nan_loss = _nan_step(DivergencePolicy("skip", max_skips=3))
    monkeypatch.setattr(model, "log", lambda *a, **k: None)
    batch = (torch.randn(16, 2), torch.zeros(16))
    for _ in range(2):
        model._update(opt, nan_loss, batch)
    model._update(opt, model.discriminator_loss, batch)  # a good update: the run recovered
    for _ in range(2):
        model._update(opt, nan_loss, batch)
    assert model.skipped_steps == 4 and model.consecutive_skips["discriminator"] == 2
    checkpoint: dict = {}
    model.on_save_checkpoint(checkpoint)  # a resume goes on counting where the run was
    resumed, *_ = _nan_step(DivergencePolicy("skip", max_skips=3))
    resumed.on_load_checkpoint(checkpoint)
    assert resumed.consecutive_skips == {"discriminator": 2, "generator": 0}
    with pytest.raises(Diverged, match=r"discriminator update: the loss is nan; its last 3 updates were all "
                                       r"skipped \(--divergence.max_skips 3\)"):
        model._update(opt, nan_loss, batch)


NAN_BATCHES = """
import lightning as L


class NaNBatches(L.Callback):
    \"\"\"Every training batch is NaN: every update is skipped, the weights never change.\"\"\"
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        batch[0].fill_(float("nan"))
"""


def test_a_run_whose_every_update_is_skipped_stops_with_exit_3(tmp_path):
    """Under ``skip`` a run whose every update was dropped ended with exit 0 and the initial
    weights. After --divergence.max_skips (default 100) skipped updates of a net in a row it stops."""
    (tmp_path / "nan_batches.py").write_text(NAN_BATCHES)
    result = run(tmp_path, fit_command(tmp_path / "runs", "--max_iterations", "60", "--divergence.action", "skip",
                                       "--data.init_args.num_train", "6400",  # 100 batches an epoch
                                       "--trainer.callbacks+=nan_batches.NaNBatches"))
    assert result.returncode == 3, result.stderr[-3000:]
    assert ("training diverged at iteration 49 (epoch 0), discriminator update: the loss is nan; its last 100 "
            "updates were all skipped (--divergence.max_skips 100)") in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("setting", [["--divergence.max_skips", "0"], ["--divergence.max_loss", "-1"]])
def test_bad_divergence_settings_are_one_line_exit_2(tmp_path, setting):
    result = run(tmp_path, fit_command(tmp_path / "runs", "--max_iterations", "1", *setting))
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and setting[0] in result.stderr


def test_loss_bound_with_skip_trains_on_without_moving(tmp_path):
    result = run(tmp_path, fit_command(tmp_path / "runs", "--max_iterations", "3", "--divergence.action", "skip",
                                       "--divergence.max_loss", "1e-6", "--trainer.log_every_n_steps", "1"))
    assert result.returncode == 0, result.stderr[-3000:]
    saved = last(tmp_path / "runs", 0)
    assert saved["lit_gan"]["iterations"] == 3 and saved["lit_gan"]["skipped_steps"] == 9  # 2 D + 1 G each


RANK_LOCAL_NAN = """
import json
from torch.nn.parallel import DistributedDataParallel
from lit_gan.models.adversarial import AdversarialModel
from lit_gan.training.divergence import DivergencePolicy, Diverged, gradient_norm

torch.manual_seed(0)
net = DistributedDataParallel(torch.nn.Linear(3, 1))
loss = net(torch.randn(4, 3)).pow(2).mean()
if rank == 1:  # a NaN term without parameters: the loss is NaN here, the all-reduced gradients finite
    loss = loss + torch.tensor(float("nan"))
loss.backward()
grad_norm = gradient_norm(net.parameters())
model = AdversarialModel()
model.log = lambda *args, **kwargs: None
out = {"grad_finite": bool(torch.isfinite(grad_norm))}
for action in ("stop", "skip"):
    model.divergence_policy = DivergencePolicy(action)
    try:
        out[action] = model._diverged(loss, grad_norm, "discriminator")
    except Diverged as err:
        out[action] = str(err)
dist.barrier()  # the next collective: a rank that stopped alone would leave the other waiting here
open(f"{out_dir}/rank{rank}.json", "w").write(json.dumps(out))
del net  # DDP's reducer goes while its process group lives (a loaded full run once aborted at exit without this)
"""


def test_ranks_agree_on_a_rank_local_nan_loss(tmp_path):
    """Only rank 1's loss is NaN while the all-reduced gradients are finite: both ranks stop
    (or, under skip, both skip); one rank deciding alone raised while the other trained on."""
    import json

    from tests.ranks import run_ranks

    results = run_ranks(RANK_LOCAL_NAN, tmp_path, timeout=60)
    assert all(code == 0 for code, _, _ in results), [err[-2000:] for _, _, err in results]
    outs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert all(out["grad_finite"] for out in outs)
    assert "the loss is nan" in outs[1]["stop"]
    assert "loss is not finite on another rank" in outs[0]["stop"]
    assert outs[0]["skip"] is True and outs[1]["skip"] is True
