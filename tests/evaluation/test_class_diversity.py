"""The ``class_diversity`` metric: per-class per-pixel std (n - 1) of [0, 1] pixels, mean over
pixels, then over classes; against numpy on a hand-built labelled set, 0 for a collapsed
generator, through ``evaluate`` on a samples file and on a conditional checkpoint's model."""

from __future__ import annotations

import json

import lightning as L
import numpy as np
import pytest
import torch
from torch import nn

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.data import MNISTDataModule
from lit_gan.errors import CommandError
from lit_gan.evaluation.features import Protocol
from lit_gan.evaluation.run import evaluate
from lit_gan.evaluation.sources import FileSource, GeneratorSource
from lit_gan.metrics.class_diversity import class_pixel_sums, per_class_diversity
from lit_gan.models import ConditionalDCGAN
from tests.conftest import write_tiny_mnist

pytestmark = [pytest.mark.filterwarnings("ignore:.*LeafSpec"), pytest.mark.filterwarnings("ignore:.*set_vital")]


def _numpy_diversity(images: np.ndarray, labels: np.ndarray, k: int) -> list[float]:
    """Per class: np.std over the class's images (ddof=1) of uint8 / 255, mean over pixels."""
    x = images.astype(np.float64) / 255.0
    return [float(x[labels == c].std(axis=0, ddof=1).mean()) if (labels == c).sum() >= 2 else float("nan")
            for c in range(k)]


def _labelled(n: int = 40, k: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    # classes spread differently: class c's pixels in [0, 60 * (c + 1)]
    images = (rng.random((n, 2, 5, 5)) * 60 * (labels[:, None, None, None] + 1)).astype(np.uint8)
    return images, labels


def test_per_class_diversity_equals_numpy():
    images, labels = _labelled()
    got = per_class_diversity(*class_pixel_sums(torch.from_numpy(images), torch.from_numpy(labels), 4))
    np.testing.assert_allclose(got.numpy(), _numpy_diversity(images, labels, 4), rtol=1e-12)
    assert len(set(np.round(got.numpy(), 6))) == 4  # the classes differ: the grouping by label matters


def test_sums_add_over_shards():
    images, labels = _labelled(n=30)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)
    whole = class_pixel_sums(x, y, 4)
    parts = [class_pixel_sums(x[a:b], y[a:b], 4) for a, b in ((0, 7), (7, 30))]
    for w, p, q in zip(whole, *parts):
        assert torch.equal(w, p + q)


def test_a_collapsed_class_scores_exactly_zero_and_one_sample_is_left_out():
    rng = np.random.default_rng(1)
    one = (rng.random((3, 4, 4)) * 255).astype(np.uint8)
    images = np.stack([one] * 5 + [rng.integers(0, 256, (3, 4, 4), dtype=np.uint8) for _ in range(4)] + [one])
    labels = np.array([0] * 5 + [1] * 4 + [2])
    got = per_class_diversity(*class_pixel_sums(torch.from_numpy(images), torch.from_numpy(labels), 3))
    assert got[0].item() == 0.0  # five identical images: exactly 0, no rounding residue
    assert got[1].item() == pytest.approx(_numpy_diversity(images, labels, 3)[1], rel=1e-12)
    assert torch.isnan(got[2])  # one image has no spread to measure


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        class_pixel_sums(torch.rand(4, 1, 2, 2), torch.zeros(4, dtype=torch.long), 2)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        class_pixel_sums(torch.zeros(4, 1, 2, 2, dtype=torch.uint8), torch.tensor([0, 1, 2, 0]), 2)


def _npz(path, images: np.ndarray, labels: np.ndarray | None, k: int) -> str:
    arrays = {"samples": images.transpose(0, 2, 3, 1).copy()}
    if labels is not None:
        arrays.update(labels=labels.astype(np.int64), num_classes=np.int64(k))
    np.savez(path, **arrays)
    return str(path)


def test_evaluate_on_a_samples_file_gives_the_numpy_values(tmp_path):
    """A samples file with labels: a conditional model's output or a real split written as one (the floor)."""
    images, labels = _labelled(n=50)
    source = FileSource(_npz(tmp_path / "s.npz", images, labels, 4))
    values, card = evaluate(source, None, Protocol(["class_diversity"], num_samples=50, batch_size=7))
    expected = _numpy_diversity(images, labels, 4)
    assert values["class_diversity"] == pytest.approx(np.mean(expected), rel=1e-12)
    assert values["class_diversity_min"] == pytest.approx(min(expected), rel=1e-12)
    np.testing.assert_allclose(card["class_diversity"]["per_class"], expected, rtol=1e-12)
    assert card["class_diversity"]["per_class_count"] == np.bincount(labels, minlength=4).tolist()


def test_evaluate_refuses_unlabelled_samples(tmp_path):
    images, _ = _labelled(n=10)
    source = FileSource(_npz(tmp_path / "s.npz", images, None, 4))
    with pytest.raises(CommandError, match="class_diversity scores class-conditional samples"):
        evaluate(source, None, Protocol(["class_diversity"], num_samples=10))


class _OneImagePerClass(nn.Module):
    """A collapsed conditional G: the image depends on the label only, never on z."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.linspace(-1, 1, 3 * 1 * 28 * 28).reshape(3, 1, 28, 28))

    def forward(self, z, y):
        return self.table[y] + 0 * z.sum(dim=1)[:, None, None, None]


def test_a_collapsed_generator_scores_zero_and_a_noisy_one_does_not():
    model = ConditionalDCGAN(num_classes=3, data_shape=(1, 28, 28), latent_dim=8,
                             generator_options={"features": 8}, discriminator_options={"features": 8})
    protocol = Protocol(["class_diversity"], num_samples=12, batch_size=5)
    values, _ = evaluate(GeneratorSource(model, 12, seed=0), None, protocol)
    assert values["class_diversity"] > 0 and values["class_diversity_min"] > 0  # z matters: samples differ
    model.generator = _OneImagePerClass()
    values, card = evaluate(GeneratorSource(model, 12, seed=0), None, protocol)
    assert values == {"class_diversity": 0.0, "class_diversity_min": 0.0}
    assert card["class_diversity"]["per_class_count"] == [4, 4, 4]


def test_the_evaluate_command_prints_it_for_a_conditional_checkpoint(tmp_path, capsys):
    root = write_tiny_mnist(tmp_path / "mnist", n_train=32, n_test=16)
    L.seed_everything(0, verbose=False)
    model = ConditionalDCGAN(num_classes=10, data_shape=(1, 28, 28), latent_dim=8,
                             generator_options={"features": 8}, discriminator_options={"features": 8})
    trainer = L.Trainer(accelerator="cpu", devices=1, max_steps=model.max_steps_for(1), limit_val_batches=0,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(model, datamodule=MNISTDataModule(root=str(root), val_size=8, batch_size=8))
    trainer.save_checkpoint(tmp_path / "c.ckpt")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["evaluate", "--no-progress", "--ckpt", str(tmp_path / "c.ckpt"), "--metrics", "class_diversity",
                      "--num", "30", "--batch-size", "7"])
    out, err = capsys.readouterr()
    assert exc.value.code in (0, None), err
    found = json.loads(out.strip().splitlines()[-1])
    assert 0 < found["metrics"]["class_diversity_min"] <= found["metrics"]["class_diversity"]
    assert found["protocol"]["class_diversity"]["per_class_count"] == [3] * 10
