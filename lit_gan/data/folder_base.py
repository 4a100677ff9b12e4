"""What the image-to-image datamodules (pix2pix's paired, CycleGAN's unpaired) share beyond the
loaders: a dataset is the folder ``root/<dataset>/``, fetched from its server (``archives``) or
built from (Fashion-)MNIST (lit_gan.data.derived), cropped and flipped per item from a seed.

A subclass names its ``archives``, its ``kind`` (which derived datasets fit it), the ``required``
folders under ``<dataset>/``, and describes its ``layout()``; it reads the folders in ``setup``
with ``list_folders``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from lit_gan.data.archives import Archive, download_dataset, manual_steps, warn_on_counts
from lit_gan.data.base import SplitDataModule
from lit_gan.data.derived import build_derived, how_to_build, is_derived
from lit_gan.data.image_folders import check_sizes, list_images


class ImageFolderDataModule(SplitDataModule):
    """``root/<dataset>/<folder>/*.jpg|png`` with training jitter (``load_size``, ``crop_size``, ``flip``)."""

    archives: ClassVar[dict[str, Archive]] = {}  # datasets ``download`` can fetch
    kind: ClassVar[str] = ""  # "paired" / "unpaired": the derived datasets of this shape
    required: ClassVar[tuple[str, ...]] = ()  # folders that must hold images

    def __init__(self, root: str, dataset: str, load_size: int, crop_size: int, flip: bool, batch_size: int,
                 num_workers: int, download: bool, seed: int | None, pin_memory: bool,
                 also_look_in: list[str] | None) -> None:
        super().__init__(batch_size, num_workers, pin_memory)
        if not dataset or Path(dataset).name != dataset:
            example = next(iter(self.archives), "facades")
            raise ValueError(f"dataset must be a folder name under root (like {example!r}), got {dataset!r}")
        check_sizes(load_size, crop_size, batch_size, num_workers)
        self.root, self.dataset = Path(root), dataset
        self.load_size, self.crop_size, self.flip = load_size, crop_size, flip
        self.download, self.seed = download, seed
        self.also_look_in = list(also_look_in or [])

    @property
    def data_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image; known before setup so the CLI can link it into the model."""
        return (3, self.crop_size, self.crop_size)

    @property
    def folder(self) -> Path:
        return self.root / self.dataset

    def layout(self) -> str:
        """Where the images go, for the messages that say how to place them."""
        raise NotImplementedError

    def train_order(self) -> dict[str, Any]:
        """(seed, epoch)-ordered, with per-item seeds for the crops and flips."""
        return {"seed": self.seed, "item_seeds": True}

    def prepare_data(self) -> None:
        """Rank 0: build a derived dataset (cached; with ``download``, its (Fashion-)MNIST source is fetched
        when found nowhere), or download and extract when asked and a ``required`` folder is missing."""
        if is_derived(self.dataset):
            build_derived(self.dataset, self.root, self.also_look_in, kind=self.kind, download=self.download)
            return
        if self.download:
            download_dataset(self.root, self.dataset, self.archives, self.required, self.layout())

    def list_folders(self, folders: tuple[str, ...]) -> dict[str, list[str]]:
        """The image names of each of ``folders``; a FileNotFoundError saying how to get the data when a
        ``required`` one is empty, a warning when a known dataset's counts are off."""
        names = {s: list_images(self.folder / s) for s in folders}
        empty = [s for s in self.required if not names[s]]
        if empty:
            raise FileNotFoundError(
                f"{self.dataset} not found: no images in {' or '.join(str(self.folder / s) for s in empty)}.\n"
                + (how_to_build(self.dataset, self.root) if is_derived(self.dataset) else
                   manual_steps(self.dataset, self.root, self.archives.get(self.dataset), self.layout(),
                                sorted(self.archives))))
        if self.dataset in self.archives:
            warn_on_counts(self.folder, self.archives[self.dataset].counts)
        return names
