"""ConditionalAccuracy (AC-GAN) and intra-FID (projection cGAN) against closed forms and a
numpy + scipy oracle; 2-process CPU DDP (gloo, two `python -c` processes) equals 1 process."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch

from lit_gan.metrics.conditional import ConditionalAccuracy, IntraFID, frechet_distance

K, D = 3, 8


def oracle_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def gaussian_sets(seed: int = 0):
    """Real and generated features with labels; each class its own mean and covariance."""
    rng = np.random.default_rng(seed)
    real_y = rng.integers(0, K, 400)
    fake_y = rng.integers(0, K, 350)
    means = rng.normal(scale=2.0, size=(K, D))
    mix = rng.normal(size=(K, D, D)) * 0.5
    real = rng.normal(size=(400, D)) + means[real_y]
    fake = np.einsum("nd,nde->ne", rng.normal(size=(350, D)), mix[fake_y]) + means[fake_y] + 0.3
    return real, real_y, fake, fake_y


def intra_fid(real, real_y, fake, fake_y, chunks: int = 1):
    metric = IntraFID(K, D)
    for rows in np.array_split(np.arange(len(real)), chunks):
        metric.update(torch.from_numpy(real[rows]), torch.from_numpy(real_y[rows]), real=True)
    for rows in np.array_split(np.arange(len(fake)), chunks):
        metric.update(torch.from_numpy(fake[rows]).float(), torch.from_numpy(fake_y[rows]), real=False)
    return metric.compute()


# ---- ConditionalAccuracy ----------------------------------------------------------------

def test_accuracy_closed_form():
    logits = torch.tensor([[5.0, 0, 0], [0, 5, 0], [0, 0, 5], [5, 0, 0], [0, 5, 0], [0, 0, 5]])
    labels = torch.tensor([0, 1, 0, 0, 2, 2])  # right, right, wrong, right, wrong, right
    metric = ConditionalAccuracy(3)
    metric.update(logits[:4], labels[:4])
    metric.update(logits[4:], labels[4:])
    value = metric.compute()
    assert value.dtype == torch.float64 and float(value) == pytest.approx(4 / 6)
    # class 0: 2 of 3, class 1: 1 of 1, class 2: 1 of 2
    assert metric.per_class().tolist() == pytest.approx([2 / 3, 1.0, 0.5])


def test_accuracy_per_class_is_nan_for_a_label_never_generated():
    metric = ConditionalAccuracy(4)
    metric.update(torch.eye(4)[[0, 1, 1]], torch.tensor([0, 1, 2]))
    per_class = metric.per_class()
    assert per_class[:3].tolist() == [1.0, 1.0, 0.0] and math.isnan(per_class[3])
    assert float(metric.compute()) == pytest.approx(2 / 3)


@pytest.mark.parametrize("logits, labels, message", [
    (torch.zeros(4, 3), torch.tensor([0, 1, 2, 3]), r"labels must lie in \[0, 3\), got \[3\]"),
    (torch.zeros(4, 3), torch.tensor([0, -1, 2, 1]), r"labels must lie in \[0, 3\), got \[-1\]"),
    (torch.zeros(4, 3), torch.tensor([0, 1, 2]), r"labels must have shape \(4,\)"),
    (torch.zeros(4, 3), torch.zeros(4, 1, dtype=torch.long), r"labels must have shape \(4,\)"),
    (torch.zeros(4, 3), torch.tensor([0.0, 1, 2, 1]), "integer class indices"),
    (torch.zeros(4, 5), torch.tensor([0, 1, 2, 1]), r"logits must have shape \(N, 3\)"),
    (torch.zeros(4), torch.tensor([0, 1, 2, 1]), r"logits must have shape \(N, 3\)"),
])
def test_accuracy_refuses_bad_input(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        ConditionalAccuracy(3).update(logits, labels)


def test_accuracy_without_samples_says_so():
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="no samples"):
        ConditionalAccuracy(3).compute()


# ---- IntraFID ---------------------------------------------------------------------------

def test_intra_fid_matches_scipy_oracle_per_class():
    real, real_y, fake, fake_y = gaussian_sets()
    mean, per_class = intra_fid(real, real_y, fake, fake_y, chunks=3)
    expected = [oracle_fid(real[real_y == c], fake[fake_y == c].astype(np.float32).astype(np.float64))
                for c in range(K)]
    assert per_class.shape == (K,) and per_class.dtype == torch.float64
    assert per_class.tolist() == pytest.approx(expected, rel=1e-6)
    assert float(mean) == pytest.approx(np.mean(expected), rel=1e-6)
    assert min(expected) > 1.0  # the sets do differ: a zero would not pass by accident


def test_intra_fid_is_not_the_fid_of_the_pooled_sets():
    """Per-class statistics, not one Gaussian over all classes (which would hide a generator
    that makes the right images for the wrong labels)."""
    real, real_y, _, _ = gaussian_sets()
    mean, per_class = intra_fid(real, real_y, real, (real_y + 1) % K)  # every label shifted
    assert oracle_fid(real, real) == pytest.approx(0, abs=1e-6)
    assert float(mean) > 1.0 and bool((per_class > 1.0).all())


def test_intra_fid_of_a_set_against_itself_is_zero():
    real, real_y, _, _ = gaussian_sets()
    mean, per_class = intra_fid(real, real_y, real, real_y, chunks=2)
    assert abs(float(mean)) < 1e-8 and per_class.abs().max() < 1e-8


def test_frechet_distance_handles_singular_covariances():
    """Fewer samples than dimensions: both covariances singular; the symmetric form still
    agrees with the oracle (cf. scores.fid_from_symmetric_roots)."""
    rng = np.random.default_rng(1)
    a = np.repeat(rng.uniform(-1, 1, (4, 3)), 4, axis=1)  # (4, 12), rank <= 3
    b = np.repeat(rng.uniform(-1, 1, (5, 3)), 4, axis=1)
    stats = [(torch.from_numpy(x.mean(0)), torch.from_numpy(np.cov(x, rowvar=False))) for x in (a, b)]
    value = float(frechet_distance(*stats[0], *stats[1]))
    assert value == pytest.approx(oracle_fid(a, b), rel=1e-5, abs=1e-8)


def test_intra_fid_names_the_classes_with_too_few_samples():
    metric = IntraFID(3, 2)
    metric.update(torch.randn(6, 2), torch.tensor([0, 0, 1, 1, 2, 2]), real=True)
    metric.update(torch.randn(5, 2), torch.tensor([0, 0, 1, 2, 2]), real=False)
    with pytest.raises(ValueError, match=r"class 1: 2 real / 1 generated.*--per-class") as err:
        metric.compute()
    assert "class 0" not in str(err.value) and "class 2" not in str(err.value)


@pytest.mark.parametrize("features, labels, message", [
    (torch.zeros(4, 2), torch.tensor([0, 1, 2, 3]), r"labels must lie in \[0, 3\), got \[3\]"),
    (torch.zeros(4, 2), torch.tensor([0, 1, 2]), r"labels must have shape \(4,\)"),
    (torch.zeros(4, 5), torch.tensor([0, 1, 2, 1]), r"features must have shape \(N, 2\)"),
])
def test_intra_fid_refuses_bad_input(features, labels, message):
    with pytest.raises(ValueError, match=message):
        IntraFID(3, 2).update(features, labels, real=True)


# ---- two processes (gloo) ---------------------------------------------------------------

WORKER = """
import sys

import numpy as np
import torch
import torch.distributed as dist

from lit_gan.metrics.conditional import ConditionalAccuracy, IntraFID
from lit_gan.metrics.distributed import shard

rank, world, init_file, out_dir, k = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
torch.set_num_threads(1)
dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank, world_size=world)
data = np.load(out_dir + "/data.npz")
real, real_y, fake, fake_y = data["real"], data["real_y"], data["fake"], data["fake_y"]
fid = IntraFID(k, real.shape[1])
mine = shard(len(real), rank, world)  # 400 rows: 200 + 200
fid.update(torch.from_numpy(real[mine.start:mine.stop]), torch.from_numpy(real_y[mine.start:mine.stop]), True)
mine = shard(len(fake), rank, world)  # 350 rows: 175 + 175
fid.update(torch.from_numpy(fake[mine.start:mine.stop]).float(), torch.from_numpy(fake_y[mine.start:mine.stop]), False)
accuracy = ConditionalAccuracy(k)
mine = shard(len(fake) - 1, rank, world)  # 349 rows: 174 + 175, uneven
accuracy.update(torch.from_numpy(fake[mine.start:mine.stop, :k]), torch.from_numpy(fake_y[mine.start:mine.stop]))
mean, per_class = fid.compute()  # on every rank: it syncs
torch.save({"mean": mean, "per_class": per_class, "accuracy": accuracy.compute(),
            "accuracy_per_class": accuracy.per_class()}, f"{out_dir}/rank{rank}.pt")
dist.barrier()  # both ranks done before either tears gloo down (tests/ranks.py's epilogue)
dist.destroy_process_group()
"""


def test_two_processes_give_the_one_process_values(tmp_path):
    """Each rank updates its own shard; compute() on both ranks equals one process."""
    real, real_y, fake, fake_y = gaussian_sets()
    np.savez(tmp_path / "data.npz", real=real, real_y=real_y, fake=fake, fake_y=fake_y)
    root = Path(__file__).parents[2]
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=path)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(rank), "2", str(tmp_path / "init"), str(tmp_path),
                               str(K)], env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rank in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]

    mean, per_class = intra_fid(real, real_y, fake, fake_y)
    accuracy = ConditionalAccuracy(K)
    accuracy.update(torch.from_numpy(fake[:-1, :K]), torch.from_numpy(fake_y[:-1]))
    for rank in range(2):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        assert float(got["mean"]) == pytest.approx(float(mean), rel=1e-9)
        assert got["per_class"].tolist() == pytest.approx(per_class.tolist(), rel=1e-9)
        assert float(got["accuracy"]) == pytest.approx(float(accuracy.compute()), rel=1e-12)
        assert got["accuracy_per_class"].tolist() == pytest.approx(accuracy.per_class().tolist(), rel=1e-12)
    assert 0 < float(accuracy.compute()) < 1
