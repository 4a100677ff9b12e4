"""Scatter plot of generated 2-D points over the true modes.

Frames from different epochs are comparable: the axis limits come from the modes
only (never from the samples), so a generator that drifts or collapses shows up as
dots moving against a fixed background rather than as the axes rescaling.

The figure is built with ``matplotlib.figure.Figure`` and saved through the Agg
renderer, never through ``pyplot``: nothing needs a display, nothing is registered
in pyplot's global figure list (no leak over thousands of epochs), and the global
backend the user chose is left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from lit_gan.plotting.figure_file import save_figure_atomic

_MARGIN = 0.25  # of the modes' extent, on each side (ring8 -> [-3, 3], grid25 -> [-6, 6])


def _to_numpy(points: Any, name: str) -> np.ndarray:
    if hasattr(points, "detach"):  # a torch tensor, possibly on the GPU
        points = points.detach().float().cpu().numpy()
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"plot_points_2d: {name} must have shape (N, 2), got {points.shape}.")
    return points


def view_limits(modes: np.ndarray) -> tuple[float, float, float, float]:
    """Square ``(xmin, xmax, ymin, ymax)`` around the modes plus a fixed margin."""
    lo, hi = modes.min(axis=0), modes.max(axis=0)
    center, extent = (lo + hi) / 2, float((hi - lo).max())
    half = extent / 2 + (_MARGIN * extent if extent > 0 else 1.0)  # one mode: +-1
    return center[0] - half, center[0] + half, center[1] - half, center[1] + half


def plot_points_2d(
    samples: np.ndarray,
    modes: np.ndarray,
    path: str | Path | None = None,
    title: str | None = None,
    ax: Axes | None = None,
    std: float | None = None,
) -> Figure:
    """Draw ``samples`` (N, 2) as small translucent dots over ``modes`` (K, 2).

    Args:
        samples: generated points; numpy arrays or torch tensors (any device).
        modes: the true mixture means, drawn as red crosses.
        path: if given, the PNG is written atomically (temp file in the same
            directory, then ``os.replace``), so a reader never sees half a file.
            With ``ax=`` this saves the *whole* figure that ``ax`` belongs to.
        title: axes title.
        ax: draw into this axes (e.g. one panel of a "compare every loss" grid)
            instead of a new figure.
        std: per-mode std; if given, a dashed circle of radius 3 * std marks each
            mode's high-quality region (the ``ModeCoverage`` rule).

    Returns:
        The figure drawn into (``ax.figure`` when ``ax`` is given).
    """
    pts, mus = _to_numpy(samples, "samples"), _to_numpy(modes, "modes")
    if len(mus) == 0:
        raise ValueError("plot_points_2d: modes is empty; the view limits come from the modes.")
    fig = Figure(figsize=(5, 5), dpi=100) if ax is None else ax.figure
    if ax is None:
        ax = fig.add_subplot(1, 1, 1)

    xmin, xmax, ymin, ymax = view_limits(mus)
    # Modes underneath, samples on top: whether the dots sit on the modes is the point.
    ax.scatter(mus[:, 0], mus[:, 1], s=80, marker="+", color="tab:red", linewidths=1, label="modes", zorder=1)
    if std is not None:
        for mx, my in mus:
            ax.add_patch(Circle((mx, my), 3 * std, fill=False, ls="--", lw=0.8, color="tab:red", zorder=1))
    ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.3, color="tab:blue", linewidths=0, label="generated", zorder=2)
    outside = int(((pts[:, 0] < xmin) | (pts[:, 0] > xmax) | (pts[:, 1] < ymin) | (pts[:, 1] > ymax)).sum())
    if outside:  # off-view points would otherwise vanish silently
        ax.text(0.02, 0.02, f"{outside} of {len(pts)} outside view", transform=ax.transAxes, fontsize=8)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    legend = ax.legend(loc="upper right", fontsize=8)
    for handle in legend.legend_handles:
        handle.set_alpha(1.0)  # the translucent sample dot is unreadable in a legend
    if title:
        ax.set_title(title)

    if path is not None:
        save_figure_atomic(fig, path)
    return fig
