"""Precision / recall (Kynkäänniemi et al. 2019) and density / coverage (Naeem et al. 2020):
equal to the authors' `prdc` package, a case worked on paper, the k >= n error, 2 gloo
processes == 1 process, and `evaluate --metrics prdc` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import prdc as reference
import pytest
import torch

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.data import MNISTDataModule
from lit_gan.evaluation.real import real_images
from lit_gan.metrics import prdc as prdc_module
from lit_gan.metrics.prdc import DC_K, PR_K, PRDC
from tests.conftest import write_tiny_mnist
from tests.metrics.helpers import write_tiny_extractor

KEYS = ("precision", "recall", "density", "coverage")


def clustered(n_real: int, n_fake: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Real: 6 Gaussian clusters; fake: 4 of them, wider and shifted, so no number is 0 or 1."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(6, dim))
    real = centres[rng.integers(0, 6, n_real)] + rng.normal(size=(n_real, dim))
    fake = centres[rng.integers(0, 4, n_fake)] + 1.4 * rng.normal(size=(n_fake, dim)) + 0.2
    return real, fake.astype(np.float32)  # generated features as an extractor gives them


def ours(real, fake, chunks: int = 3, **ks) -> dict[str, float]:
    metric = PRDC(**ks)
    for part in np.array_split(real, chunks):
        metric.update(torch.from_numpy(part), real=True)
    for part in np.array_split(fake, chunks):
        metric.update(torch.from_numpy(part), real=False)
    return {k: float(v) for k, v in metric.compute().items()}


def theirs(real, fake) -> dict[str, float]:
    """prdc with each pair's own paper k (it computes all four for one k)."""
    fake = fake.astype(np.float64)
    pr, dc = reference.compute_prdc(real, fake, nearest_k=PR_K), reference.compute_prdc(real, fake, nearest_k=DC_K)
    return {"precision": pr["precision"], "recall": pr["recall"], "density": dc["density"], "coverage": dc["coverage"]}


def test_paper_constants():
    assert (PR_K, DC_K) == (3, 5) and (PRDC().pr_k, PRDC().dc_k) == (3, 5)


@pytest.mark.parametrize("n_real, n_fake, dim", [(60, 60, 2), (200, 150, 8), (101, 300, 64), (300, 80, 16)])
def test_equals_the_prdc_package(n_real, n_fake, dim, capsys, monkeypatch):
    real, fake = clustered(n_real, n_fake, dim)
    got, want = ours(real, fake), theirs(real, fake)
    assert max(abs(got[k] - want[k]) for k in KEYS) < 1e-6, (got, want)
    monkeypatch.setattr(prdc_module, "ROWS_BUDGET", 1000)  # blocks of 3 to 16 rows: the same numbers
    assert ours(real, fake) == got
    # not trivially equal: every value strictly inside (0, 1) (density may exceed 1)
    assert all(0 < got[k] < 1 for k in ("precision", "recall", "coverage")) and got["density"] > 0, got


# Worked on paper, 1-D. real 0, 1, 3, 7; fake 0.5, 2.5, 11, 13.
# k=1 radii: real 1, 1, 2, 4 (nearest OTHER point); fake 2, 2, 2, 2.
#   precision: 0.5 (in ball of 0), 2.5 (ball of 3) in; 11 is at exactly 4 from 7 = its radius:
#              out under prdc's strict <; 13 out -> 2/4
#   recall:    0, 1, 3 within 0.5 of a fake (< 2); 7 is 4 from 11 -> 3/4
#   density:   0.5 in balls of 0 and 1, 2.5 in the ball of 3 -> 3 / (k=1 * 4) = 3/4
#   coverage:  balls of 0, 1, 3 hold a fake; 7's (radius 4) does not (11 on its edge) -> 3/4
# dc_k=2 radii (2nd nearest other): real 3, 2, 3, 6. Pairs inside: 0.5 in 0, 1, 3; 2.5 in all
#   four; 11 in 7's (4 < 6); 13 on 7's edge (6) -> 8 / (2 * 4) = 1; every real ball holds one -> 1
@pytest.mark.parametrize("ks, expected", [
    ({"pr_k": 1, "dc_k": 1}, (0.5, 0.75, 0.75, 0.75)),
    ({"pr_k": 1, "dc_k": 2}, (0.5, 0.75, 1.0, 1.0)),
])
def test_a_case_worked_on_paper(ks, expected):
    real = np.array([[0.0], [1.0], [3.0], [7.0]])
    fake = np.array([[0.5], [2.5], [11.0], [13.0]])
    got = ours(real, fake, chunks=2, **ks)
    assert tuple(got[k] for k in KEYS) == expected


def test_a_set_against_itself_scores_one_everywhere():
    """Each real ball holds itself and its k - 1 nearest (distinct distances): density = kN / kN."""
    real, _ = clustered(120, 2, 5)
    assert ours(real, real) == dict.fromkeys(KEYS, 1.0)


@pytest.mark.parametrize("n_real, n_fake", [(5, 100), (100, 3), (0, 100)])
def test_too_few_samples_for_k_say_so_in_one_line(n_real, n_fake):
    metric = PRDC()
    metric.update(torch.randn(n_real, 4), real=True)
    metric.update(torch.randn(n_fake, 4), real=False)
    with pytest.raises(ValueError, match=f"got {n_real} real and {n_fake} generated.*k=3.*k=5.*--num") as err:
        metric.compute()
    assert "\n" not in str(err.value)


def test_k_plus_one_samples_are_enough():
    metric = PRDC()
    metric.update(torch.randn(6, 4), real=True)
    metric.update(torch.randn(4, 4), real=False)
    assert all(0 <= float(v) for v in metric.compute().values())


def test_features_of_another_width_are_refused():
    metric = PRDC()
    metric.update(torch.randn(8, 4), real=True)
    with pytest.raises(ValueError, match="4 dimensions"):
        metric.update(torch.randn(8, 5), real=False)


# ---- two processes (gloo) ---------------------------------------------------------------

WORKER = """
import sys

import numpy as np
import torch
import torch.distributed as dist

from lit_gan.metrics.distributed import shard
from lit_gan.metrics.prdc import PRDC

rank, world, init_file, out_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
torch.set_num_threads(1)
dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank, world_size=world)
data = np.load(out_dir + "/data.npz")
metric = PRDC()
for side, x in (("real", data["real"]), ("fake", data["fake"])):
    mine = shard(len(x), rank, world)  # 203 real: 101 + 102; 150 fake: 75 + 75
    for part in np.array_split(x[mine.start:mine.stop], 2 + rank):  # and in different update sizes
        metric.update(torch.from_numpy(part), real=side == "real")
torch.save(metric.compute(), f"{out_dir}/rank{rank}.pt")  # on every rank: it syncs
dist.barrier()  # both ranks done before either tears gloo down (tests/ranks.py's epilogue)
dist.destroy_process_group()
"""


def test_two_processes_give_the_one_process_values(tmp_path):
    real, fake = clustered(203, 150, 8, seed=1)
    np.savez(tmp_path / "data.npz", real=real, fake=fake)
    root = Path(__file__).parents[2]
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=path)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(rank), "2", str(tmp_path / "init"), str(tmp_path)],
                              env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rank in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
    one = ours(real, fake, chunks=1)
    assert all(0 < one[k] < 1 for k in ("precision", "recall", "coverage"))
    for rank in range(2):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        assert {k: float(v) for k, v in got.items()} == one  # exactly: same sets, same float64 arithmetic


# ---- evaluate, end to end ---------------------------------------------------------------

def test_evaluate_prdc_of_the_real_images_themselves(tmp_path, capsys):
    """The test images given back as 'samples': every generated feature is a real one, so all
    four are exactly 1; three samples are too few for k = 3, and evaluate says what to do."""
    mnist = write_tiny_mnist(tmp_path / "mnist", n_train=64, n_test=48)
    real = real_images(MNISTDataModule(root=str(mnist), val_size=16), "test")  # uint8 (48, 1, 28, 28)
    np.savez(tmp_path / "same.npz", samples=real.permute(0, 2, 3, 1).numpy())
    np.savez(tmp_path / "few.npz", samples=real[:3].permute(0, 2, 3, 1).numpy())
    common = ["--metrics", "prdc", "--feature-extractor", write_tiny_extractor(tmp_path / "tiny.pt2"),
              "--cache-dir", tmp_path / "cache", "--data=lit_gan.data.MNISTDataModule",
              f"--data.init_args.root={mnist}", "--data.init_args.val_size=16", "--no-progress"]
    results = []
    for samples in ("same.npz", "few.npz"):
        with pytest.raises(SystemExit) as exc:
            lit_gan_main(["evaluate", "--samples", str(tmp_path / samples), *map(str, common)])
        out, err = capsys.readouterr()
        results.append((exc.value.code, out, err))
    (code, out, err), (few_code, _, few_err) = results
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["metrics"] == {
        "precision_48": 1.0, "recall_48": 1.0, "density_48": 1.0, "coverage_48": 1.0}
    assert few_code == 2 and "got 48 real and 3 generated" in few_err and "--num" in few_err, few_err
