"""The latent-arithmetic figure, laid out as Radford et al. 2015, Fig. 7.

Left, one row per group: its K member samples (titled with their sample index and, for
classifier-chosen groups, the classifier's confidence), then the image of the group's mean
z. Right: the 3 x 3 neighbourhood, the result (sum of the signed means) in the centre with
a red frame, the 8 others with uniform noise of +-scale added to it.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from lit_gan.arithmetic.run import ArithmeticResult
from lit_gan.conversion import to_uint8


def _show(ax: Axes, image: Tensor, title: str | None = None, frame: str | None = None) -> None:
    pixels = to_uint8(image).permute(1, 2, 0).numpy()
    if pixels.shape[-1] == 1:
        ax.imshow(pixels[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    else:
        ax.imshow(pixels, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(frame is not None)
        if frame is not None:
            spine.set_edgecolor(frame)
            spine.set_linewidth(2.5)
    if title:
        ax.set_title(title, fontsize=7, pad=2)


def _blank(ax: Axes) -> None:
    ax.set_axis_off()


def arithmetic_figure(result: ArithmeticResult, title: str | None = None) -> Figure:
    groups = len(result.terms)
    width = max(len(i) for i in result.indices) + 1  # the members, then the mean
    rows = max(groups, 3)
    fig = Figure(figsize=(1.15 * (width + 3) + 1.6, 1.25 * rows + 0.9), dpi=110)
    outer = fig.add_gridspec(1, 2, width_ratios=[width, 3], wspace=0.25, left=0.16, right=0.98, top=0.86,
                             bottom=0.04)
    left = outer[0].subgridspec(rows, width, wspace=0.08, hspace=0.35)
    for g, term in enumerate(result.terms):
        members, scores = result.member_images[g], result.scores[g]
        for k in range(width - 1):
            ax = fig.add_subplot(left[g, k])
            if k >= len(members):
                _blank(ax)
                continue
            caption = f"#{int(result.indices[g][k])}" + ("" if scores is None else f" ({float(scores[k]):.2f})")
            _show(ax, members[k], caption)
        ax = fig.add_subplot(left[g, width - 1])
        _show(ax, result.mean_images[g], "mean z", frame="tab:blue")
        sign = "+" if term.sign > 0 else "-"
        first = fig.axes[-width]
        first.text(-0.12, 0.5, f"{sign} {result.descriptions[g]}", transform=first.transAxes, ha="right",
                   va="center", fontsize=8, wrap=True)
    for g in range(groups, rows):
        for k in range(width):
            _blank(fig.add_subplot(left[g, k]))
    right = outer[1].subgridspec(3, 3, wspace=0.05, hspace=0.05)
    for cell in range(9):
        ax = fig.add_subplot(right[cell // 3, cell % 3])
        _show(ax, result.neighbour_images[cell], frame="tab:red" if cell == 4 else None)
    top = fig.axes[-8]  # the middle of the grid's first row
    top.set_title(f"result (centre) and +-{result.noise_scale:g} uniform noise", fontsize=8, pad=4)
    label = "" if result.label is None else f", label {result.label}"
    fig.suptitle(title or f"{result.expression}\nseed {result.seed}{label}; decoded in {result.decoding}", fontsize=9)
    return fig


def save_arithmetic_figure(result: ArithmeticResult, path: str | Path) -> Path:
    """Draw and write the PNG atomically."""
    from lit_gan.plotting.figure_file import save_figure_atomic

    fig = arithmetic_figure(result)
    save_figure_atomic(fig, path)
    return Path(path)

