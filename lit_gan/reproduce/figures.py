"""Figures a table asks for with ``figure:``, drawn from the runs reproduce just trained.

``figure: {kind: curves, panels: [...]}``: what the runs logged during training
(lit_gan.reproduce.curves).

``figure: {kind: modes, columns: 5}``: 2-D toy rows only. Each row's first-seed generator draws
the 2,500 points of noise seed 0 (the same points its ``modes`` numbers count) over the true
modes, one panel per row, ``columns`` panels per line, titled with that run's numbers. So a
table of methods x datasets reads as one line per dataset, one column per method.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from lit_gan.reproduce.report import RowResult


def _panel_title(name: str, values: dict[str, Any]) -> str:
    parts = [f"{values['modes_covered_min1']}/{values['num_modes']} modes (>= 1)"] if "num_modes" in values else []
    if "high_quality_fraction" in values:
        parts.append(f"{values['high_quality_fraction']:.0%} HQ")
    if "mode_reverse_kl" in values:
        parts.append(f"KL {values['mode_reverse_kl']:.2f}")
    return f"{name}\nseed 0: " + ", ".join(parts)


def draw_modes(results: list[RowResult], path: Path, columns: int) -> Path | None:
    """One scatter panel per row with a finished first run; None when no row has one."""
    from lit_gan.evaluation.checkpoints import datamodule_from_checkpoint, load_model
    from lit_gan.evaluation.modes import NUM_SAMPLES
    from lit_gan.evaluation.sampling import all_samples
    from lit_gan.plotting.figure_file import save_figure_atomic
    from lit_gan.plotting.scatter import plot_points_2d

    panels = [r for r in results if r.checkpoints and r.values]
    if not panels:
        return None
    lines = -(-len(panels) // columns)
    fig = Figure(figsize=(3.0 * min(columns, len(panels)), 3.3 * lines), dpi=100, layout="constrained")
    axes = fig.subplots(lines, min(columns, len(panels)), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    for ax, result in zip(axes.flat, panels):
        ckpt = result.checkpoints[0]
        datamodule = datamodule_from_checkpoint(ckpt)
        points = all_samples(load_model(ckpt, "cpu"), NUM_SAMPLES, 0)  # noise seed 0, as the modes metric
        plot_points_2d(points, datamodule.modes, ax=ax, title=_panel_title(result.row.name, result.values[0]),
                       std=datamodule.mode_std)
        ax.title.set_fontsize(8)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    fig.suptitle(f"{NUM_SAMPLES} samples of each row's seed-0 generator (noise seed 0); a mode counts with >= 1 "
                 "high-quality sample (within 3 std)", fontsize=9)
    save_figure_atomic(fig, path)
    return path


def draw_figure(results: list[RowResult], path: Path, spec: dict[str, Any]) -> Path | None:
    """The table's figure of its ``kind`` at ``path``; None when no row has a run to draw."""
    if spec["kind"] == "curves":
        from lit_gan.reproduce.curves import draw_curves

        return draw_curves(results, path, spec)
    return draw_modes(results, path, spec["columns"])
