"""Fetch a dataset file from a list of mirrors, verify it, and unpack archives safely.

Why not torchvision's helpers: dataset servers here fail often (CelebA's Google Drive
quota, the pix2pix/CycleGAN server going down), so we want (1) resumable downloads,
(2) a checksum check before a file lands at its final path, (3) a next-mirror fallback,
and (4) one error that lists every URL tried and says where to put the file by hand.
Archives are unpacked only after every member is checked to stay inside the target.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from lit_gan.errors import UserError

_CHUNK = 1 << 20
_USER_AGENT = "lit_gan-downloader/0.1 (+python urllib)"


class DownloadError(UserError, RuntimeError):
    """Every mirror failed; the message lists each URL with its failure (a user can act on it)."""


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the extraction target."""


def part_path(dest: Path) -> Path:
    """Where an unfinished download of `dest` lives (`name.ext.part`)."""
    return dest.with_name(dest.name + ".part")


def _digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _verify(path: Path, md5: str | None, sha256: str | None, expected_size: int | None) -> str | None:
    """None when `path` passes every given check, else what is wrong."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        return f"size {size} bytes, expected {expected_size}"
    for algo, want in (("md5", md5), ("sha256", sha256)):
        if want is not None and (got := _digest(path, algo)) != want.lower():
            return f"{algo} {got}, expected {want.lower()}"
    return None


def _fetch(url: str, part: Path, timeout: float, progress: bool) -> None:
    """Stream `url` into `part`, continuing an existing partial file when the server allows."""
    start = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    if start:
        req.add_header("Range", f"bytes={start}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code != 416 or not start:
            raise
        part.unlink()  # our partial file is not a prefix the server recognises: start over
        return _fetch(url, part, timeout, progress)
    with resp:
        resumed = start and resp.status == 206 and (
            resp.headers.get("Content-Range", "").startswith(f"bytes {start}-")
        )
        offset = start if resumed else 0  # a 200 means the server ignored Range: restart
        length = resp.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        with open(part, "ab" if resumed else "wb") as f, tqdm(
            total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
            desc=part.name[: -len(".part")], file=sys.stderr, disable=not progress, leave=False,
        ) as bar:
            while chunk := resp.read(_CHUNK):
                f.write(chunk)
                bar.update(len(chunk))
    if total is not None and (got := part.stat().st_size) != total:
        raise OSError(f"connection closed after {got} of {total} bytes (will resume)")


def download_file(
    urls: list[str],
    dest: str | Path,
    md5: str | None = None,
    sha256: str | None = None,
    expected_size: int | None = None,
    *,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download `dest` from the first mirror in `urls` that yields a verified file.

    An existing `dest` that passes the checks is kept (no network). Bytes stream into
    `dest.name + ".part"`; a leftover `.part` is resumed with an HTTP Range request.
    Only a verified file is moved into place (os.replace, atomic), so `dest` is never
    half-written. A checksum/size mismatch deletes the `.part` and tries the next mirror;
    a network failure keeps it so the next mirror (or the next run) resumes it.
    """
    dest = Path(dest)
    if dest.exists() and _verify(dest, md5, sha256, expected_size) is None:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    failures: list[str] = []
    for url in urls:
        try:
            _fetch(url, part, timeout, progress)
        except (OSError, http.client.HTTPException, ValueError) as e:  # URLError is an OSError
            failures.append(f"  {url}\n    -> {type(e).__name__}: {e}")
            continue
        problem = _verify(part, md5, sha256, expected_size)
        if problem is not None:
            part.unlink(missing_ok=True)
            failures.append(f"  {url}\n    -> downloaded file is corrupt: {problem}")
            continue
        os.replace(part, dest)
        return dest
    checks = ", ".join(f"{k} {v}" for k, v in (("md5", md5), ("sha256", sha256)) if v)
    raise DownloadError(
        f"Could not download {dest.name}; every source failed:\n" + "\n".join(failures) + "\n"
        f"To fix: download it yourself (a browser or another machine) and place it at\n"
        f"  {dest.resolve()}\n" + (f"It must have {checks}.\n" if checks else "")
        + "Then run again; an existing verified file is not downloaded twice."
    )


def _inside(root: str, relative: str) -> bool:
    """True when `root/relative`, normalised, stays within `root`."""
    full = os.path.normpath(os.path.join(root, relative))
    return os.path.commonpath([root, full]) == root


def _is_absolute(name: str) -> bool:
    return name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":")


def _check_member(archive: Path, name: str, link: str | None, hard: bool, root: str) -> None:
    def refuse(why: str) -> UnsafeArchiveError:
        return UnsafeArchiveError(
            f"Refusing to extract {archive}: member {name!r} {why}. The archive is corrupt or "
            "malicious; delete it and download it again from a trusted source."
        )

    if _is_absolute(name):
        raise refuse("has an absolute path")
    if not _inside(root, name):
        raise refuse("would be written outside the target folder")
    if link is not None:
        if _is_absolute(link):
            raise refuse(f"links to the absolute path {link!r}")
        base = "" if hard else str(PurePosixPath(name).parent)
        if not _inside(root, os.path.join(base, link)):
            raise refuse(f"links outside the target folder ({link!r})")


def _check_tar(archive: Path, tf: tarfile.TarFile, root: str) -> None:
    links: set[str] = set()
    for m in tf.getmembers():
        if m.isdev():
            raise UnsafeArchiveError(f"Refusing to extract {archive}: {m.name!r} is a device file.")
        link = m.linkname if (m.issym() or m.islnk()) else None
        _check_member(archive, m.name, link, m.islnk(), root)
        parents = PurePosixPath(os.path.normpath(m.name)).parents
        if any(str(p) in links for p in parents):
            raise UnsafeArchiveError(
                f"Refusing to extract {archive}: {m.name!r} would be written through a symlink."
            )
        if m.issym():
            links.add(os.path.normpath(m.name))


def _check_extracted_links(tmp: Path) -> None:
    """Defense in depth: after extraction, every symlink must resolve inside `tmp`."""
    real = os.path.realpath(tmp)
    for p in tmp.rglob("*"):
        if p.is_symlink() and not _inside(real, os.path.relpath(os.path.realpath(p), real)):
            raise UnsafeArchiveError(f"Extracted symlink {p.relative_to(tmp)} points outside.")


def safe_extract(archive: str | Path, target: str | Path) -> Path:
    """Extract a .tar/.tar.gz/.tgz/.zip into `target`, refusing members that escape it.

    Members are checked before anything is written (`..`, absolute paths, links pointing
    outside, writes through symlinks). Extraction goes to a temporary folder beside
    `target`, then moves in: a new `target` appears atomically; into an existing one each
    top-level entry is moved, replacing an entry of the same name. A failure leaves no
    partial output.
    """
    archive, target = Path(archive), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.extract-", dir=target.parent))
    root = os.path.abspath(tmp)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    _check_member(archive, name, None, False, root)
                zf.extractall(tmp)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                _check_tar(archive, tf, root)
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tf.extractall(tmp, **extra)
            _check_extracted_links(tmp)
        else:
            raise ValueError(
                f"{archive} is neither a tar nor a zip archive (or it is truncated). "
                "Delete it and download it again."
            )
        if not target.exists():
            os.replace(tmp, target)
            return target
        for entry in tmp.iterdir():
            old = target / entry.name
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            elif old.exists() or old.is_symlink():
                old.unlink()
            os.replace(entry, old)
        return target
    except getattr(tarfile, "FilterError", ()) as e:  # Python >= 3.10.12 / 3.11.4
        raise UnsafeArchiveError(f"Refusing to extract {archive}: {e}") from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
