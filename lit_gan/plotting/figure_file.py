"""A figure saved as a PNG file that a reader never sees half-written."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from lit_gan.atomic import atomic_path


def save_figure_atomic(fig: Figure, path: str | Path) -> None:
    """Write ``fig`` as PNG to ``path`` atomically (see lit_gan.atomic)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
