"""lit_gan.data.derived: pix2pix / CycleGAN datasets built from tiny MNIST-format fixtures."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from lit_gan.data import derived_build
from lit_gan.data.contract import problems
from lit_gan.data.derived import (
    build_derived,
    class_of_name,
    is_derived,
    prepare_derived,
    read_info,
    spec_of,
)
from lit_gan.data.idx import write_idx
from lit_gan.data.mnist import resize_uint8
from lit_gan.data.paired import PairedImageDataModule
from lit_gan.data.unpaired import UnpairedImageDataModule

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
TRAIN_LABELS = [7, 9, 0, 7, 9, 1, 7, 9, 2, 7, 9, 3]  # 12: four 7s and four 9s
TEST_LABELS = [9, 7, 5, 9, 7, 6]  # 6: two 7s, two 9s


def rectangles(labels: list[int], seed: int) -> np.ndarray:
    """(N, 28, 28) uint8: one bright rectangle per image, position and size from ``seed``, on black."""
    rng = np.random.default_rng(seed)
    images = np.zeros((len(labels), 28, 28), np.uint8)
    for i in range(len(labels)):
        top, left = rng.integers(3, 9, 2)
        h, w = rng.integers(10, 16, 2)
        images[i, top:top + h, left:left + w] = rng.integers(150, 256)
    return images


def write_source(folder: Path, gz: bool = True, seed: int = 0) -> Path:
    """Four IDX files (12 train, 6 test images) directly in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    for split, labels, s in (("train", TRAIN_LABELS, seed), ("t10k", TEST_LABELS, seed + 1)):
        write_idx(folder / f"{split}-images-idx3-ubyte{ext}", rectangles(labels, s))
        write_idx(folder / f"{split}-labels-idx1-ubyte{ext}", np.array(labels, np.uint8))
    return folder


@pytest.fixture
def source(tmp_path) -> Path:
    return write_source(tmp_path / "source")


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.mode == "RGB"
        return np.asarray(im).copy()


def resized(images: np.ndarray, size: int) -> np.ndarray:
    """(N, S, S) uint8: the builder's resize of the source images."""
    return resize_uint8(torch.from_numpy(images).unsqueeze(1), size)[:, 0].numpy()


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.rglob("*"))
            if p.is_file()}


# ---- paired -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, size", [("edges2fashion", 32), ("edges2fashion64", 64)])
def test_paired_layout_names_sizes_and_image_half(tmp_path, source, name, size):
    folder = build_derived(name, tmp_path / "data", [source], progress=False)
    assert folder == tmp_path / "data" / name
    assert sorted(p.name for p in folder.iterdir()) == ["dataset.json", "test", "train"]
    for split, labels, seed in (("train", TRAIN_LABELS, 0), ("test", TEST_LABELS, 1)):
        names = sorted(p.name for p in (folder / split).iterdir())
        assert names == [f"{i:05d}_c{y}.png" for i, y in enumerate(labels)]
        assert [class_of_name(n) for n in names] == labels
        expected_b = resized(rectangles(labels, seed), size)
        for i, n in enumerate(names):
            pair = read_png(folder / split / n)
            assert pair.shape == (size, 2 * size, 3)  # A | B, 2S wide, S high
            for c in range(3):  # gray replicated
                np.testing.assert_array_equal(pair[:, size:, c], expected_b[i])
    info = read_info(folder)
    assert info["name"] == name and info["kind"] == "paired" and info["source"] == "fashion"
    assert info["size"] == size and info["counts"] == {"train": 12, "test": 6} and info["version"] == 1
    assert info["class_names"][7] == "Sneaker" and info["class_names"][9] == "Ankle boot"
    assert info["canny"]["sigma"] == size / 32 and len(info["key"]) == 64


def test_edges_outline_the_object_black_on_white(tmp_path, source):
    folder = build_derived("edges2fashion", tmp_path, [source], progress=False)
    for path in sorted((folder / "train").iterdir()):
        pair = read_png(path)
        a, b = pair[:, :32, 0], pair[:, 32:, 0]
        assert set(np.unique(a)) <= {0, 255} and (pair[:, :32, 0] == pair[:, :32, 2]).all()
        edges = torch.from_numpy(a == 0).float()[None, None]
        obj = torch.from_numpy(b > 75).float()[None, None]
        boundary = F.max_pool2d(obj, 3, 1, 1) - (-F.max_pool2d(-obj, 3, 1, 1))  # dilation minus erosion
        near = F.max_pool2d(boundary, 5, 1, 2)  # within 2 px of the boundary
        assert edges.sum() >= 20, path.name  # a rectangle's outline at 32 px, not a few specks
        assert (edges * (1 - near)).sum() == 0, path.name  # nothing far from the boundary
        drawn = F.max_pool2d(edges, 3, 1, 1) * boundary  # boundary pixels with an edge pixel next to them
        assert drawn.sum() / boundary.sum() > 0.9, path.name  # the whole outline is drawn
        far = 1 - F.max_pool2d(obj, 7, 1, 3)
        assert (a[far[0, 0].bool().numpy()] == 255).all()  # white background


@pytest.mark.parametrize("size", [32, 64])
def test_edges_are_kornias_canny(size):
    from kornia.filters import canny

    gen = torch.Generator().manual_seed(0)
    noise = F.avg_pool2d(torch.rand(8, 1, size + 4, size + 4, generator=gen), 5, 1)  # smooth: long weak chains
    shapes = resize_uint8(torch.from_numpy(rectangles(list(range(8)), 2)).unsqueeze(1), size)
    images = torch.cat([(noise * 255).round().to(torch.uint8), shapes])
    s = derived_build.canny_settings(size)
    _, want = canny(images.float() / 255, s["low_threshold"], s["high_threshold"], s["kernel_size"],
                    (s["sigma"], s["sigma"]))
    assert torch.equal(derived_build.edge_map(images, s) == 0, want.bool())


def test_edges2mnist_reads_mnist_from_torchvision_layout(tmp_path):
    write_source(tmp_path / "data" / "MNIST" / "raw", gz=False)
    prepared = prepare_derived("edges2mnist", tmp_path / "data", progress=False)
    assert prepared.built and prepared.images == 18
    assert read_info(prepared.folder)["source"] == "mnist"
    assert read_info(prepared.folder)["class_names"][:3] == ["0", "1", "2"]


def test_class_of_name_round_trip_and_error():
    assert class_of_name("00042_c7.png") == 7 and class_of_name("/x/train/59999_c0.png") == 0
    with pytest.raises(ValueError, match="carries no class.*00042_c7.png"):
        class_of_name("00042.png")


# ---- unpaired ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, a, b", [("sneaker2boot", 7, 9), ("fashion_mnist_9to7", 9, 7), ("mnist_7to9", 7, 9)])
def test_unpaired_folders_hold_exactly_the_two_classes(tmp_path, source, name, a, b):
    folder = build_derived(name, tmp_path, [source], progress=False)
    for split, labels, seed in (("train", TRAIN_LABELS, 0), ("test", TEST_LABELS, 1)):
        images = resized(rectangles(labels, seed), 32)
        for domain, c in (("A", a), ("B", b)):
            want = [i for i, y in enumerate(labels) if y == c]
            names = sorted(p.name for p in (folder / f"{split}{domain}").iterdir())
            assert names == [f"{i:05d}.png" for i in want]
            for i, n in zip(want, names):
                png = read_png(folder / f"{split}{domain}" / n)
                assert png.shape == (32, 32, 3)
                np.testing.assert_array_equal(png, np.repeat(images[i][..., None], 3, axis=2))
    info = read_info(folder)
    assert info["kind"] == "unpaired" and info["canny"] is None
    assert info["counts"] == {"trainA": 4, "trainB": 4, "testA": 2, "testB": 2}
    names = info["class_names"]
    assert info["A"] == {"class": a, "name": names[a]} and info["B"] == {"class": b, "name": names[b]}


def test_named_pairs():
    assert spec_of("sneaker2boot").classes == (7, 9) and spec_of("tshirt2shirt").classes == (0, 6)
    assert spec_of("fashion_mnist_5to7").variant == "fashion" and spec_of("mnist_5to7").variant == "mnist"
    assert is_derived("mnist_3to3") and not is_derived("facades") and not is_derived("monet2photo")


@pytest.mark.parametrize("name, match", [
    ("fashion_mnist_5to12", r"class 12 is out of range; classes are single digits 0\.\.9"),
    ("mnist_05to7", "class 05 is out of range"),
    ("mnist_3to3", r"same class \(3\); name two different classes, e.g. mnist_3to4"),
    ("edges2cats", ("unknown derived dataset 'edges2cats': known are edges2fashion, .*sneaker2boot.*"
                    "fashion_mnist_<a>to<b> / mnist_<a>to<b>")),
])
def test_bad_names_say_what_to_do(tmp_path, source, name, match):
    with pytest.raises(ValueError, match=match) as err:
        build_derived(name, tmp_path / "data", [source], progress=False)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "data").exists()


def test_missing_source_names_the_folders_and_the_fixes(tmp_path):
    root = tmp_path / "data"
    with pytest.raises(FileNotFoundError) as err:
        build_derived("sneaker2boot", root, [tmp_path / "elsewhere"], progress=False)
    msg = str(err.value)
    for folder in (root / "FashionMNIST" / "raw", root, tmp_path / "elsewhere"):
        assert f"  {folder}\n" in msg
    assert "apt-get install dataset-fashion-mnist" in msg and f"--also-look-in {FASHION_DIR}" in msg
    assert "download: true" in msg and "download=True" in msg and "copy the four files" in msg and "train-images-idx3-ubyte" in msg
    assert not root.exists()
    with pytest.raises(FileNotFoundError) as err:  # MNIST: no Debian package to suggest
        build_derived("edges2mnist", root, progress=False)
    assert "apt-get" not in str(err.value) and str(root / "MNIST" / "raw") in str(err.value)


def test_download_fetches_a_missing_source_into_torchvisions_layout(tmp_path, source, monkeypatch):
    fetched = []

    def fake_download(urls, target, md5=None):  # the mirrors are unreachable here: copy the fixture's file
        fetched.append(Path(target).name)
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_bytes((source / Path(target).name).read_bytes())
        return Path(target)

    monkeypatch.setattr("lit_gan.data.mnist.download_file", fake_download)
    dm = UnpairedImageDataModule(str(tmp_path / "data"), dataset="sneaker2boot", load_size=32, crop_size=32,
                                 download=True)
    dm.prepare_data()
    assert len(fetched) == 4 and (tmp_path / "data" / "FashionMNIST" / "raw" / fetched[0]).is_file()
    dm.setup("fit")
    assert len(dm.train_set) == 4
    dm.prepare_data()  # found now: nothing fetched again
    assert len(fetched) == 4


def test_kind_must_match_the_reader(tmp_path, source):
    with pytest.raises(ValueError, match="sneaker2boot is an unpaired dataset.*UnpairedImageDataModule"):
        PairedImageDataModule(str(tmp_path), dataset="sneaker2boot", also_look_in=[str(source)]).prepare_data()
    with pytest.raises(ValueError, match="edges2fashion is a paired dataset.*PairedImageDataModule"):
        UnpairedImageDataModule(str(tmp_path), dataset="edges2fashion", also_look_in=[str(source)]).prepare_data()


# ---- caching, rebuilding, crashes, determinism ----------------------------------------------------

def test_second_call_is_cached_and_rewrites_nothing(tmp_path, source):
    first = prepare_derived("edges2fashion", tmp_path, [source], progress=False)
    before = snapshot(first.folder)
    again = prepare_derived("edges2fashion", tmp_path, [source], progress=False)
    assert first.built and not again.built and again.images == first.images == 18
    assert snapshot(again.folder) == before  # same mtimes, same bytes


def test_a_changed_source_or_a_missing_file_rebuilds(tmp_path, source):
    folder = build_derived("sneaker2boot", tmp_path, [source], progress=False)
    key = read_info(folder)["key"]
    write_source(source, seed=5)  # same labels, other rectangles
    prepared = prepare_derived("sneaker2boot", tmp_path, [source], progress=False)
    assert prepared.built and read_info(folder)["key"] != key
    np.testing.assert_array_equal(read_png(folder / "trainA" / "00000.png")[..., 0],
                                  resized(rectangles(TRAIN_LABELS, 5), 32)[0])
    (folder / "trainB" / "00001.png").unlink()  # counts no longer match
    assert prepare_derived("sneaker2boot", tmp_path, [source], progress=False).built
    assert (folder / "trainB" / "00001.png").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sneaker2boot", "source"]  # nothing aside is left


def test_same_source_gives_byte_identical_files(tmp_path, source):
    one = build_derived("edges2fashion", tmp_path / "one", [source], progress=False)
    two = build_derived("edges2fashion", tmp_path / "two", [write_source(tmp_path / "copy")], progress=False)
    assert {k: v[1] for k, v in snapshot(one).items()} == {k: v[1] for k, v in snapshot(two).items()}


def test_a_crash_midway_leaves_no_dataset_and_no_staging(tmp_path, source, monkeypatch):
    real, calls = derived_build.write_png, []

    def failing(path, array):
        calls.append(path)
        if len(calls) == 9:
            raise OSError("disk full (simulated)")
        real(path, array)

    monkeypatch.setattr(derived_build, "write_png", failing)
    with pytest.raises(OSError, match="simulated"):
        build_derived("edges2fashion", tmp_path / "data", [source], progress=False)
    assert calls[0].parent.parent.name.startswith(".edges2fashion.partial-")  # written into staging
    assert list((tmp_path / "data").iterdir()) == []

    # a process killed mid-build leaves its staging folder; the next build removes it
    monkeypatch.setattr(derived_build, "write_png", real)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / "data" / f".edges2fashion.partial-{dead.pid}"
    (stale / "train").mkdir(parents=True)
    (stale / "train" / "00000_c7.png").write_bytes(b"half")
    build_derived("edges2fashion", tmp_path / "data", [source], progress=False)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["edges2fashion"]


def test_a_failed_rebuild_keeps_the_old_dataset(tmp_path, source, monkeypatch):
    folder = build_derived("sneaker2boot", tmp_path / "data", [source], progress=False)
    before = snapshot(folder)
    write_source(source, seed=3)

    def failing(path, array):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(derived_build, "write_png", failing)
    with pytest.raises(OSError):
        build_derived("sneaker2boot", tmp_path / "data", [source], progress=False)
    assert snapshot(folder) == before
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["sneaker2boot"]


def test_a_build_finished_meanwhile_by_another_process_is_kept(tmp_path, source, monkeypatch):
    from lit_gan.data import derived

    real, inodes = derived.build_into, []

    def racing(staging, spec, files, stamp, progress):
        real(staging, spec, files, stamp, progress)
        real(tmp_path / spec.name, spec, files, stamp, progress)  # the other process, renamed in first
        inodes.append((tmp_path / spec.name).stat().st_ino)

    monkeypatch.setattr(derived, "build_into", racing)
    assert prepare_derived("sneaker2boot", tmp_path, [source], progress=False).built
    assert (tmp_path / "sneaker2boot").stat().st_ino == inodes[0]  # theirs, not swapped for ours
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sneaker2boot", "source"]


def test_a_folder_not_built_here_is_left_alone(tmp_path, source):
    (tmp_path / "edges2fashion" / "train").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="not built by lit_gan.*move it away or delete it"):
        build_derived("edges2fashion", tmp_path, [source], progress=False)
    assert read_info(tmp_path / "edges2fashion") is None
    (tmp_path / "edges2fashion" / "dataset.json").write_text("{not json")
    assert read_info(tmp_path / "edges2fashion") is None


# ---- the datamodules ------------------------------------------------------------------------------

def test_paired_datamodule_builds_and_reads_a_derived_dataset(tmp_path, source):
    dm = PairedImageDataModule(str(tmp_path), dataset="edges2fashion", direction="AtoB", load_size=32,
                               crop_size=32, batch_size=4, seed=0, also_look_in=[str(source)])
    dm.prepare_data()
    dm.setup("fit")
    assert (len(dm.train_set), len(dm.test_set), dm.val_set) == (12, 6, None)
    item = dm.test_set[0]
    assert item.input.shape == item.target.shape == (3, 32, 32) and item.name == "00000_c9.png"
    assert item.input.max() == 1.0  # AtoB: the input is the edge drawing, white background
    assert torch.equal(item.target, dm.test_set[0].target) and problems(dm) == []
    batch = next(iter(dm.train_dataloader()))
    assert batch.input.shape == (4, 3, 32, 32)


def test_unpaired_datamodule_builds_and_reads_a_derived_dataset(tmp_path, source):
    dm = UnpairedImageDataModule(str(tmp_path), dataset="sneaker2boot", load_size=32, crop_size=32, seed=0,
                                 also_look_in=[str(source)], download=False)
    dm.prepare_data()
    dm.setup("fit")
    assert (len(dm.train_set), len(dm.test_set)) == (4, 2)
    item = dm.train_set[0]
    assert item.A.shape == item.B.shape == (3, 32, 32)
    assert [name for _, name in dm.domain_set("test", "B")] == ["00000.png", "00003.png"]
    assert problems(dm) == []


@pytest.mark.parametrize("module, name", [(PairedImageDataModule, "edges2fashion"),
                                          (UnpairedImageDataModule, "sneaker2boot")])
def test_setup_before_prepare_says_how_to_build_it(tmp_path, module, name):
    dm = module(str(tmp_path), dataset=name, load_size=32, crop_size=32)
    with pytest.raises(FileNotFoundError, match=f"python -m lit_gan prepare {name} --root {tmp_path}"):
        dm.setup("fit")


@pytest.mark.skipif(not FASHION_DIR.is_dir(),
                    reason=f"{FASHION_DIR} absent (sudo apt-get install dataset-fashion-mnist)")
def test_real_sneaker2boot_from_debian_fashion_mnist(tmp_path):
    prepared = prepare_derived("sneaker2boot", tmp_path, [FASHION_DIR], progress=False)
    info = json.loads((prepared.folder / "dataset.json").read_text())
    assert info["counts"] == {"trainA": 6000, "trainB": 6000, "testA": 1000, "testB": 1000}
    assert len(list((prepared.folder / "testB").iterdir())) == 1000
    assert info["A"]["name"] == "Sneaker" and info["B"]["name"] == "Ankle boot"
