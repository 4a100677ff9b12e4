"""CelebADataModule on tiny fixtures in the exact on-disk layouts (torchvision's, Kaggle's, plain
folders): split, crop, value range, the prepared memmap path, and download failures."""

import hashlib
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets
import torchvision.datasets.utils as tv_utils
from PIL import Image

from lit_gan.data import CelebADataModule
from lit_gan.data import celeba as celeba_module
from lit_gan.data.celeba import PreparedDataset, locate
from lit_gan.download import DownloadError
from tests.data.celeba_fixtures import official_attribute_text

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def code(i: int) -> int:
    """A known split that index ranges would not give: every 10th image test, every 5th val."""
    return 2 if i % 10 == 0 else 1 if i % 5 == 0 else 0


def noise_image(i: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(i).integers(0, 256, (218, 178, 3), dtype=np.uint8))


def target_image(inner: int = 108, ring: int = 1) -> Image.Image:
    """178x218 blue, a green ring of width `ring` around a centred red inner x inner square."""
    a = np.zeros((218, 178, 3), dtype=np.uint8)
    a[:] = BLUE
    top, left = (218 - inner) // 2, (178 - inner) // 2  # 55, 35 for 108
    a[top - ring : top + inner + ring, left - ring : left + inner + ring] = GREEN
    a[top : top + inner, left : left + inner] = RED
    return Image.fromarray(a)


def write_torchvision_layout(root: Path, n: int = 30) -> Path:
    folder = root / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    for i in range(1, n + 1):
        img = target_image() if i == 1 else noise_image(i)
        img.save(folder / f"{i:06d}.jpg", quality=95, subsampling=0)
    (root / "celeba" / "list_eval_partition.txt").write_text("".join(f"{i:06d}.jpg {code(i)}\n" for i in range(1, n + 1)))
    return root


@pytest.fixture
def tv_root(tmp_path) -> Path:
    return write_torchvision_layout(tmp_path / "data")


def names(ds) -> list[str]:
    return [str(n) for n in ds.names]


def test_torchvision_layout_uses_partition_file(tv_root):
    dm = CelebADataModule(root=str(tv_root))
    dm.setup("fit")
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (24, 3, 3)
    assert names(dm.val_set) == ["000005.jpg", "000015.jpg", "000025.jpg"]
    assert names(dm.test_set) == ["000010.jpg", "000020.jpg", "000030.jpg"]
    assert dm.split_rule.startswith("partition file") and "list_eval_partition.txt" in dm.split_rule


@pytest.mark.parametrize("size", [32, 64])
def test_data_shape_known_before_setup(size):
    assert CelebADataModule(root="nowhere", image_size=size).data_shape == (3, size, size)


def test_items_shape_range_and_label(tv_root):
    dm = CelebADataModule(root=str(tv_root), batch_size=8)
    dm.setup()
    x, y = dm.train_set[3]
    assert x.shape == (3, 64, 64) and x.dtype == torch.float32 and y == 0
    assert x.min() >= -1 and x.max() <= 1 and x.min() < -0.5 and x.max() > 0.5  # noise fills the range
    xb, yb = next(iter(dm.train_dataloader()))
    assert xb.shape == (8, 3, 64, 64) and yb.tolist() == [0] * 8
    assert len(dm.train_dataloader()) == 3 and dm.train_dataloader().drop_last
    assert len(dm.val_dataloader()) == 1 and len(dm.test_dataloader()) == 1


def test_crop_is_centred_exactly(tmp_path):
    """PNG (lossless): crop=108 sees only red; crop=110 reaches the green ring on all four sides."""
    target_image().save(tmp_path / "face.png")
    tight = CelebADataModule(root=str(tmp_path), crop=108)
    tight.setup()
    only = tight.train_set[0][0]
    assert torch.equal(only, torch.tensor([1.0, -1.0, -1.0]).view(3, 1, 1).expand(3, 64, 64))
    wide = CelebADataModule(root=str(tmp_path), crop=110)
    wide.setup()
    x = wide.train_set[0][0]
    green = x[1]
    for edge in (green[0], green[-1], green[:, 0], green[:, -1]):
        assert (edge > -0.9).all()  # the ring is blended into every border pixel
    assert (green[2:-2, 2:-2] == -1).all() and (x[2] == -1).all()  # interior red; blue never reached


def test_crop_on_jpeg_layout_and_full_width(tv_root):
    dm = CelebADataModule(root=str(tv_root), crop=108)
    dm.setup()
    x = dm.train_set[0][0]  # 000001.jpg, the target image
    assert (x[0] > 0.8).all() and (x[1] < -0.6).all() and (x[2] < -0.6).all()
    full = CelebADataModule(root=str(tv_root), crop=None)
    full.setup()
    y = full.train_set[0][0]
    assert (y[2, :, :5] > 0.8).all() and (y[2, :, -5:] > 0.8).all()  # blue margins at the sides
    assert (y[0, 28:36, 28:36] > 0.8).all()


def test_crop_larger_than_image(tmp_path):
    Image.new("RGB", (64, 64)).save(tmp_path / "small.png")
    dm = CelebADataModule(root=str(tmp_path), crop=108)
    dm.setup()
    with pytest.raises(ValueError, match=r"is 64x64, smaller than crop=108.*at most 64"):
        dm.train_set[0]


def test_kaggle_layout_with_csv_partition(tmp_path):
    folder = tmp_path / "img_align_celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    for i in range(1, 11):
        noise_image(i).save(folder / f"{i:06d}.jpg")
    (tmp_path / "list_eval_partition.csv").write_text(
        "image_id,partition\n" + "".join(f"{i:06d}.jpg,{code(i)}\n" for i in range(1, 11)))
    dm = CelebADataModule(root=str(tmp_path))
    dm.setup()
    assert names(dm.val_set) == ["000005.jpg"] and names(dm.test_set) == ["000010.jpg"]
    assert dm.train_set[0][0].shape == (3, 64, 64)


def test_plain_folder_official_names_split_by_index(tmp_path):
    ids = [1, 162769, 162770, 162771, 182637, 182638, 202599]
    for i in ids:
        noise_image(i).save(tmp_path / f"{i:06d}.jpg")
    dm = CelebADataModule(root=str(tmp_path))
    with pytest.warns(UserWarning, match="holds 7 of the 202,599 CelebA images"):
        dm.setup()
    assert names(dm.train_set) == ["000001.jpg", "162769.jpg", "162770.jpg"]
    assert names(dm.val_set) == ["162771.jpg", "182637.jpg"]
    assert names(dm.test_set) == ["182638.jpg", "202599.jpg"]
    assert dm.split_rule == "official index ranges"


def test_plain_folder_other_names_sorted_proportions(tmp_path):
    for i in range(30):
        noise_image(i).save(tmp_path / f"face_{i:02d}.{'png' if i % 2 else 'jpg'}")
    (tmp_path / "._face_00.jpg").write_bytes(b"macOS metadata")  # hidden: ignored
    (tmp_path / "notes.txt").write_text("not an image")
    dm = CelebADataModule(root=str(tmp_path))
    dm.setup()
    # round(30 * 162770 / 202599) = 24, round(30 * 19867 / 202599) = 3
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (24, 3, 3)
    assert names(dm.val_set) == ["face_24.jpg", "face_25.png", "face_26.jpg"]
    assert dm.split_rule == "sorted names in the official proportions"


def test_missing_dataset_lists_paths_and_fixes(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        CelebADataModule(root=str(tmp_path)).setup()
    msg = str(e.value)
    for path in (tmp_path / "celeba" / "img_align_celeba", tmp_path / "img_align_celeba" / "img_align_celeba",
                 tmp_path / "img_align_celeba"):
        assert f"  {path}   " in msg
    assert f"  {tmp_path}   " in msg and "list_eval_partition.txt" in msg
    assert "--data.init_args.download=true" in msg and "jessicali9530/celeba-dataset" in msg


def test_incomplete_folder_is_an_error_not_a_smaller_dataset(tv_root):
    for i in range(26, 31):
        (tv_root / "celeba" / "img_align_celeba" / f"{i:06d}.jpg").unlink()
    with pytest.raises(FileNotFoundError, match=r"5 of the 30 images listed .* incomplete"):
        CelebADataModule(root=str(tv_root)).setup()


def test_damaged_jpeg_names_the_file(tv_root):
    bad = tv_root / "celeba" / "img_align_celeba" / "000002.jpg"
    bad.write_bytes(bad.read_bytes()[:300])
    dm = CelebADataModule(root=str(tv_root))
    dm.setup()
    with pytest.raises(OSError, match=r"000002\.jpg.*damaged"):
        dm.train_set[1]


# ---------------------------------------------------------------- prepared (memmap) path


def test_prepared_equals_jpeg_path_with_workers(tv_root, tmp_path):
    jpeg = CelebADataModule(root=str(tv_root), batch_size=5, num_workers=2)
    prep = CelebADataModule(root=str(tv_root), batch_size=5, num_workers=2, prepared=True,
                            prepared_dir=str(tmp_path / "prep"), prepare_workers=2)
    jpeg.setup()
    prep.setup()
    for split in ("train_set", "val_set", "test_set"):
        a, b = getattr(jpeg, split), getattr(prep, split)
        assert isinstance(b, PreparedDataset) and len(a) == len(b)
        for i in range(len(a)):
            assert torch.equal(a[i][0], b[i][0]) and a[i][1] == b[i][1] == 0
    # through worker processes (each maps the file itself)
    for xa, xb in zip(jpeg.val_dataloader(), prep.val_dataloader()):
        assert torch.equal(xa[0], xb[0])
    batches = list(prep.train_dataloader())
    assert len(batches) == 4 and all(x.shape == (5, 3, 64, 64) for x, _ in batches)


def test_memmap_is_opened_lazily_and_not_pickled(tv_root, tmp_path):
    dm = CelebADataModule(root=str(tv_root), prepared=True, prepared_dir=str(tmp_path / "p"), prepare_workers=0)
    dm.setup()
    ds = dm.train_set
    assert ds._array is None
    ds[0]
    assert isinstance(ds._array, np.memmap)
    blob = pickle.dumps(ds)
    assert len(blob) < 1000
    clone = pickle.loads(blob)
    assert clone._array is None and torch.equal(clone[5][0], ds[5][0])


def prepared_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_prepared_file_keyed_by_crop_and_size(tv_root, tmp_path):
    folder = tmp_path / "p"
    CelebADataModule(root=str(tv_root), prepared=True, prepared_dir=str(folder), prepare_workers=0).setup()
    first = prepared_files(folder)
    assert len(first) == 3 and all(n.endswith(".npy") and "_crop108_64px_" in n for n in first)
    assert sum(n.startswith("celeba_train_") for n in first) == 1
    dm = CelebADataModule(root=str(tv_root), crop=140, prepared=True, prepared_dir=str(folder), prepare_workers=0)
    dm.setup()
    second = prepared_files(folder)
    assert len(second) == 6 and set(first) < set(second)
    assert sum("_crop140_64px_" in n for n in second) == 3
    arr = np.load(dm.train_set.path, mmap_mode="r")
    assert arr.shape == (24, 3, 64, 64) and arr.dtype == np.uint8
    CelebADataModule(root=str(tv_root), image_size=32, prepared=True, prepared_dir=str(folder),
                     prepare_workers=0).setup()
    assert len(prepared_files(folder)) == 9  # no temporary files left behind


def test_prepared_file_reused_on_second_setup(tv_root, monkeypatch):
    dm = CelebADataModule(root=str(tv_root), prepared=True, prepare_workers=0)
    dm.prepare_data()  # rank 0 makes the arrays (default folder: <root>/prepared)
    files = sorted((tv_root / "prepared").iterdir())
    stamps = [p.stat().st_mtime_ns for p in files]

    def must_not_run(*args, **kwargs):
        raise AssertionError("prepared again")

    monkeypatch.setattr(celeba_module, "prepare", must_not_run)
    dm.setup()
    again = CelebADataModule(root=str(tv_root), prepared=True)
    again.setup()
    assert [p.stat().st_mtime_ns for p in files] == stamps
    assert torch.equal(dm.train_set[7][0], again.train_set[7][0])


def test_prepared_dir_not_writable(tv_root, tmp_path, monkeypatch):
    def denied(ds, path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(celeba_module, "prepare", denied)  # (chmod tricks do not stop root)
    with pytest.raises(PermissionError, match="Set `prepared_dir` to a writable folder"):
        CelebADataModule(root=str(tv_root), prepared=True, prepared_dir=str(tmp_path / "p")).setup()


def test_changed_image_list_gets_new_prepared_file(tv_root, tmp_path):
    folder = tmp_path / "p"
    CelebADataModule(root=str(tv_root), prepared=True, prepared_dir=str(folder), prepare_workers=0).setup()
    part = tv_root / "celeba" / "list_eval_partition.txt"
    part.write_text("".join(part.read_text().splitlines(keepends=True)[:-2]))  # drop 000029, 000030
    dm = CelebADataModule(root=str(tv_root), prepared=True, prepared_dir=str(folder), prepare_workers=0)
    dm.setup()
    assert len(prepared_files(folder)) == 5  # train (lost 000029) and test (lost 000030) are new; val reused
    assert (len(dm.train_set), len(dm.test_set)) == (23, 2)


# ---------------------------------------------------------------- download


@pytest.fixture
def fake_drive(tmp_path, monkeypatch):
    """A zip of 12 images + a partition file served by a fake Google Drive download;
    torchvision's file list points at them (same names, their md5s)."""
    server = tmp_path / "server"
    write_torchvision_layout(server / "src", n=12)
    with zipfile.ZipFile(server / "img_align_celeba.zip", "w") as zf:
        for p in sorted((server / "src" / "celeba" / "img_align_celeba").iterdir()):
            zf.write(p, f"img_align_celeba/{p.name}")
    shutil.copy(server / "src" / "celeba" / "list_eval_partition.txt", server / "list_eval_partition.txt")
    (server / "list_attr_celeba.txt").write_text(official_attribute_text(list(range(1, 13))))
    md5 = {n: hashlib.md5((server / n).read_bytes()).hexdigest()
           for n in ("img_align_celeba.zip", "list_eval_partition.txt", "list_attr_celeba.txt")}
    file_list = [(f"id-{n}", md5.get(n, "0" * 32), n) for _, _, n in torchvision.datasets.CelebA.file_list]
    monkeypatch.setattr(torchvision.datasets.CelebA, "file_list", file_list)
    calls = []

    def download(file_id, root, filename=None, md5=None):
        calls.append(filename)
        os.makedirs(root, exist_ok=True)
        shutil.copy(server / filename, os.path.join(root, filename))

    monkeypatch.setattr(tv_utils, "download_file_from_google_drive", download)
    return calls


def test_download_into_torchvision_layout(tmp_path, fake_drive):
    root = tmp_path / "data"
    dm = CelebADataModule(root=str(root), download=True, attributes=["Male", "Eyeglasses"])
    dm.prepare_data()
    assert sorted(fake_drive) == ["img_align_celeba.zip", "list_attr_celeba.txt", "list_eval_partition.txt"]
    assert len(list((root / "celeba" / "img_align_celeba").iterdir())) == 12
    assert not (root / "celeba" / ".download").exists()
    dm.setup()
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (10, 1, 1)
    assert dm.train_set[0][1].shape == (2,)  # the downloaded attribute file gives the labels
    dm.prepare_data()  # found now: no second download
    assert len(fake_drive) == 3


def test_download_failure_says_what_to_do(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("Too many users have viewed or downloaded this file recently.")

    monkeypatch.setattr(tv_utils, "download_file_from_google_drive", refuse)
    root = tmp_path / "data"
    with pytest.raises(DownloadError) as e:
        CelebADataModule(root=str(root), download=True).prepare_data()
    msg = str(e.value)
    assert "Too many users" in msg and "kaggle datasets download -d jessicali9530/celeba-dataset" in msg
    assert f"{root}/img_align_celeba/img_align_celeba/*.jpg" in msg and str(root / "celeba") in msg
    assert locate(root) is None


def test_download_of_html_page_is_rejected(tmp_path, fake_drive, monkeypatch):
    def html(file_id, root, filename=None, md5=None):
        os.makedirs(root, exist_ok=True)
        Path(root, filename).write_text("<html>Google Drive - Quota exceeded</html>")

    monkeypatch.setattr(tv_utils, "download_file_from_google_drive", html)
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match="does not have md5"):
        CelebADataModule(root=str(root), download=True).prepare_data()
    assert not (root / "celeba" / "list_eval_partition.txt").exists()  # never moved into place


def test_interrupted_extraction_leaves_no_dataset(tmp_path, fake_drive, monkeypatch):
    original = zipfile.ZipFile.extractall

    def half(self, path=None, members=None, pwd=None):
        original(self, path, self.namelist()[:5], pwd)
        raise OSError("No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "extractall", half)
    root = tmp_path / "data"
    with pytest.raises(OSError, match="No space left"):
        CelebADataModule(root=str(root), download=True).prepare_data()
    assert locate(root) is None  # nothing that looks like a (smaller) dataset
    with pytest.raises(FileNotFoundError, match="CelebA not found"):
        CelebADataModule(root=str(root)).setup()
