"""MNISTDataModule on tiny IDX fixtures (both layouts, split, resize, download) and real Fashion-MNIST."""

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import SequentialSampler

from lit_gan.data import mnist as mnist_module
from lit_gan.data.idx import write_idx
from lit_gan.data.mnist import FILES, MNISTDataModule
from lit_gan.data.resumable import ResumableSampler
from lit_gan.download import DownloadError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def make_idx_files(folder: Path, n_train: int = 120, n_test: int = 30, gz: bool = True) -> Path:
    """Image i has every pixel = i % 256 (so order is checkable); label i = i % 10."""
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        ids = np.arange(n)
        write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}",
                  np.broadcast_to((ids % 256)[:, None, None], (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", ids % 10)
    return folder


def test_torchvision_layout_raw_files(tmp_path):
    make_idx_files(tmp_path / "MNIST" / "raw", gz=False)
    dm = MNISTDataModule(root=str(tmp_path), val_size=20)
    dm.setup("fit")
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (100, 20, 30)
    assert dm.class_names == tuple("0123456789") and dm.num_classes == 10


def test_flat_layout_gz_files_fashion(tmp_path):
    make_idx_files(tmp_path, gz=True)
    dm = MNISTDataModule(root=str(tmp_path), variant="fashion", val_size=20)
    dm.setup("test")
    assert len(dm.test_set) == 30
    assert dm.class_names[0] == "T-shirt/top" and dm.class_names[9] == "Ankle boot"
    assert dm.hparams["variant"] == "fashion"


def test_missing_data_names_paths_and_fixes(tmp_path):
    dm = MNISTDataModule(root=str(tmp_path), variant="fashion")
    with pytest.raises(FileNotFoundError) as e:
        dm.setup("fit")
    msg = str(e.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in msg and f"  {tmp_path}\n" in msg
    assert "download: true" in msg and "--data.init_args.download=true" in msg
    assert "apt-get install dataset-fashion-mnist" in msg and str(FASHION_DIR) in msg
    assert all(name in msg for name in FILES)


def test_missing_one_file_is_missing_data(tmp_path):
    make_idx_files(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="mnist data not found"):
        MNISTDataModule(root=str(tmp_path)).setup("fit")


@pytest.mark.parametrize("size", [28, 32, 64])
def test_data_shape_known_before_setup(size):
    assert MNISTDataModule(root="nowhere", image_size=size).data_shape == (1, size, size)


def test_items_scaled_to_minus_one_one_and_labels(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte", np.stack([np.zeros((28, 28)), np.full((28, 28), 255),
                                                             np.full((28, 28), 51)]))
    write_idx(folder / "train-labels-idx1-ubyte", np.array([7, 2, 5]))
    write_idx(folder / "t10k-images-idx3-ubyte", np.zeros((1, 28, 28)))
    write_idx(folder / "t10k-labels-idx1-ubyte", np.array([0]))
    dm = MNISTDataModule(root=str(folder), val_size=0)
    dm.setup("fit")
    images = [dm.train_set[i][0] for i in range(3)]
    assert images[0].shape == (1, 28, 28) and images[0].dtype == torch.float32
    assert torch.all(images[0] == -1.0) and torch.all(images[1] == 1.0)
    assert torch.allclose(images[2], torch.full((1, 28, 28), 51 / 127.5 - 1))
    label = dm.train_set[0][1]
    assert label.dtype == torch.int64 and label.item() == 7


@pytest.mark.parametrize("size", [32, 64])
def test_resize_once_at_setup(tmp_path, size):
    make_idx_files(tmp_path, n_train=40, n_test=10)
    dm = MNISTDataModule(root=str(tmp_path), image_size=size, val_size=8, batch_size=16)
    dm.setup("fit")
    stored = dm.train_set.images
    assert stored.shape == (32, 1, size, size) and stored.dtype == torch.uint8
    # constant images stay exactly constant through bilinear + round
    assert torch.all(stored[5] == 5) and torch.all(dm.val_set.images[0] == 32)
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (16, 1, size, size) and x.min() >= -1 and x.max() <= 1
    assert dm.test_set.images.shape[-1] == size


def test_split_is_tail_of_train_file_and_loaders(tmp_path):
    make_idx_files(tmp_path, n_train=120, n_test=30)
    dm = MNISTDataModule(root=str(tmp_path), val_size=20, batch_size=32)
    dm.setup("fit")
    # val = the LAST 20 training images (indices 100..119), in order
    assert dm.val_set.images[:, 0, 0, 0].tolist() == list(range(100, 120))
    assert dm.train_set.images[:, 0, 0, 0].tolist() == list(range(100))
    train, val, test = dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()
    assert isinstance(train.sampler, ResumableSampler) and train.sampler.shuffle and train.drop_last
    assert len(train) == 3  # 100 // 32, last partial batch dropped
    assert isinstance(val.sampler, SequentialSampler) and not val.drop_last and len(val) == 1
    assert len(test) == 1 and len(next(iter(test))[0]) == 30
    assert not train.persistent_workers


def test_val_size_zero_means_no_validation(tmp_path):
    make_idx_files(tmp_path)
    dm = MNISTDataModule(root=str(tmp_path), val_size=0)
    dm.setup("fit")
    assert len(dm.train_set) == 120 and dm.val_set is None
    assert dm.val_dataloader() == []


def test_val_size_too_large(tmp_path):
    make_idx_files(tmp_path, n_train=50)
    with pytest.raises(ValueError, match="val_size=50 leaves no training images"):
        MNISTDataModule(root=str(tmp_path), val_size=50).setup("fit")


def make_skewed_files(folder: Path) -> Path:
    """Train: class c has 10 * (c + 1) images (550), then a 20-image val tail; image i's
    first two pixels are i % 256 and i // 256, so a subset's members are checkable."""
    folder.mkdir(parents=True, exist_ok=True)
    train_labels = np.concatenate([np.repeat(np.arange(10), 10 * np.arange(1, 11)), np.arange(20) % 10])
    for prefix, labels in (("train", train_labels), ("t10k", np.arange(30) % 10)):
        ids = np.arange(len(labels))
        images = np.zeros((len(labels), 28, 28), dtype=np.uint8)
        images[:, 0, 0], images[:, 0, 1] = ids % 256, ids // 256
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)
    return folder


def subset_module(root: Path, **options) -> MNISTDataModule:
    dm = MNISTDataModule(root=str(root), val_size=20, **options)
    dm.setup("fit")
    return dm


def image_ids(images: torch.Tensor) -> list[int]:
    return (images[:, 0, 0, 0].long() + 256 * images[:, 0, 0, 1].long()).tolist()


@pytest.mark.parametrize("fraction, per_class", [(0.1, list(range(1, 11))), (0.01, [1] * 10),
                                                 (0.5, [5 * (c + 1) for c in range(10)])])
def test_train_fraction_keeps_round_fraction_of_every_class_at_least_one(tmp_path, fraction, per_class):
    dm = subset_module(make_skewed_files(tmp_path), train_fraction=fraction)
    assert dm.train_set.labels.bincount(minlength=10).tolist() == per_class
    ids = image_ids(dm.train_set.images)
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and max(ids) < 550  # from the train split only
    assert dm.train_set.labels.tolist() == np.repeat(np.arange(10), 10 * np.arange(1, 11))[ids].tolist()  # pairs kept


def test_same_subset_seed_same_images_whatever_the_global_rng_another_seed_others(tmp_path):
    root = make_skewed_files(tmp_path)
    torch.manual_seed(1)
    first = image_ids(subset_module(root, train_fraction=0.2, subset_seed=3).train_set.images)
    torch.manual_seed(2)
    again = image_ids(subset_module(root, train_fraction=0.2, subset_seed=3).train_set.images)
    other = image_ids(subset_module(root, train_fraction=0.2, subset_seed=4).train_set.images)
    assert first == again and len(first) == 110
    assert other != first and len(other) == 110


def test_train_fraction_leaves_val_and_test_whole_and_one_changes_nothing(tmp_path):
    root = make_skewed_files(tmp_path)
    default, whole, tenth = subset_module(root), subset_module(root, train_fraction=1.0, subset_seed=7), \
        subset_module(root, train_fraction=0.1)
    assert torch.equal(whole.train_set.images, default.train_set.images) and len(default.train_set) == 550
    assert torch.equal(whole.train_set.labels, default.train_set.labels)
    for dm in (whole, tenth):
        assert torch.equal(dm.val_set.images, default.val_set.images) and image_ids(dm.val_set.images) == list(range(550, 570))
        assert torch.equal(dm.test_set.images, default.test_set.images)
    assert len(tenth.train_set) == 55 and tenth.hparams["train_fraction"] == 0.1


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_train_fraction_outside_zero_one_is_refused_in_one_line(fraction):
    with pytest.raises(ValueError, match=r"train_fraction must be in \(0, 1\] .* got ") as e:
        MNISTDataModule(root="nowhere", train_fraction=fraction)
    assert "\n" not in str(e.value)


def test_persistent_workers_with_workers(tmp_path):
    make_idx_files(tmp_path)
    dm = MNISTDataModule(root=str(tmp_path), val_size=20, num_workers=1)
    dm.setup("fit")
    assert dm.train_dataloader().persistent_workers and dm.train_dataloader().num_workers == 1


def _fake_variant(monkeypatch, source: Path, mirrors: tuple[str, ...]) -> None:
    md5 = {f"{n}.gz": hashlib.md5((source / f"{n}.gz").read_bytes()).hexdigest() for n in FILES}
    fake = dataclasses.replace(mnist_module.VARIANTS["mnist"], mirrors=mirrors, md5=md5)
    monkeypatch.setitem(mnist_module.VARIANTS, "mnist", fake)


def test_download_into_torchvision_layout(tmp_path, monkeypatch):
    source = make_idx_files(tmp_path / "server")
    # first mirror has nothing; the second (file://, via urllib too) has the files
    _fake_variant(monkeypatch, source, ((tmp_path / "gone").as_uri() + "/", source.as_uri() + "/"))
    root = tmp_path / "data"
    dm = MNISTDataModule(root=str(root), download=True, val_size=20)
    dm.prepare_data()
    assert sorted(p.name for p in (root / "MNIST" / "raw").iterdir()) == sorted(f"{n}.gz" for n in FILES)
    dm.setup("fit")
    assert len(dm.train_set) == 100 and len(dm.test_set) == 30


def test_download_failure_says_where_to_put_files(tmp_path, monkeypatch):
    source = make_idx_files(tmp_path / "server")
    _fake_variant(monkeypatch, source, ((tmp_path / "gone").as_uri() + "/",))
    dm = MNISTDataModule(root=str(tmp_path / "data"), download=True)
    with pytest.raises(DownloadError) as e:
        dm.prepare_data()
    assert str(tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz") in str(e.value)


def test_no_download_when_files_present(tmp_path, monkeypatch):
    make_idx_files(tmp_path)
    _fake_variant(monkeypatch, tmp_path, ("http://127.0.0.1:9/never/",))
    MNISTDataModule(root=str(tmp_path), download=True).prepare_data()  # must not touch the network
    assert not (tmp_path / "MNIST").exists()


def test_also_look_in_is_searched_before_downloading(tmp_path, monkeypatch):
    shared = make_idx_files(tmp_path / "shared")
    _fake_variant(monkeypatch, shared, ("http://127.0.0.1:9/never/",))
    dm = MNISTDataModule(root=str(tmp_path / "data"), download=True, val_size=20, also_look_in=[str(shared)])
    assert dm.search_dirs()[-1] == shared
    dm.prepare_data()  # found in also_look_in: must not touch the network
    dm.setup("fit")
    assert not (tmp_path / "data").exists() and len(dm.train_set) == 100


@pytest.mark.skipif(not FASHION_DIR.is_dir(),
                    reason=f"{FASHION_DIR} absent (sudo apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist_from_debian_package():
    dm = MNISTDataModule(root=str(FASHION_DIR), variant="fashion")
    dm.setup("fit")
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (50_000, 10_000, 10_000)
    x, y = dm.train_set[0]
    assert x.shape == (1, 28, 28) and x.min().item() == -1.0 and x.max().item() == 1.0
    assert dm.class_names[y] == "Ankle boot"  # Fashion-MNIST's first training image
    counts = torch.cat([dm.train_set.labels, dm.val_set.labels]).bincount()
    assert counts.tolist() == [6000] * 10  # the official train split is balanced


@pytest.mark.skipif(not FASHION_DIR.is_dir(),
                    reason=f"{FASHION_DIR} absent (sudo apt-get install dataset-fashion-mnist)")
def test_one_percent_of_real_fashion_mnist_keeps_the_class_balance():
    dm = MNISTDataModule(root=str(FASHION_DIR), variant="fashion", train_fraction=0.01)
    dm.setup("fit")
    counts = dm.train_set.labels.bincount().tolist()
    assert counts == [50] * 10  # round(1% of 4950..5045) is 50 for every class of the 50k train split
