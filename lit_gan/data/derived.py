"""Image-to-image datasets derived from MNIST / Fashion-MNIST, so pix2pix and CycleGAN train on real images.

Paired, pix2pix's layout (``paired.py``): ``root/<name>/{train,test}/{index:05d}_c{label}.png``, each
file A | B side by side (2S wide, S high, RGB), A = edges drawn black on white (edges2shoes'
convention), B = the image resized to S (antialiased bilinear, gray replicated to RGB). ``index``
is the image's index in the source split (train 60,000, test 10,000: the source's own split).
    edges2fashion (Fashion-MNIST, 32 px), edges2fashion64 (64 px), edges2mnist (MNIST, 32 px)

Unpaired, CycleGAN's layout (``unpaired.py``): ``root/<name>/{trainA,trainB,testA,testB}/{index:05d}.png``,
A = the images of one class, B = those of another (train from the source's train split, test
from its test split), 32 px RGB.
    sneaker2boot (Fashion-MNIST 7 Sneaker -> 9 Ankle boot), tshirt2shirt (0 T-shirt/top -> 6 Shirt),
    and any pair by name: fashion_mnist_<a>to<b>, mnist_<a>to<b> (e.g. fashion_mnist_5to7)

Edges come from ``kornia.filters.canny`` (settings: ``derived_build.canny_settings``): batched torch,
the same stack as the rest of the project, so no OpenCV or scikit-image binary dependency.

Building (``build_derived``) is cached and crash-safe: ``root/<name>/dataset.json`` records a key
(sha256 of the four source files, the spec and ``VERSION``) and the counts; a matching folder is
reused as is. Otherwise everything is written into ``root/.<name>.partial-<pid>`` and renamed into
place at the end, so ``root/<name>`` is never half written. The same source gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

from lit_gan.data.derived_build import DerivedSpec, build_into
from lit_gan.data.image_folders import list_images
from lit_gan.data.mnist import FILES, VARIANTS, MNISTDataModule

VERSION = 1  # of the files' format and rendering; bumping it rebuilds every cached dataset
PAIRED = {"edges2fashion": ("fashion", 32), "edges2fashion64": ("fashion", 64), "edges2mnist": ("mnist", 32)}
UNPAIRED = {"sneaker2boot": ("fashion", 7, 9), "tshirt2shirt": ("fashion", 0, 6)}
UNPAIRED_SIZE = 32
PATTERN = re.compile(r"(fashion_mnist|mnist)_(\d+)to(\d+)")
PREFIX_VARIANT = {"fashion_mnist": "fashion", "mnist": "mnist"}
SOURCE_NAMES = {"fashion": "Fashion-MNIST", "mnist": "MNIST"}
CLASS_IN_NAME = re.compile(r"_c(\d+)\.png$")


class Prepared(NamedTuple):
    folder: Path
    images: int  # in all split folders together
    built: bool  # False: the cached folder was reused


def known_names() -> list[str]:
    return [*PAIRED, *UNPAIRED]


def names_help() -> str:
    return (f"{', '.join(known_names())}, or any class pair as fashion_mnist_<a>to<b> / mnist_<a>to<b> "
            "(classes 0..9, a != b; e.g. fashion_mnist_5to7)")


def is_derived(name: str) -> bool:
    """Whether ``name`` is (or is shaped like) a derived dataset's name; ``spec_of`` says if it is valid."""
    return name in PAIRED or name in UNPAIRED or PATTERN.fullmatch(name) is not None


def how_to_build(name: str, root: Path) -> str:
    """What to do when a derived dataset's folder is empty (setup ran before prepare_data)."""
    return (f"{name} is made from {SOURCE_NAMES[spec_of(name).variant]}: `python -m lit_gan prepare {name} "
            f"--root {root}` builds it (`fit` does so itself in prepare_data; add --also-look-in DIR "
            "where the IDX files are, e.g. /usr/share/datasets/fashion-mnist).")


def spec_of(name: str) -> DerivedSpec:
    """The spec of a derived dataset; a ValueError with one line saying what to do for a bad name."""
    if name in PAIRED:
        variant, size = PAIRED[name]
        return DerivedSpec(name, "paired", variant, size)
    if name in UNPAIRED:
        variant, a, b = UNPAIRED[name]
        return DerivedSpec(name, "unpaired", variant, UNPAIRED_SIZE, (a, b))
    match = PATTERN.fullmatch(name)
    if match is None:
        raise ValueError(f"unknown derived dataset {name!r}: known are {names_help()}")
    prefix, *digits = match.groups()
    for d in digits:
        if d != str(int(d)) or not 0 <= int(d) <= 9:
            raise ValueError(f"{name}: class {d} is out of range; classes are single digits 0..9 "
                             f"({class_list(PREFIX_VARIANT[prefix])})")
    a, b = int(digits[0]), int(digits[1])
    if a == b:
        raise ValueError(f"{name}: A and B are the same class ({a}); name two different classes, "
                         f"e.g. {prefix}_{a}to{(a + 1) % 10}")
    return DerivedSpec(name, "unpaired", PREFIX_VARIANT[prefix], UNPAIRED_SIZE, (a, b))


def class_list(variant: str) -> str:
    return f"{SOURCE_NAMES[variant]}: " + ", ".join(f"{i} {n}" for i, n in enumerate(VARIANTS[variant].class_names))


def class_of_name(name: str) -> int:
    """The class in a paired file's name: ``class_of_name("00042_c7.png") == 7``."""
    match = CLASS_IN_NAME.search(Path(name).name)
    if match is None:
        raise ValueError(f"{name!r} carries no class: derived paired files are named like '00042_c7.png'")
    return int(match.group(1))


def read_info(folder: Path) -> dict | None:
    """``folder/dataset.json`` as a dict; None when it is missing or unreadable."""
    try:
        info = json.loads((Path(folder) / "dataset.json").read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def find_source(spec: DerivedSpec, root: Path, search_dirs: Sequence[str | Path], download: bool = False
                ) -> dict[str, Path]:
    """The four IDX files, searched as MNISTDataModule does: ``root/<Folder>/raw``, ``root``, ``search_dirs``;
    with ``download``, fetched into ``root/<Folder>/raw`` (md5-verified) when none of them holds them."""
    dm = MNISTDataModule(root=str(root), variant=spec.variant, also_look_in=[str(d) for d in search_dirs],
                         download=download)
    dm.prepare_data()  # downloads only with `download` and only when the files are found nowhere
    files = dm.find_files()
    if files is not None:
        return files
    dirs = "\n".join(f"  {d}" for d in dm.search_dirs())
    steps = []
    if spec.variant == "fashion":
        steps.append("on Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist`, then pass "
                     "`--also-look-in /usr/share/datasets/fashion-mnist` (prepare) or\n"
                     "     `also_look_in: [/usr/share/datasets/fashion-mnist]` under `data.init_args`;")
    steps.append("let them download: `download: true` under `data.init_args` (the pix2pix / CycleGAN "
                 f"datamodules then fetch them into {dm.search_dirs()[0]}), or once by hand:\n"
                 "     `python -c \"from lit_gan.data import MNISTDataModule as M; "
                 f"M('{root}', '{spec.variant}', download=True).prepare_data()\"`;")
    steps.append("copy the four files (together, raw or .gz) into one of the folders above.")
    steps_text = "\n".join(f"  {i}. {s}" for i, s in enumerate(steps, 1))
    raise FileNotFoundError(
        f"{spec.name} is made from {SOURCE_NAMES[spec.variant]}, whose files ({', '.join(FILES)}; each raw or "
        f".gz) are not in any of:\n{dirs}\nGet them in one of these ways:\n{steps_text}")


def source_key(files: dict[str, Path], spec: DerivedSpec) -> str:
    """sha256 of the four source files' bytes (as found: raw or .gz), the spec and VERSION."""
    h = hashlib.sha256()
    for name in FILES:
        with open(files[name], "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    h.update(json.dumps({**asdict(spec), "canny": spec.canny, "version": VERSION}, sort_keys=True).encode())
    return h.hexdigest()


def counts_on_disk(folder: Path, spec: DerivedSpec) -> dict[str, int]:
    return {sub: len(list_images(folder / sub)) for sub in spec.folders}


def prepare_derived(name: str, root: str | Path, search_dirs: Sequence[str | Path] = (), progress: bool = True,
                    kind: str | None = None, download: bool = False) -> Prepared:
    """Build ``root/<name>`` (module docstring), or reuse it when its key and counts match.

    ``kind`` ("paired" / "unpaired"): the layout the caller reads; another kind is a ValueError.
    Raises FileNotFoundError (naming the folders searched) when the source files are missing.
    """
    spec, root = spec_of(name), Path(root)
    if kind is not None and spec.kind != kind:
        module = "UnpairedImageDataModule (CycleGAN)" if spec.kind == "unpaired" else "PairedImageDataModule (pix2pix)"
        article = "an" if spec.kind == "unpaired" else "a"
        raise ValueError(f"{name} is {article} {spec.kind} dataset ({'/, '.join(spec.folders)}/): use it with {module}")
    files = find_source(spec, root, search_dirs, download)
    key, folder = source_key(files, spec), root / name
    info = read_info(folder)
    if info is not None and info.get("key") == key and info.get("counts") == counts_on_disk(folder, spec):
        return Prepared(folder, sum(info["counts"].values()), built=False)
    if folder.exists() and info is None:
        raise FileExistsError(f"{folder} exists but was not built by lit_gan (no readable dataset.json); "
                              "move it away or delete it, then run again")
    root.mkdir(parents=True, exist_ok=True)
    remove_stale(root, name)
    staging = root / f".{name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        build_into(staging, spec, files, {"version": VERSION, "key": key}, progress)
        counts = read_info(staging)["counts"]
        if (read_info(folder) or {}).get("key") == key and counts_on_disk(folder, spec) == counts:
            pass  # another process (a node on the same disk) built the same meanwhile: keep its folder
        elif folder.exists():  # stale or outdated: aside, then the new one in, then delete the old one
            aside = root / f".{name}.old-{os.getpid()}"
            os.replace(folder, aside)
            try:
                os.replace(staging, folder)
            except BaseException:
                os.replace(aside, folder)
                raise
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Prepared(folder, sum(counts.values()), built=True)


def build_derived(name: str, root: str | Path, search_dirs: Sequence[str | Path] = (), progress: bool = True,
                  kind: str | None = None, download: bool = False) -> Path:
    """``prepare_derived``'s folder: ``root/<name>``, built or cached."""
    return prepare_derived(name, root, search_dirs, progress, kind, download).folder


def remove_stale(root: Path, name: str) -> None:
    """Staging / aside folders of builds whose process is gone (killed mid-build)."""
    for path in root.glob(f".{name}.*-*"):
        kind, _, pid = path.name[len(name) + 2:].rpartition("-")
        if kind in ("partial", "old") and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftover (a pid reused after a crash): nobody else builds it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, as another user's
        return True
    return True


def describe() -> list[str]:
    """One line per known dataset, for ``prepare --list``."""
    lines = [f"{n:<18} paired    {SOURCE_NAMES[v]}, {s} px: A = canny edges (black on white), B = image; "
             "train/ 60,000, test/ 10,000" for n, (v, s) in PAIRED.items()]
    for n, (v, a, b) in UNPAIRED.items():
        names = VARIANTS[v].class_names
        lines.append(f"{n:<18} unpaired  {SOURCE_NAMES[v]}, {UNPAIRED_SIZE} px: A = {a} {names[a]}, B = {b} {names[b]}")
    lines.append(f"{'<prefix>_<a>to<b>':<18} unpaired  any class pair, {UNPAIRED_SIZE} px: fashion_mnist_<a>to<b> or "
                 "mnist_<a>to<b>, classes 0..9, a != b (e.g. fashion_mnist_5to7)")
    return lines
