"""Download fixtures the dataset tests share: an unreachable URL, and a dataset folder packed
as the archive its server hands out (.tar.gz for pix2pix, .zip for CycleGAN)."""

from __future__ import annotations

import io
import socket
import tarfile
import zipfile
from pathlib import Path


def dead_url(name: str) -> str:
    """A URL on a port nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"


def archive_of(src: Path, arc: Path, extra: dict[str, bytes] | None = None) -> Path:
    """``src`` (as ``<src.name>/...``) and the ``extra`` members (name -> bytes, e.g. one escaping
    the target) in ``arc``: a zip when its name ends in .zip, else a gzipped tar."""
    extra = extra or {}
    if arc.suffix == ".zip":
        with zipfile.ZipFile(arc, "w") as zf:
            for p in sorted(src.rglob("*")):
                zf.write(p, p.relative_to(src.parent).as_posix())
            for name, data in extra.items():
                zf.writestr(zipfile.ZipInfo(name), data)
        return arc
    with tarfile.open(arc, "w:gz") as tf:
        tf.add(src, arcname=src.name)
        for name, data in extra.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return arc
