"""`python -m lit_gan generate` end to end on checkpoints of a tiny toy GAN and a tiny DCGAN."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.evaluation.checkpoints import CommandError
from lit_gan.commands.generate import iter_samples
from lit_gan.evaluation.sampling import NOISE_CHUNK
from lit_gan.data import MNISTDataModule, Toy2DDataModule
from lit_gan.models import DCGAN, GAN
from tests.conftest import write_tiny_mnist


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """On 2 shared cores, 2 torch threads are ~10x slower than 1 for these tiny nets."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def train_and_save(model, datamodule, path: Path, iterations: int = 2) -> Path:
    trainer = L.Trainer(
        accelerator="cpu", devices=1, max_steps=model.max_steps_for(iterations), limit_val_batches=0,
        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        default_root_dir=path.parent,
    )
    trainer.fit(model, datamodule=datamodule)
    trainer.save_checkpoint(path)
    return path


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generate_ckpts")
    L.seed_everything(0, verbose=False)
    toy = GAN(data_shape=(2,), latent_dim=4, noise="normal", generator="mlp", discriminator="mlp",
              generator_options={"hidden": [16], "output": "linear"}, discriminator_options={"hidden": [16]},
              optimizer="adam", lr_g=1e-3, lr_d=1e-3, lr_schedule="constant", final_momentum=None)
    dcgan = DCGAN(data_shape=(1, 28, 28), latent_dim=8,
                  generator_options={"features": 8}, discriminator_options={"features": 8})
    mnist = write_tiny_mnist(root / "mnist", n_train=64, n_test=16)
    return {
        "toy": train_and_save(toy, Toy2DDataModule(num_train=64, num_val=16, batch_size=16), root / "toy.ckpt"),
        "dcgan": train_and_save(dcgan, MNISTDataModule(root=str(mnist), val_size=0, batch_size=16), root / "dcgan.ckpt"),
    }


def generate(*args) -> int:
    """Runs `python -m lit_gan generate ...` in process; returns its exit code."""
    with pytest.raises(SystemExit) as exc:
        lit_gan_main(["generate", "--no-progress", *map(str, args)])
    return exc.value.code


def load(path: Path) -> np.ndarray:
    with np.load(path) as f:
        assert list(f.keys()) == ["samples"]
        return f["samples"]


# ---- outputs ----------------------------------------------------------------------

def test_images_npz_is_uint8_nhwc_with_exactly_num(ckpts, tmp_path, capsys):
    num = NOISE_CHUNK + 6  # neither a multiple of the noise chunk nor of --batch-size
    out = tmp_path / "samples.npz"
    assert generate("--ckpt", ckpts["dcgan"], "--num", num, "--out", out, "--batch-size", 100) == 0
    x = load(out)
    assert x.dtype == np.uint8 and x.shape == (num, 28, 28, 1)
    assert len(np.unique(x)) > 1  # not one constant value
    assert f"wrote {num} samples" in capsys.readouterr().err


def test_points_npz_is_float32_n_by_2(ckpts, tmp_path):
    out = tmp_path / "points.npz"
    assert generate("--ckpt", ckpts["toy"], "--num", 1030, "--out", out, "--batch-size", 64) == 0
    x = load(out)
    assert x.dtype == np.float32 and x.shape == (1030, 2)
    assert np.isfinite(x).all() and x.std(0).min() > 0  # not a constant


@pytest.mark.parametrize("which, num, small_batch", [("toy", NOISE_CHUNK + 6, 37), ("dcgan", 50, 7)])
def test_same_seed_same_samples_whatever_the_batch_size(ckpts, tmp_path, which, num, small_batch):
    a, b, c = tmp_path / "a.npz", tmp_path / "b.npz", tmp_path / "c.npz"
    assert generate("--ckpt", ckpts[which], "--num", num, "--out", a, "--seed", 7, "--batch-size", num) == 0
    assert generate("--ckpt", ckpts[which], "--num", num, "--out", b, "--seed", 7, "--batch-size", small_batch) == 0
    assert generate("--ckpt", ckpts[which], "--num", num, "--out", c, "--seed", 8, "--batch-size", num) == 0
    xa, xb, xc = load(a), load(b), load(c)
    assert xa.shape[0] == num
    np.testing.assert_array_equal(xa, xb)
    assert not np.array_equal(xa, xc)


def test_png_folder_has_num_files_matching_the_npz(ckpts, tmp_path):
    folder, npz = tmp_path / "pngs", tmp_path / "same.npz"
    assert generate("--ckpt", ckpts["dcgan"], "--num", 5, "--out", folder, "--seed", 3, "--batch-size", 2) == 0
    assert generate("--ckpt", ckpts["dcgan"], "--num", 5, "--out", npz, "--seed", 3) == 0
    assert sorted(p.name for p in folder.iterdir()) == [f"{i:06d}.png" for i in range(5)]
    expected = load(npz)
    for i in range(5):
        with Image.open(folder / f"{i:06d}.png") as im:
            assert im.size == (28, 28) and im.mode == "L"
            np.testing.assert_array_equal(np.asarray(im), expected[i, :, :, 0])


# ---- refusing to overwrite --------------------------------------------------------

def test_existing_npz_is_kept_unless_overwrite(ckpts, tmp_path, capsys):
    out = tmp_path / "s.npz"
    assert generate("--ckpt", ckpts["toy"], "--num", 4, "--out", out, "--seed", 1) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert generate("--ckpt", ckpts["toy"], "--num", 4, "--out", out, "--seed", 2) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "--overwrite" in err and "Traceback" not in err
    assert out.read_bytes() == before
    assert generate("--ckpt", ckpts["toy"], "--num", 4, "--out", out, "--seed", 2, "--overwrite") == 0
    assert out.read_bytes() != before and load(out).shape == (4, 2)


def test_non_empty_folder_is_kept_unless_overwrite(ckpts, tmp_path, capsys):
    folder = tmp_path / "pngs"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    assert generate("--ckpt", ckpts["dcgan"], "--num", 2, "--out", folder) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]
    assert generate("--ckpt", ckpts["dcgan"], "--num", 2, "--out", folder, "--overwrite") == 0
    assert sorted(p.name for p in folder.iterdir()) == ["000000.png", "000001.png", "mine.txt"]


def test_empty_existing_folder_is_fine(ckpts, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert generate("--ckpt", ckpts["dcgan"], "--num", 1, "--out", folder) == 0
    assert [p.name for p in folder.iterdir()] == ["000000.png"]


# ---- bad input: exit code 2, a message, no traceback ------------------------------

def assert_error(capsys, code: int, *needles: str) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert any(line.startswith("error: ") for line in err.splitlines()) and "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def test_missing_checkpoint(tmp_path, capsys):
    missing = tmp_path / "nope.ckpt"
    code = generate("--ckpt", missing, "--num", 3, "--out", tmp_path / "o.npz")
    assert_error(capsys, code, f"--ckpt {missing}: no such checkpoint file", "last.ckpt")
    assert not (tmp_path / "o.npz").exists()


@pytest.mark.parametrize("num", [0, -3])
def test_num_must_be_positive(ckpts, tmp_path, capsys, num):
    code = generate("--ckpt", ckpts["toy"], "--num", num, "--out", tmp_path / "o.npz")
    assert_error(capsys, code, "--num must be positive", str(num))


def test_batch_size_must_be_positive(ckpts, tmp_path, capsys):
    code = generate("--ckpt", ckpts["toy"], "--num", 3, "--out", tmp_path / "o.npz", "--batch-size", 0)
    assert_error(capsys, code, "--batch-size must be positive")


def test_foreign_torch_file(tmp_path, capsys):
    path = tmp_path / "foreign.ckpt"
    torch.save({"a": 1}, path)
    code = generate("--ckpt", path, "--num", 3, "--out", tmp_path / "o.npz")
    assert_error(capsys, code, str(path), "not written by lit_gan", "lit_gan fit")


@pytest.mark.parametrize("content", ["truncated", "text"])
def test_unreadable_file(ckpts, tmp_path, capsys, content):
    path = tmp_path / "broken.ckpt"
    data = ckpts["toy"].read_bytes()
    path.write_bytes(data[: len(data) // 2] if content == "truncated" else b"hello, I am not a checkpoint\n")
    code = generate("--ckpt", path, "--num", 3, "--out", tmp_path / "o.npz")
    assert_error(capsys, code, f"{path} is not a readable checkpoint", "pass another one with --ckpt PATH")
    assert not (tmp_path / "o.npz").exists()


def test_unknown_model_class(ckpts, tmp_path, capsys):
    state = torch.load(ckpts["toy"], weights_only=False)
    state["lit_gan"]["model_class"] = "lit_gan.models.NoSuchGAN"
    path = tmp_path / "renamed.ckpt"
    torch.save(state, path)
    code = generate("--ckpt", path, "--num", 3, "--out", tmp_path / "o.npz")
    assert_error(capsys, code, "lit_gan.models.NoSuchGAN")


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_out_naming_an_existing_non_npz_file(ckpts, tmp_path, capsys, overwrite):
    out = tmp_path / "picture.png"
    out.write_bytes(b"not ours")
    code = generate("--ckpt", ckpts["dcgan"], "--num", 2, "--out", out, *overwrite)
    assert_error(capsys, code, str(out), "is a file", ".npz")
    assert out.read_bytes() == b"not ours"


def test_points_cannot_become_pngs(ckpts, tmp_path, capsys):
    code = generate("--ckpt", ckpts["toy"], "--num", 3, "--out", tmp_path / "pngs")
    assert_error(capsys, code, "2-D samples", ".npz")
    assert not list((tmp_path / "pngs").glob("*.png"))


@pytest.mark.filterwarnings("ignore:The state dict in")
def test_model_without_sampling_protocol(tmp_path, capsys):
    # A checkpoint whose model class (AdversarialModel itself) has no noise()/generate().
    path = tmp_path / "base.ckpt"
    torch.save({"state_dict": {}, "pytorch-lightning_version": L.__version__, "hyper_parameters": {},
                "lit_gan": {"model_class": "lit_gan.models.adversarial.AdversarialModel"}}, path)
    code = generate("--ckpt", path, "--num", 3, "--out", tmp_path / "o.npz")
    assert_error(capsys, code, "AdversarialModel", "cannot sample from noise")
    assert not (tmp_path / "o.npz").exists()


def test_iter_samples_rejects_objects_without_noise_or_generate():
    class OnlyGenerate:
        def generate(self, z):
            return z

    for model in (object(), OnlyGenerate()):
        with pytest.raises(CommandError, match="cannot sample from noise"):
            next(iter_samples(model, 3, seed=0, batch_size=2, progress=False))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_device_without_cuda(ckpts, tmp_path, capsys):
    code = generate("--ckpt", ckpts["toy"], "--num", 3, "--out", tmp_path / "o.npz", "--device", "cuda")
    assert_error(capsys, code, "CUDA is not available", "--device cpu")


# ---- stale files, float copies, batch statistics ----------------------------------

def test_overwrite_leaves_no_png_of_an_earlier_longer_run(ckpts, tmp_path):
    folder = tmp_path / "pngs"
    assert generate("--ckpt", ckpts["dcgan"], "--num", 5, "--out", folder) == 0
    foreign = ["notes.txt", "cover.png", "0007.png"]  # not NNNNNN.png: not ours, kept
    for name in foreign:
        (folder / name).write_text("keep me")
    assert generate("--ckpt", ckpts["dcgan"], "--num", 2, "--out", folder, "--overwrite") == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(["000000.png", "000001.png", *foreign])


def test_keep_float_stores_the_samples_before_rounding(ckpts, tmp_path):
    out = tmp_path / "f.npz"
    assert generate("--ckpt", ckpts["dcgan"], "--num", 9, "--out", out, "--keep-float", "--batch-size", 4) == 0
    with np.load(out) as f:
        assert sorted(f.files) == ["samples", "samples_float"]
        samples, floats = f["samples"], f["samples_float"]
    assert floats.dtype == np.float32 and floats.shape == samples.shape == (9, 28, 28, 1)
    np.testing.assert_array_equal(np.round((np.clip(floats, -1, 1) + 1) * 127.5).astype(np.uint8), samples)
    assert not np.array_equal(floats, samples / 127.5 - 1)  # really the unrounded values


def test_batch_stats_samples_do_not_depend_on_the_batch_size(tmp_path):
    L.seed_everything(0, verbose=False)
    model = DCGAN(data_shape=(1, 28, 28), latent_dim=8, generator_options={"features": 8},
                  discriminator_options={"features": 8}, sample_mode="batch_stats", sample_batch_size=4)
    mnist = write_tiny_mnist(tmp_path / "mnist", n_train=32, n_test=8)
    ckpt = train_and_save(model, MNISTDataModule(root=str(mnist), val_size=0, batch_size=8), tmp_path / "bs.ckpt")
    outs = []
    for batch_size in (10, 3):
        out = tmp_path / f"b{batch_size}.npz"
        assert generate("--ckpt", ckpt, "--num", 10, "--out", out, "--batch-size", batch_size, "--keep-float") == 0
        with np.load(out) as f:
            outs.append(f["samples_float"])
    np.testing.assert_array_equal(outs[0], outs[1])
    loaded = DCGAN.load_from_checkpoint(ckpt, map_location="cpu")
    z = loaded.noise(10, torch.Generator().manual_seed(0))
    np.testing.assert_allclose(outs[0][:4], loaded.generate(z[:4]).permute(0, 2, 3, 1).numpy(), rtol=0, atol=1e-6)
