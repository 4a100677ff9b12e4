"""2-D Gaussian mixtures: the classic mode-collapse benchmark.

Two layouts, each with its paper's constants:

* ``ring8``: 8 isotropic Gaussians with means evenly spaced on a circle of radius 2,
  std 0.02 (Metz et al. 2017, "Unrolled GANs", appendix).
  The PacGAN and unrolled-GAN reference *code* uses radius 1, std 0.01: the same
  std/radius ratio, so the same benchmark up to a scale factor of 2.
* ``grid25``: 25 isotropic Gaussians with means on the grid {-4, -2, 0, 2, 4}^2,
  std 0.05 (Srivastava et al. 2017, VEEGAN "2D Grid"; Lin et al. 2018, PacGAN,
  whose released config has ``MEANS = product(range(-4, 5, 2), repeat=2)`` and
  ``VARIANCES = 0.05**2 * I``).

Because the modes are known exactly, mode coverage can be *counted*
(``lit_gan.metrics.modes``) instead of estimated with a feature network.
"""

from __future__ import annotations

import math
from typing import Literal

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

from lit_gan.data.resumable import resumable_train_loader

ToyName = Literal["ring8", "grid25"]

# Per-mode standard deviation each paper used (see the module docstring for sources).
PAPER_STD: dict[str, float] = {
    "ring8": 0.02,  # Metz et al. 2017, appendix (radius 2)
    "grid25": 0.05,  # Srivastava et al. 2017 (VEEGAN); Lin et al. 2018 (PacGAN)
}

# Offsets added to ``seed`` so the three splits are independent draws yet all
# follow from the one ``seed`` hyperparameter.
_SPLIT_OFFSET = {"train": 0, "val": 1, "test": 2}


def toy_modes(dataset: ToyName) -> Tensor:
    """The mixture means, shape (K, 2), float32; mode ``k`` is row ``k``."""
    if dataset == "ring8":
        # Metz et al. 2017: radius 2, 8 modes at angles 2*pi*k/8 (k = 0 starts at (2, 0)).
        angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
        return (2.0 * torch.stack([angles.cos(), angles.sin()], dim=1)).float()
    if dataset == "grid25":
        # VEEGAN / PacGAN: every point of {-4, -2, 0, 2, 4}^2, row-major in (x, y).
        axis = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
        return torch.cartesian_prod(axis, axis)
    raise ValueError(f"Unknown toy dataset {dataset!r}: choose 'ring8' or 'grid25'.")


def sample_mixture(modes: Tensor, std: float, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Draw ``n`` points from the equal-weight isotropic mixture around ``modes``.

    Returns ``(points float32 (n, 2), mode_index int64 (n,))``. All randomness comes
    from ``generator``, so the same seed gives the same points on every machine/rank.
    """
    index = torch.randint(len(modes), (n,), generator=generator)
    noise = torch.randn(n, modes.shape[1], generator=generator)
    return (modes[index] + std * noise).float(), index


class Toy2DDataModule(L.LightningDataModule):
    """In-memory 2-D mixture of Gaussians with known modes.

    Items are ``(point float32 (2,), mode_index int64)``. The mode index is not declared as a
    class (no ``num_classes``, lit_gan.data.contract): conditional models refuse this data.
    ``modes``, ``mode_std`` and ``data_shape`` are available right after construction (the mode-coverage callback
    and model constructors read them); the points themselves are drawn in ``setup``.
    Every split is generated from ``seed`` with its own ``torch.Generator``, so every
    DDP rank holds the identical data without any communication.

    Args:
        dataset: ``"ring8"`` or ``"grid25"``.
        num_train: training points (Lightning shuffles them each epoch).
        num_val: points in the validation split, and again in the test split.
        std: per-mode standard deviation; ``None`` means the paper default
            (0.02 for ring8, 0.05 for grid25).
        batch_size: batch size of every loader.
        seed: seed of the data draw (train uses ``seed``, val ``seed + 1``, test ``seed + 2``).
    """

    def __init__(
        self,
        dataset: ToyName = "ring8",
        num_train: int = 100_000,
        num_val: int = 10_000,
        std: float | None = None,
        batch_size: int = 256,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        if dataset not in PAPER_STD:
            raise ValueError(f"Toy2DDataModule(dataset={dataset!r}): choose 'ring8' or 'grid25'.")
        if std is not None and not std > 0:
            raise ValueError(f"Toy2DDataModule(std={std}): std must be > 0, or None for the paper default.")
        if batch_size < 1 or num_val < 1:
            raise ValueError(f"Toy2DDataModule: batch_size ({batch_size}) and num_val ({num_val}) must be >= 1.")
        if num_train < batch_size:
            # The train loader drops the last incomplete batch: fewer points than one
            # batch would silently give zero training steps.
            raise ValueError(
                f"Toy2DDataModule: num_train ({num_train}) < batch_size ({batch_size}) leaves no full "
                "training batch (drop_last=True). Raise num_train or lower batch_size."
            )
        self._modes = toy_modes(dataset)
        self._std = float(PAPER_STD[dataset] if std is None else std)
        self._splits: dict[str, TensorDataset] = {}

    # ---- what callbacks and models may read before setup -------------------------
    @property
    def data_shape(self) -> tuple[int, ...]:
        return (2,)

    @property
    def modes(self) -> Tensor:
        """Mixture means, (K, 2) float32 (a copy: callers cannot move the benchmark)."""
        return self._modes.clone()

    @property
    def mode_std(self) -> float:
        return self._std

    # ---- the split datasets after setup (lit_gan.data.contract); None before ------------
    @property
    def train_set(self) -> TensorDataset | None:
        return self._splits.get("train")

    @property
    def val_set(self) -> TensorDataset | None:
        return self._splits.get("val")

    @property
    def test_set(self) -> TensorDataset | None:
        return self._splits.get("test")

    # ---- Lightning hooks ---------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        sizes = {"train": self.hparams.num_train, "val": self.hparams.num_val, "test": self.hparams.num_val}
        for split, n in sizes.items():
            if split in self._splits:  # setup runs once per stage; draw each split once
                continue
            g = torch.Generator().manual_seed(self.hparams.seed + _SPLIT_OFFSET[split])
            self._splits[split] = TensorDataset(*sample_mixture(self._modes, self._std, n, g))

    def _split(self, name: str) -> TensorDataset:
        if name not in self._splits:
            raise RuntimeError(f"Toy2DDataModule: call setup() before asking for the {name} loader.")
        return self._splits[name]

    # The data is a few MB in memory: worker processes would only add start-up cost.
    def train_dataloader(self) -> DataLoader:
        # resumable mid-epoch: the loader's position goes into checkpoints
        return resumable_train_loader(self._split("train"), self.hparams.batch_size)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self._split("val"), batch_size=self.hparams.batch_size, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self._split("test"), batch_size=self.hparams.batch_size, shuffle=False)
