"""PairedImageDataModule on tiny pix2pix-format fixtures (one file = A | B side by side).

In every fixture B is A with its channels permuted (B = A[..., [2, 0, 1]]) over random noise, so any
crop, resize or flip applied to one half and not the other shows up as a pixel mismatch.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lit_gan.data import paired as paired_module
from lit_gan.data.image_folders import EpochSampler
from lit_gan.data.paired import Archive, PairedImageDataModule, PairedItem
from lit_gan.download import DownloadError, UnsafeArchiveError
from tests.data.archive_helpers import archive_of, dead_url

PERM = [2, 0, 1]  # B's channel c is A's channel PERM[c]


def write_pairs(folder: Path, n: int, size: int = 32, fmt: str = "png", seed: int = 0) -> list[np.ndarray]:
    """``n`` files ``<i>.<fmt>`` of shape (size, 2*size, 3): A | A[..., PERM]; returns the A halves.
    A is pixel noise for PNG, smooth noise (upsampled 4x4) for JPEG, which would blur pixel noise."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    halves = []
    for i in range(n):
        a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        if fmt == "jpg":
            a = np.array(Image.fromarray(a[:4, :4]).resize((size, size), Image.BILINEAR))
        a[0, 0], a[0, 1] = 0, 255  # both ends of the range occur
        Image.fromarray(np.concatenate([a, a[..., PERM]], axis=1)).save(folder / f"{i}.{fmt}", quality=95)
        halves.append(a)
    return halves


def make_dataset(root: Path, name: str = "tiny", counts=(6, 2, 3), fmt: str = "png") -> Path:
    for split, n in zip(("train", "val", "test"), counts):
        if n:
            write_pairs(root / name / split, n, fmt=fmt, seed=len(split))
    return root / name


def tiny_dm(root: Path, **kw) -> PairedImageDataModule:
    kw = {"dataset": "tiny", "load_size": 36, "crop_size": 32, "seed": 0, **kw}
    return PairedImageDataModule(root=str(root), **kw)


def unit(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).permute(2, 0, 1).float() / 127.5 - 1


def test_split_sizes_shapes_range_and_item_format(tmp_path):
    make_dataset(tmp_path)
    dm = tiny_dm(tmp_path, batch_size=2)
    assert dm.data_shape == (3, 32, 32)  # before setup
    dm.setup("fit")
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (6, 2, 3)
    item = dm.train_set[0]
    assert isinstance(item, PairedItem) and item.name == "0.png"
    for x in (item.target, item.input):
        assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, PairedItem) and batch.target.shape == (2, 3, 32, 32) and len(batch.name) == 2
    test = torch.stack([dm.test_set[i].target for i in range(3)] + [dm.test_set[i].input for i in range(3)])
    assert test.min() == -1 and test.max() == 1  # 0 -> -1, 255 -> 1, nothing outside


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_random_crop_and_flip_are_shared_by_both_halves(tmp_path, direction):
    make_dataset(tmp_path)
    dm = tiny_dm(tmp_path, direction=direction, load_size=48)
    dm.setup()
    views, flipped = set(), 0
    for index in EpochSampler(len(dm.train_set), seed=1):
        item = dm.train_set[index]
        a, b = (item.input, item.target) if direction == "AtoB" else (item.target, item.input)
        assert torch.equal(b, a[PERM])  # pixel-exact: same crop, same flip, same resize
        view = dm.train_set.jitter.draw(np.random.default_rng(index[1]))
        views.add(view[:2])
        flipped += view[2]
    assert len(views) > 1 and 0 < flipped < 6  # the jitter really varies


def test_eval_is_the_plain_halves_and_direction_swaps(tmp_path):
    folder = make_dataset(tmp_path, counts=(2, 0, 3))
    a_halves = write_pairs(folder / "test", 3, seed=len("test"))  # the same files again: know A
    ab = tiny_dm(tmp_path, direction="AtoB")
    ba = tiny_dm(tmp_path, direction="BtoA")
    ab.setup(), ba.setup()
    assert (ab.input_domain, ab.target_domain, ba.input_domain, ba.target_domain) == ("A", "B", "B", "A")
    for i, a in enumerate(a_halves):
        x, y = ab.test_set[i], ba.test_set[i]
        assert torch.equal(x.input, unit(a)) and torch.equal(x.target, unit(a[..., PERM]))  # A = left half
        assert torch.equal(y.input, x.target) and torch.equal(y.target, x.input)
        assert torch.equal(ab.test_set[i].input, x.input)  # evaluation is not random


def test_metrics_read_the_target_domain_first(tmp_path):
    from lit_gan.evaluation.real import real_images

    make_dataset(tmp_path)
    dm = tiny_dm(tmp_path, direction="BtoA")
    real = real_images(dm, "test")
    assert real.shape == (3, 3, 32, 32) and real.dtype == torch.uint8
    targets = torch.stack([dm.test_set[i].target for i in range(3)])
    assert torch.equal(real, ((targets + 1) * 127.5).round().to(torch.uint8))


def test_seed_reproduces_crops_flips_and_order_epochs_differ(tmp_path):
    make_dataset(tmp_path)

    def epoch(seed, set_epoch=None):
        dm = tiny_dm(tmp_path, seed=seed, batch_size=3)
        dm.setup()
        loader = dm.train_dataloader()
        if set_epoch is not None:
            loader.sampler.set_epoch(set_epoch)
        return [(b.name, b.target) for b in loader], loader

    first, loader = epoch(7)
    again, _ = epoch(7)
    assert [n for n, _ in first] == [n for n, _ in again]
    assert all(torch.equal(x, y) for (_, x), (_, y) in zip(first, again))
    other, _ = epoch(8)
    assert any(not torch.equal(x, y) for (_, x), (_, y) in zip(first, other))
    second = [(b.name, b.target) for b in loader]  # the next pass is the next epoch
    assert any(not torch.equal(x, y) for (_, x), (_, y) in zip(first, second))
    resumed, _ = epoch(7, set_epoch=1)  # what Lightning does on resume
    assert all(torch.equal(x, y) for (_, x), (_, y) in zip(second, resumed))


def test_seed_none_follows_torch_seed(tmp_path):
    make_dataset(tmp_path)
    names = []
    for _ in range(2):
        torch.manual_seed(5)
        dm = tiny_dm(tmp_path, seed=None)
        dm.setup()
        names.append([b.name[0] for b in dm.train_dataloader()])
    assert names[0] == names[1]


def test_jpeg_files_load_and_stay_aligned_up_to_jpeg_loss(tmp_path):
    make_dataset(tmp_path, counts=(3, 0, 0), fmt="jpg")
    dm = tiny_dm(tmp_path)
    dm.setup()
    item = dm.train_set[(0, 123)]
    assert item.name == "0.jpg"
    a_from_b = item.input[[1, 2, 0]]  # BtoA: target A, input B = A[PERM]
    error = (item.target - a_from_b).abs().mean()
    assert error < 0.03 and error * 4 < (item.target - a_from_b.flip(-1)).abs().mean()


def test_missing_val_and_test_folders(tmp_path):
    make_dataset(tmp_path, counts=(4, 0, 0))
    dm = tiny_dm(tmp_path)
    dm.setup()
    assert dm.val_set is None and dm.val_dataloader() == []
    with pytest.raises(FileNotFoundError, match="No test images"):
        dm.test_dataloader()


def test_missing_dataset_says_where_and_how(tmp_path):
    dm = PairedImageDataModule(root=str(tmp_path))
    with pytest.raises(FileNotFoundError) as e:
        dm.setup()
    msg = str(e.value)
    assert str(tmp_path / "facades" / "train") in msg and "download: true" in msg
    assert "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz" in msg
    assert f"tar -xzf facades.tar.gz -C {tmp_path}" in msg and "A | B side by side" in msg


def test_unknown_dataset_cannot_download(tmp_path):
    with pytest.raises(ValueError, match="No download source is known for 'maps'.*facades"):
        PairedImageDataModule(root=str(tmp_path), dataset="maps", download=True).prepare_data()


def test_bad_arguments():
    with pytest.raises(ValueError, match="direction"):
        PairedImageDataModule(direction="AB")
    with pytest.raises(ValueError, match="crop_size <= load_size"):
        PairedImageDataModule(load_size=200, crop_size=256)
    with pytest.raises(ValueError, match="folder name"):
        PairedImageDataModule(dataset="../facades")


def test_facades_count_mismatch_warns(tmp_path):
    make_dataset(tmp_path, name="facades", counts=(3, 1, 1))
    with pytest.warns(UserWarning, match="train/ holds 3 images, expected 400"):
        PairedImageDataModule(root=str(tmp_path), load_size=36, crop_size=32).setup()


# ---------------------------------------------------------------- download


@pytest.fixture
def served(tmp_path, monkeypatch):
    """facades.tar.gz of a tiny facades (3/1/2) behind a file:// URL, registered as facades' source."""
    src = make_dataset(tmp_path / "src", name="facades", counts=(3, 1, 2))
    arc = archive_of(src, tmp_path / "src" / "facades.tar.gz")

    def register(path: Path = arc, size: int | None = None, counts=None):
        entry = Archive(urls=(dead_url("facades.tar.gz"), path.as_uri()), size=size or path.stat().st_size,
                        sha256=None, counts=counts or {"train": 3, "val": 1, "test": 2})
        monkeypatch.setitem(paired_module.ARCHIVES, "facades", entry)
        return entry

    register()
    return register


def test_download_verifies_extracts_and_renames_into_place(tmp_path, served):
    root = tmp_path / "data"
    dm = PairedImageDataModule(root=str(root), download=True, load_size=36, crop_size=32)
    dm.prepare_data()  # the first mirror is dead, the second works
    assert sorted(p.name for p in root.iterdir()) == ["facades", "facades.tar.gz"]  # no staging left
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # counts match the registered ones: no warning
        dm.setup()
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (3, 1, 2)
    served(path=tmp_path / "nothing-here.tar.gz", size=1)  # a second run must not touch the network
    PairedImageDataModule(root=str(root), download=True).prepare_data()


def test_dead_server_names_url_and_manual_layout(tmp_path, monkeypatch):
    url = dead_url("facades.tar.gz")
    monkeypatch.setitem(paired_module.ARCHIVES, "facades", Archive((url,), 30_168_306, None, {"train": 400}))
    root = tmp_path / "data"
    with pytest.raises(DownloadError) as e:
        PairedImageDataModule(root=str(root), download=True).prepare_data()
    msg = str(e.value)
    assert url in msg and "Connection refused" in msg and str(root / "facades.tar.gz") in msg
    assert f"{root / 'facades'}/train/*.jpg" in msg and "A | B side by side" in msg
    assert not (root / "facades").exists()


def test_wrong_size_is_refused(tmp_path, served):
    served(size=123)
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match="corrupt: size"):
        PairedImageDataModule(root=str(root), download=True).prepare_data()
    assert not (root / "facades").exists() and not (root / "facades.tar.gz").exists()


def test_wrong_image_counts_leave_nothing_that_looks_complete(tmp_path, served):
    served(counts={"train": 400, "val": 1, "test": 2})
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match="train/ holds 3 images, expected 400"):
        PairedImageDataModule(root=str(root), download=True).prepare_data()
    assert sorted(p.name for p in root.iterdir()) == ["facades.tar.gz"]


def test_leftover_staging_is_replaced(tmp_path, served):
    root = tmp_path / "data"
    (root / ".facades.extracting" / "facades" / "train").mkdir(parents=True)  # an interrupted run
    PairedImageDataModule(root=str(root), download=True).prepare_data()
    assert len(list((root / "facades" / "train").iterdir())) == 3 and not (root / ".facades.extracting").exists()


def test_incomplete_existing_folder_is_left_untouched(tmp_path, served):
    root = tmp_path / "data"
    (root / "facades" / "val").mkdir(parents=True)
    (root / "facades" / "val" / "mine.jpg").write_bytes(b"x")
    with pytest.raises(FileExistsError, match="train/ is missing or empty.*left untouched"):
        PairedImageDataModule(root=str(root), download=True).prepare_data()
    assert (root / "facades" / "val" / "mine.jpg").read_bytes() == b"x"


def test_archive_escaping_its_folder_is_refused(tmp_path, served):
    src = make_dataset(tmp_path / "evil", name="facades", counts=(3, 1, 2))
    served(path=archive_of(src, tmp_path / "evil" / "facades.tar.gz", {"../../escaped.txt": b"gotcha"}))
    root = tmp_path / "a" / "data"
    with pytest.raises(UnsafeArchiveError, match="outside the target"):
        PairedImageDataModule(root=str(root), download=True).prepare_data()
    assert not (root / "facades").exists() and not list(tmp_path.rglob("escaped.txt"))
    assert sorted(p.name for p in root.iterdir()) == ["facades.tar.gz"]
