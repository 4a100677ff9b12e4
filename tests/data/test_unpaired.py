"""UnpairedImageDataModule on tiny CycleGAN-format fixtures (trainA/ trainB/ testA/ testB/).

Every fixture image is one flat colour that encodes its folder and index, so an item's pixels tell
which file it came from whatever the crop, resize and flip, and can be checked against its names.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lit_gan.data import unpaired as unpaired_module
from lit_gan.data.paired import Archive
from lit_gan.data.unpaired import UnpairedImageDataModule, UnpairedItem
from lit_gan.download import DownloadError, UnsafeArchiveError
from tests.data.archive_helpers import archive_of, dead_url

COUNTS = {"trainA": 5, "trainB": 8, "testA": 3, "testB": 4}
FOLDER_CODE = {"trainA": 0, "trainB": 1, "testA": 2, "testB": 3}


def colour(folder: str, i: int) -> tuple[int, int, int]:
    return (40 * FOLDER_CODE[folder], 20 * i, 255 - 20 * i)


def make_dataset(root: Path, name: str = "tiny", counts: dict[str, int] = COUNTS) -> Path:
    for folder, n in counts.items():
        (root / name / folder).mkdir(parents=True, exist_ok=True)
        size = (40, 40) if folder.endswith("A") else (48, 36)  # B is not square: resized to a square
        for i in range(n):
            Image.new("RGB", size, colour(folder, i)).save(root / name / folder / f"{folder[-1]}{i}.png")
    return root / name


def tiny_dm(root: Path, **kw) -> UnpairedImageDataModule:
    kw = {"dataset": "tiny", "load_size": 20, "crop_size": 16, "seed": 0, **kw}
    dm = UnpairedImageDataModule(root=str(root), **kw)
    dm.setup()
    return dm


def source(x: torch.Tensor, folder: str) -> str:
    """File name of a flat-colour image (3, S, S)."""
    rgb = tuple(int(v) for v in ((x[:, 0, 0] + 1) * 127.5).round())
    assert (x == x[:, :1, :1]).all(), "not a flat colour"
    i = next(i for i in range(COUNTS[folder]) if colour(folder, i) == rgb)
    return f"{folder[-1]}{i}.png"


def check(item: UnpairedItem, split: str) -> tuple[str, str]:
    assert source(item.A, split + "A") == item.name_A and source(item.B, split + "B") == item.name_B
    return item.name_A, item.name_B


def names_of(loader) -> list[tuple[str, str]]:
    return [pair for batch in loader for pair in zip(batch.name_A, batch.name_B)]


def test_lengths_shapes_range_and_item_format(tmp_path):
    make_dataset(tmp_path)
    dm = UnpairedImageDataModule(root=str(tmp_path), dataset="tiny", load_size=20, crop_size=16)
    assert dm.data_shape == (3, 16, 16)  # before setup
    dm.setup("fit")
    assert (len(dm.train_set), len(dm.test_set)) == (8, 3)  # max(|A|, |B|); |A|
    item = dm.train_set[0]
    assert isinstance(item, UnpairedItem) and item.A.shape == item.B.shape == (3, 16, 16)
    assert item.A.dtype == torch.float32 and -1 <= item.A.min() and item.B.max() <= 1
    batch = next(iter(dm.train_dataloader()))
    assert isinstance(batch, UnpairedItem) and batch.A.shape == (1, 3, 16, 16) and len(batch.name_B) == 1


def test_test_pairing_is_fixed(tmp_path):
    make_dataset(tmp_path)
    dm = tiny_dm(tmp_path)
    pairs = [check(dm.test_set[i], "test") for i in range(3)]
    assert pairs == [("A0.png", "B0.png"), ("A1.png", "B1.png"), ("A2.png", "B2.png")]
    assert names_of(dm.test_dataloader()) == pairs == names_of(tiny_dm(tmp_path, seed=9).test_dataloader())


def test_training_pairs_are_random_but_reproducible(tmp_path):
    make_dataset(tmp_path)
    loader = tiny_dm(tmp_path, seed=3).train_dataloader()
    epoch0, epoch1 = names_of(loader), names_of(loader)
    assert len(epoch0) == 8 and {a for a, _ in epoch0} == {f"A{i}.png" for i in range(5)}  # every A each epoch
    assert names_of(tiny_dm(tmp_path, seed=3).train_dataloader()) == epoch0
    assert epoch1 != epoch0 and names_of(tiny_dm(tmp_path, seed=4).train_dataloader()) != epoch0
    b_of_a0 = {b for a, b in epoch0 + epoch1 + names_of(loader) if a == "A0.png"}
    assert len(b_of_a0) > 1  # A0's partner changes
    dm = tiny_dm(tmp_path, seed=3)
    for index in dm.train_dataloader().sampler:
        check(dm.train_set[index], "train")


def test_workers_do_not_change_the_draws(tmp_path):
    make_dataset(tmp_path)
    one = tiny_dm(tmp_path, seed=5, batch_size=2).train_dataloader()
    two = tiny_dm(tmp_path, seed=5, batch_size=2, num_workers=2).train_dataloader()
    batches = [list(one), list(two)]
    assert [b.name_B for b in batches[0]] == [b.name_B for b in batches[1]]
    assert all(torch.equal(x.A, y.A) and torch.equal(x.B, y.B) for x, y in zip(*batches))


def test_serial_batches(tmp_path):
    make_dataset(tmp_path)
    pairs = names_of(tiny_dm(tmp_path, serial_batches=True).train_dataloader())
    assert pairs == [(f"A{i % 5}.png", f"B{i}.png") for i in range(8)]


def test_a_and_b_get_independent_crops_and_flips(tmp_path):
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8))
    for folder in ("trainA", "trainB"):
        (tmp_path / "same" / folder).mkdir(parents=True)
        noise.save(tmp_path / "same" / folder / "x.png")  # A and B hold the same image
    dm = tiny_dm(tmp_path, dataset="same", load_size=24, crop_size=16)
    items = [dm.train_set[(0, s)] for s in range(12)]
    assert sum(not torch.equal(it.A, it.B) for it in items) >= 10
    for side in ("A", "B"):  # each side gets its own random view
        assert len({getattr(it, side).numpy().tobytes() for it in items}) > 4
    assert torch.equal(items[3].A, dm.train_set[(0, 3)].A)  # an item seed fixes the view


def test_validation_is_none_or_the_test_folders(tmp_path):
    make_dataset(tmp_path)
    assert tiny_dm(tmp_path).val_dataloader() == []
    dm = tiny_dm(tmp_path, val_from_test=True)
    assert names_of(dm.val_dataloader()) == names_of(dm.test_dataloader())


def test_domain_set_has_every_image_once_and_metrics_see_a(tmp_path):
    from lit_gan.evaluation.real import real_images

    make_dataset(tmp_path)
    dm = tiny_dm(tmp_path)
    photos = dm.domain_set("test", "B")
    assert [photos[i][1] for i in range(len(photos))] == [f"B{i}.png" for i in range(4)]
    assert [source(photos[i][0], "testB") for i in range(4)] == [f"B{i}.png" for i in range(4)]
    real = real_images(dm, "test")
    assert real.shape == (3, 3, 16, 16) and real[:, :, 0, 0].tolist() == [list(colour("testA", i)) for i in range(3)]


def test_missing_domain_says_where_and_how(tmp_path):
    make_dataset(tmp_path, name="monet2photo", counts={"trainA": 2})
    with pytest.raises(FileNotFoundError) as e:
        UnpairedImageDataModule(root=str(tmp_path)).setup()
    msg = str(e.value)
    assert str(tmp_path / "monet2photo" / "trainB") in msg and "trainA" not in msg.split("\n")[0]
    assert "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/monet2photo.zip" in msg
    assert "download: true" in msg and f"unzip monet2photo.zip -d {tmp_path}" in msg


# ---------------------------------------------------------------- download


def register(monkeypatch, arc: Path, sha256: str | None = None) -> None:
    import hashlib

    entry = Archive(urls=(arc.as_uri(),), size=arc.stat().st_size,
                    sha256=sha256 or hashlib.sha256(arc.read_bytes()).hexdigest(), counts=dict(COUNTS))
    monkeypatch.setitem(unpaired_module.ARCHIVES, "monet2photo", entry)


def test_download_checks_sha256_and_unzips_into_place(tmp_path, monkeypatch):
    register(monkeypatch, archive_of(make_dataset(tmp_path / "src", name="monet2photo"), tmp_path / "monet2photo.zip"))
    root = tmp_path / "data"
    dm = UnpairedImageDataModule(root=str(root), download=True, load_size=20, crop_size=16)
    dm.prepare_data()
    assert sorted(p.name for p in root.iterdir()) == ["monet2photo", "monet2photo.zip"]
    dm.setup()
    assert (len(dm.train_set), len(dm.test_set)) == (8, 3)


def test_wrong_sha256_is_refused(tmp_path, monkeypatch):
    register(monkeypatch, archive_of(make_dataset(tmp_path / "src", name="monet2photo"), tmp_path / "m.zip"), "0" * 64)
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match="corrupt: sha256"):
        UnpairedImageDataModule(root=str(root), download=True).prepare_data()
    assert not (root / "monet2photo").exists()


def test_dead_server_names_url_and_manual_layout(tmp_path, monkeypatch):
    url = dead_url("monet2photo.zip")
    monkeypatch.setitem(unpaired_module.ARCHIVES, "monet2photo", Archive((url,), 1, None, dict(COUNTS)))
    root = tmp_path / "data"
    with pytest.raises(DownloadError) as e:
        UnpairedImageDataModule(root=str(root), download=True).prepare_data()
    msg = str(e.value)
    assert url in msg and str(root / "monet2photo.zip") in msg
    assert f"{root / 'monet2photo'}/trainA/*.jpg and trainB/*.jpg" in msg and "A = Monet paintings" in msg


def test_zip_escaping_its_folder_is_refused(tmp_path, monkeypatch):
    src = make_dataset(tmp_path / "src", name="monet2photo")
    register(monkeypatch, archive_of(src, tmp_path / "evil.zip", {"monet2photo/../../escaped.txt": b"gotcha"}))
    root = tmp_path / "a" / "data"
    with pytest.raises(UnsafeArchiveError, match="outside the target"):
        UnpairedImageDataModule(root=str(root), download=True).prepare_data()
    assert not (root / "monet2photo").exists() and not list(tmp_path.rglob("escaped.txt"))


def test_truncated_zip_is_reported_as_damaged(tmp_path, monkeypatch):
    arc = archive_of(make_dataset(tmp_path / "src", name="monet2photo"), tmp_path / "monet2photo.zip")
    data = bytearray(arc.read_bytes())
    start = data.index(b"\x89PNG")  # corrupt the first stored image: its CRC no longer matches
    data[start + 40 : start + 48] = b"XXXXXXXX"
    arc.write_bytes(bytes(data))
    register(monkeypatch, arc)
    root = tmp_path / "data"
    with pytest.raises(DownloadError, match="is damaged .*delete it and run again"):
        UnpairedImageDataModule(root=str(root), download=True).prepare_data()
    assert not (root / "monet2photo").exists()
