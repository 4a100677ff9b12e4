"""The Inception-v3 feature extractor of FID / KID / IS, with the reference weights.

The weights are torch-fidelity's port of the TF graph of 2015-12-05 (the one the FID and
IS papers' numbers come from). They are looked for at a path the user gives, else in
``$TORCH_HOME/hub/checkpoints/``; a missing file is downloaded once when the network
allows, and otherwise stops with a message naming the file, its URL and where to put it.
Resizing to 299 uses torch-fidelity's TF1-style bilinear filter (``antialias=False``):
torchmetrics' default ``antialias=True`` (since 1.8) gives numbers that no longer match
torch-fidelity or the TF reference.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from torch import Tensor, nn

from lit_gan.conversion import to_rgb
from lit_gan.download import DownloadError, download_file

WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + WEIGHTS_FILE
WEIGHTS_SHA256_PREFIX = "6726825d"  # torch.hub's convention: the file name carries a sha256 prefix
WEIGHTS_ENV = "LIT_GAN_INCEPTION_WEIGHTS"  # an explicit location, e.g. baked into the Docker image
POOL_FEATURES, LOGITS = "2048", "logits_unbiased"  # FID/KID: pool3; IS: logits (torch-fidelity's choice)


class InceptionWeightsMissing(FileNotFoundError):
    """The Inception weights are neither on disk nor downloadable."""


def default_weights_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def missing_message(dest: Path, reason: str) -> str:
    return (
        f"Inception weights {WEIGHTS_FILE} are needed for FID / KID / IS with the inception extractor, "
        f"and {reason}.\n"
        f"  1. on a machine with internet: download {WEIGHTS_URL}\n"
        f"  2. put the file at {dest}  (the folder is $TORCH_HOME/hub/checkpoints/, TORCH_HOME defaults to ~/.cache/torch),\n"
        "     or anywhere and pass its path (--inception-weights PATH for `evaluate`, inception_weights: PATH for the callback,\n"
        f"     or the environment variable {WEIGHTS_ENV}).\n"
        "  Or use a domain feature extractor that needs no download: `python -m lit_gan train-classifier --config "
        "experiments/classifiers/fashion_mnist.yaml`, then --feature-extractor extractors/fashion_mnist_classifier.pt2."
    )


def download_weights(dest: str | Path) -> Path:
    """Fetch the weights to ``dest`` (atomic, resumable) and check their sha256 prefix."""
    dest = Path(dest)
    try:
        download_file([WEIGHTS_URL], dest, timeout=30.0)
    except DownloadError as err:
        lines = str(err).splitlines()
        raise InceptionWeightsMissing(missing_message(dest, f"downloading it failed ({lines[2].strip() if len(lines) > 2 else err})")) from None
    if not sha256_of(dest).startswith(WEIGHTS_SHA256_PREFIX):
        dest.unlink()
        raise InceptionWeightsMissing(missing_message(dest, "the downloaded file failed its checksum (deleted)"))
    return dest


def find_inception_weights(path: str | Path | None = None, download: bool = True) -> Path:
    """The weights file: ``path`` if given, else ``$LIT_GAN_INCEPTION_WEIGHTS`` if set (the
    Docker image bakes them there), else the torch hub cache (downloading if allowed)."""
    if path is None and os.environ.get(WEIGHTS_ENV):
        path = os.environ[WEIGHTS_ENV]
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise InceptionWeightsMissing(missing_message(path, f"{path} does not exist"))
        return path
    dest = default_weights_path()
    if dest.is_file():
        return dest
    if not download:
        raise InceptionWeightsMissing(missing_message(dest, f"{dest} does not exist (downloading is off)"))
    return download_weights(dest)


def inception_problem(path: str | Path | None = None, download: bool = True) -> tuple[str | None, str | None]:
    """(the weights file, None) when Inception features can be computed here, else (None,
    why not): the one availability check behind ``evaluate``, the metrics callback and
    ``reproduce``."""
    try:
        return str(find_inception_weights(path, download)), None
    except InceptionWeightsMissing as err:
        return None, str(err)


class InceptionFeatures(nn.Module):
    """uint8 images (N, 1 or 3, H, W) -> (pool features (N, 2048), logits (N, 1008))."""

    def __init__(self, weights: Path) -> None:
        super().__init__()
        from torchmetrics.image.fid import NoTrainInceptionV3

        self.net = NoTrainInceptionV3(name="inception-v3-compat", features_list=[POOL_FEATURES, LOGITS],
                                      feature_extractor_weights_path=str(weights), antialias=False)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        pool, logits = self.net._torch_fidelity_forward(to_rgb(images))  # the public forward keeps one output
        return pool, logits
