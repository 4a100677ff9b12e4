"""Dataset archives of the pix2pix / CycleGAN servers: verified, resumable download and a
staged safe extraction, so a half-extracted dataset never looks complete."""

from __future__ import annotations

import os
import shutil
import tarfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from lit_gan.data.image_folders import list_images
from lit_gan.download import DownloadError, download_file, safe_extract


@dataclass(frozen=True)
class Archive:
    """A dataset archive on the pix2pix/CycleGAN servers and what it must unpack to."""

    urls: tuple[str, ...]  # mirrors, tried in order
    size: int | None  # bytes
    sha256: str | None
    counts: dict[str, int]  # folder under <dataset>/ -> its exact number of images

    @property
    def filename(self) -> str:
        return self.urls[0].rsplit("/", 1)[-1]


def count_mismatches(folder: Path, counts: dict[str, int]) -> list[str]:
    return [f"{sub}/ holds {n} images, expected {want}" for sub, want in counts.items()
            if (n := len(list_images(folder / sub))) != want]


def warn_on_counts(folder: Path, counts: dict[str, int]) -> None:
    """A hand-placed copy may differ on purpose (a subset), so only warn."""
    if wrong := count_mismatches(folder, counts):
        warnings.warn(f"{folder}: {'; '.join(wrong)}. If a copy or extraction was interrupted, redo it.")


def manual_steps(name: str, root: Path, archive: Archive | None, layout: str, downloadable: list[str]) -> str:
    if archive is None:
        return (f"No download source is known for {name!r} (`download: true` works for {', '.join(downloadable)}): "
                f"place the images by hand as {layout}.")
    unpack = (f"unzip {archive.filename} -d {root}" if archive.filename.endswith(".zip")
              else f"tar -xzf {archive.filename} -C {root}")
    return ("Fix it in one of these ways:\n"
            "  1. let it download: `download: true` under `data.init_args` in the config, or\n"
            "     `--data.init_args.download=true` on the command line;\n"
            f"  2. download {archive.urls[0]} yourself and unpack it: `{unpack}`;\n"
            f"  3. place the images by hand as {layout}.")


def download_dataset(root: Path, name: str, archives: dict[str, Archive], required: tuple[str, ...],
                     layout: str) -> Path:
    """Fetch and unpack ``root/<name>`` unless its ``required`` folders hold images.

    The archive (kept as ``root/<file>``; delete it when done) is size- or sha256-checked and
    resumable (``download_file``); it is unpacked by ``safe_extract`` into ``root/.<name>.extracting``
    and renamed to ``root/<name>`` only when every folder holds its exact image count, so a
    half-extracted dataset never looks complete. An existing but incomplete ``root/<name>`` is an
    error, never overwritten: it may be a copy in progress.
    """
    folder, archive = root / name, archives.get(name)
    missing = [s for s in required if not list_images(folder / s)]
    if not missing:
        return folder
    if folder.exists():
        raise FileExistsError(
            f"{folder} exists but {', '.join(f'{s}/' for s in missing)} is missing or empty. A finished download "
            f"appears in one step, so this is a copy by hand or of another origin; it is left untouched. Complete "
            f"it ({layout}), or move it away and run again to download.")
    if archive is None:
        raise ValueError(manual_steps(name, root, None, layout, sorted(archives)))
    file = root / archive.filename
    try:
        download_file(list(archive.urls), file, sha256=archive.sha256, expected_size=archive.size)
    except DownloadError as e:
        raise DownloadError(f"{e}\nOr skip the archive: get {name} another way and place it as {layout}.") from e
    staging = root / f".{name}.extracting"
    shutil.rmtree(staging, ignore_errors=True)  # only ever left by an interrupted run of ours
    try:
        safe_extract(file, staging)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as e:
        raise DownloadError(f"{file} is damaged ({type(e).__name__}: {e}): delete it and run again.") from e
    unpacked = staging / name if (staging / name).is_dir() else staging
    if wrong := count_mismatches(unpacked, archive.counts):
        shutil.rmtree(staging, ignore_errors=True)
        raise DownloadError(f"{file} did not unpack to the expected {name} ({'; '.join(wrong)}). Delete {file} "
                            f"and run again, or place the data by hand as {layout}.")
    os.replace(unpacked, folder)
    shutil.rmtree(staging, ignore_errors=True)
    return folder
