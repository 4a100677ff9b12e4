"""Read and write IDX files (the MNIST / Fashion-MNIST on-disk format), raw or gzipped.

Format (LeCun's MNIST page): two zero bytes, one type byte (0x08 = unsigned byte),
one byte with the number of dimensions, then each dimension as a big-endian int32,
then the data in C order. Images are magic 0x00000803 (N, H, W); labels 0x00000801 (N,).

Why our own reader rather than torchvision's: we want every broken file (a truncated
download, an HTML error page saved as `.gz`, a half-copied file) to end in one clear
message naming the file and saying what to do, never in a numpy reshape traceback.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
_UBYTE = 0x08
_FIX = "Delete it and re-download it (download: true) or re-copy it from a good source."


class IDXFormatError(ValueError):
    """An IDX file is unreadable, truncated, or not the kind of IDX file we expected."""


def _fail(path: Path, problem: str) -> IDXFormatError:
    return IDXFormatError(f"Bad IDX file {path}: {problem}. {_FIX}")


def _read_bytes(path: Path) -> bytes:
    """The file's (decompressed) bytes; gzip is detected by its magic, not by the name."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            if head == b"\x1f\x8b":
                with gzip.GzipFile(fileobj=f) as g:
                    return g.read()
            return f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise _fail(path, f"the gzip stream is broken or truncated ({e})") from e


def read_idx(path: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """Read an unsigned-byte IDX file into a uint8 array shaped as its header says.

    `expected_magic` (IMAGES_MAGIC / LABELS_MAGIC) guards against swapped file names.
    Raises IDXFormatError (a ValueError) when the header or the byte count is wrong.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise _fail(path, f"expected at least a 4-byte header, found {len(data)} bytes")
    (magic,) = struct.unpack(">I", data[:4])
    if magic >> 16 != 0 or (magic >> 8) & 0xFF != _UBYTE or not 1 <= magic & 0xFF <= 4:
        raise _fail(path, f"magic number is 0x{magic:08X}, which is not an unsigned-byte IDX file")
    if expected_magic is not None and magic != expected_magic:
        raise _fail(path, f"expected magic 0x{expected_magic:08X}, found 0x{magic:08X}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise _fail(path, f"expected a {header}-byte header, found {len(data)} bytes")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    found = len(data) - header
    if found != expected:
        what = "truncated" if found < expected else "longer than its header says"
        raise _fail(
            path,
            f"file is {what}: header {tuple(dims)} needs {expected} data bytes, found {found}",
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_idx_images(path: str | Path) -> torch.Tensor:
    """Images as a uint8 tensor (N, 1, H, W)."""
    arr = read_idx(path, IMAGES_MAGIC)
    return torch.from_numpy(arr.copy()).unsqueeze(1)  # copy: frombuffer is read-only


def read_idx_labels(path: str | Path) -> torch.Tensor:
    """Labels as an int64 tensor (N,)."""
    return torch.from_numpy(read_idx(path, LABELS_MAGIC).astype(np.int64))


def write_idx(path: str | Path, array: np.ndarray | torch.Tensor) -> Path:
    """Write a uint8 array as IDX (gzipped when the name ends in `.gz`). For fixtures and tools."""
    path = Path(path)
    arr = np.ascontiguousarray(np.asarray(array), dtype=np.uint8)
    if not 1 <= arr.ndim <= 4:
        raise ValueError(f"IDX supports 1 to 4 dimensions, got shape {arr.shape}")
    blob = struct.pack(f">I{arr.ndim}I", (_UBYTE << 8) | arr.ndim, *arr.shape) + arr.tobytes()
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(blob)
    return path
