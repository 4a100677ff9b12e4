"""IDX reader: exact on-disk format, and clear errors for wrong or broken files."""

import gzip
import struct

import numpy as np
import pytest
import torch

from lit_gan.data.idx import (
    IDXFormatError,
    read_idx,
    read_idx_images,
    read_idx_labels,
    write_idx,
)


def _hand_made_images() -> bytes:
    """2 images of 3x4, written byte by byte as LeCun's page specifies."""
    return struct.pack(">IIII", 0x00000803, 2, 3, 4) + bytes(range(24))


@pytest.mark.parametrize("gz", [False, True])
def test_reads_hand_made_file(tmp_path, gz):
    path = tmp_path / ("x.gz" if gz else "x")
    blob = _hand_made_images()
    path.write_bytes(gzip.compress(blob) if gz else blob)
    arr = read_idx(path)
    assert arr.dtype == np.uint8 and arr.shape == (2, 3, 4)
    assert arr[1, 2, 3] == 23 and arr[0, 1, 0] == 4
    images = read_idx_images(path)
    assert images.shape == (2, 1, 3, 4) and images.dtype == torch.uint8
    assert images[1, 0, 0, 0].item() == 12


@pytest.mark.parametrize("name", ["labels", "labels.gz"])
def test_write_read_round_trip(tmp_path, name):
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.uint8)
    path = write_idx(tmp_path / name, labels)
    raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    assert raw == struct.pack(">II", 0x00000801, 8) + labels.tobytes()
    out = read_idx_labels(path)
    assert out.dtype == torch.int64
    assert out.tolist() == [3, 1, 4, 1, 5, 9, 2, 6]


def test_images_round_trip_gz(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 256, (5, 7, 6), dtype=np.uint8)
    out = read_idx_images(write_idx(tmp_path / "i.gz", imgs))
    assert torch.equal(out[:, 0], torch.from_numpy(imgs))


def test_labels_file_where_images_expected(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros(4, dtype=np.uint8))
    with pytest.raises(IDXFormatError) as e:
        read_idx_images(path)
    msg = str(e.value)
    assert "expected magic 0x00000803, found 0x00000801" in msg
    assert str(path) in msg and "re-download" in msg


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"<html><body>Too many requests</body></html>")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        read_idx(path)


def test_truncated_raw_file(tmp_path):
    path = tmp_path / "imgs"
    path.write_bytes(_hand_made_images()[:-5])
    with pytest.raises(IDXFormatError) as e:
        read_idx(path)
    msg = str(e.value)
    assert "truncated" in msg and "needs 24 data bytes, found 19" in msg
    assert str(path) in msg and "Delete it" in msg


def test_truncated_gz_file(tmp_path):
    path = tmp_path / "imgs.gz"
    blob = gzip.compress(np.random.default_rng(1).bytes(5000))
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IDXFormatError, match="gzip stream is broken or truncated") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_trailing_bytes_are_an_error(tmp_path):
    path = tmp_path / "imgs"
    path.write_bytes(_hand_made_images() + b"\x00\x00")
    with pytest.raises(IDXFormatError, match="longer than its header says"):
        read_idx(path)
