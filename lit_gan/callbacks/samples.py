"""Fixed-noise samples a person can look at, written as PNG every N generator iterations.

Images become a grid (``samples/iter_0000500.png``); 2-D points become a scatter plot over
the data's modes; a class-conditional model's grid has one row per class (row c: class c).
The noise comes from a CPU generator seeded with ``seed``, so every picture of a run (and of
its resumed continuation, on any device) shows the same z.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torchvision.utils import make_grid

from lit_gan.callbacks.periodic import PeriodicPicture, save_png, to_uint8_grid
from lit_gan.evaluation.sampling import LabelPlan, all_samples


class SampleGrid(PeriodicPicture):
    folder = key = "samples"

    def __init__(self, every_n_iterations: int = 500, num_images: int = 64, num_points: int = 2500, seed: int = 0) -> None:
        """
        Args:
            every_n_iterations: a picture every this many generator iterations (and
                always at the end of fit); 0 = only at the end.
            num_images: images in the grid (image data), in a square-ish grid. For a
                class-conditional model (``num_classes`` K) the grid has K rows, row c
                showing class c, of ``max(1, round(num_images / K))`` columns each, the
                count closest to ``num_images`` (Python's round, ties to even; 64 images,
                10 classes: 10 rows of 6); sample i of ``seed`` has class i // columns
                (``LabelPlan(K, per_class=columns)``).
            num_points: points in the scatter plot (2-D data).
            seed: seed of the fixed noise.
        """
        super().__init__(every_n_iterations)
        self.num_images, self.num_points, self.seed = num_images, num_points, seed

    def render(self, trainer, pl_module, path: Path) -> bool:
        if hasattr(pl_module, "preview"):  # image-to-image: rows of input | output | target
            return self.render_translations(trainer, pl_module, path)
        if len(pl_module.data_shape) == 1:

            from lit_gan.plotting.scatter import plot_points_2d

            points = self.samples(pl_module, self.num_points).float().numpy()
            finite = np.isfinite(points).all(axis=1)
            title = f"iteration {pl_module.iterations}"
            if not finite.all():  # say so rather than draw an empty plot
                title += f": {int((~finite).sum())} of {len(points)} points are NaN / inf (not drawn)"
                self._warn_not_finite(pl_module, f"{int((~finite).sum())} of {len(points)} points are NaN / inf")
            dm = trainer.datamodule
            modes = np.asarray(getattr(dm, "modes", np.zeros((0, 2))))
            plot_points_2d(points[finite], modes, path=path, title=title, std=getattr(dm, "mode_std", None))
        else:
            num_classes = getattr(pl_module, "num_classes", None)
            if num_classes:  # one row per class
                nrow = max(1, round(self.num_images / num_classes))
                images = self.samples(pl_module, nrow * num_classes, LabelPlan(num_classes, per_class=nrow)).float()
            else:
                nrow = math.ceil(math.sqrt(self.num_images))
                images = self.samples(pl_module, self.num_images).float()
            grid = to_uint8_grid(images.nan_to_num(0.0, 0.0, 0.0), nrow=nrow)
            bad = ~torch.isfinite(images).all(dim=1, keepdim=True)  # (N, 1, H, W)
            if bad.any():  # non-finite pixels in red, and a warning naming how many images
                mask = make_grid(bad.float(), nrow=nrow, padding=2, pad_value=0.0)[0].numpy() > 0.5  # same layout
                grid[mask] = (255, 0, 0)
                self._warn_not_finite(pl_module, f"{int(bad.flatten(1).any(1).sum())} of {len(images)} images have "
                                      "NaN / inf pixels (drawn red)")
            save_png(grid, path)
        return True

    def samples(self, pl_module, n: int, plan: LabelPlan | None = None) -> torch.Tensor:
        """Samples 0..n-1 of ``seed`` (lit_gan.evaluation.sampling), on the CPU; a conditional
        model's labels from ``plan`` (default: classes cycled)."""
        return all_samples(pl_module, n, self.seed, plan)

    @staticmethod
    def _warn_not_finite(pl_module, what: str) -> None:
        from lightning.pytorch.utilities import rank_zero_warn

        rank_zero_warn(f"samples at iteration {pl_module.iterations}: {what}; the generator has diverged")

    def render_translations(self, trainer, pl_module, path: Path) -> bool:
        """The first images of the val split (else test, else train), the same every time."""
        from torch.utils.data import default_collate

        from lit_gan.evaluation.real import split_dataset

        dataset = None
        for split in ("val", "test", "train"):
            try:
                dataset = split_dataset(trainer.datamodule, split)
            except (ValueError, AttributeError):
                continue
            if len(dataset):
                break
        if not dataset:
            return False
        rows = min(8, self.num_images, len(dataset))
        columns = pl_module.preview(default_collate([dataset[i] for i in range(rows)]))
        grid = torch.stack([column[i].cpu() for i in range(rows) for column in columns])
        save_png(to_uint8_grid(grid, nrow=len(columns)), path)
        return True
