"""``figure: {kind: curves, ...}``: what the rows' runs logged during training, one panel per
logged quantity, one line per row (mean over its seeds, band = min to max), and optionally a
line of each row's last sample grid (seed 0).

    figure:
      kind: curves
      columns: 3                     # panels per line (default 3)
      samples: true                  # add each row's seed-0 final sample grid
      sample_columns: 4              # sample grids per line (default: all on one line)
      panels:
        - {key: train/grad_norm_g, label: "G gradient norm", iterations: [0, 100], log_y: true}
        - {key: [train/wasserstein, train/loss_d], label: "training signal", smooth: 5,
           twin: val/fid_2k, twin_label: "classifier FID", rows: ["WGAN (weight clipping)"]}
        - {key: val/fid_2k, x: step}

Panel keys: ``key`` (or a list: the first a run logged), ``label`` (y axis), ``title``, ``x``
(``iteration``, default, or ``step``: optimizer steps, n_critic + n_gen per iteration, the
compute axis), ``iterations`` ([first, last] window), ``log_y``, ``smooth`` (trailing mean
over this many iterations, or steps on the step axis), ``twin`` (a second key on a right axis, dashed) with
``twin_label``, ``rows`` (names of the rows to draw; default all). lit_gan.reproduce.figure_spec
checks them when the table is read.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from lit_gan.reproduce.logs import first_logged, in_window, read_log
from lit_gan.reproduce.report import RowResult


def _series(log: dict, keys: tuple[str, ...], panel: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    key = first_logged(log, keys)
    if key is None:
        return None
    points = np.array(log[key])
    points = points[in_window(points[:, 0], panel.get("iterations"))]
    x = points[:, 0 if panel.get("x", "iteration") == "iteration" else 1]
    y = points[:, 2]
    w = float(panel.get("smooth", 1))
    if w > 1 and len(y):
        # trailing mean over the last w iterations (steps), not w logged points: a quantity logged
        # every 3rd batch of WGAN's 5-batch iteration meets the cycle at rotating phases, and a
        # mean over points then beats with that rotation; a mean over iterations does not
        start = np.searchsorted(x, x - w, side="right")
        sums = np.concatenate([[0.0], np.cumsum(y)])
        y = (sums[1:] - sums[start]) / (np.arange(1, len(y) + 1) - start)
        keep = x >= x[0] + w - 1  # drop the ramp-up, where the window is not yet full
        x, y = x[keep], y[keep]
    return x, y


def _keys(value: Any) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else (str(value),)


def _draw_lines(ax, logs_by_row, keys: tuple[str, ...], panel: dict[str, Any], style: str) -> bool:
    drawn = False
    for index, (result, logs) in logs_by_row:
        found = [s for s in (_series(log, keys, panel) for log in logs) if s is not None and len(s[0])]
        if not found:
            continue
        x = found[0][0]
        for other, _ in found[1:]:
            x = np.intersect1d(x, other)  # seeds share their logging steps; keep the common ones
        ys = np.stack([np.interp(x, sx, sy) for sx, sy in found])
        color = f"C{index % 10}"
        label = f"{result.row.name} ({len(found)} seed{'s' if len(found) > 1 else ''})" if style == "-" else None
        ax.plot(x, ys.mean(0), style, color=color, lw=1.3, label=label,
                marker="o" if len(x) <= 25 else None, ms=3)  # sparse points (a metric every N its) show as dots
        if len(found) > 1:
            ax.fill_between(x, ys.min(0), ys.max(0), color=color, alpha=0.15, lw=0)
        drawn = True
    return drawn


def _panel(ax, panel: dict[str, Any], logs_by_row, legend: bool) -> None:
    names = panel.get("rows")
    chosen = [(i, item) for i, item in logs_by_row if not names or item[0].row.name in names]
    keys = _keys(panel["key"])
    if not _draw_lines(ax, chosen, keys, panel, "-"):
        ax.text(0.5, 0.5, f"nothing logged as {' / '.join(keys)}", ha="center", va="center",
                transform=ax.transAxes, fontsize=8)
    ax.set_xlabel("generator iteration" if panel.get("x", "iteration") == "iteration"
                  else "optimizer steps (D + G updates)", fontsize=8)
    ax.set_ylabel(panel.get("label", " / ".join(keys)), fontsize=8)
    if panel.get("log_y"):
        ax.set_yscale("log")
    if panel.get("title"):
        ax.set_title(panel["title"], fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if panel.get("twin"):
        twin = ax.twinx()
        _draw_lines(twin, chosen, _keys(panel["twin"]), {**panel, "smooth": 1}, "--")  # sparse metric points: as measured
        twin.set_ylabel(f"{panel.get('twin_label', panel['twin'])} (dashed)", fontsize=8)
        twin.tick_params(labelsize=7)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, loc="best")


def newest_samples(run_dir: str | Path) -> Path | None:
    grids = sorted(Path(run_dir).glob("version_*/samples/iter_*.png"), key=lambda p: (p.parent.parent.name, p.name))
    return grids[-1] if grids else None


def _shown_samples(results: list[RowResult]) -> list[tuple[RowResult, Path]]:
    shown = [(r, newest_samples(r.run_dirs[0])) for r in results if r.run_dirs]
    return [(r, p) for r, p in shown if p is not None]


def _samples(subfig, shown: list[tuple[RowResult, Path]], per_line: int) -> None:
    from matplotlib.image import imread

    if not shown:
        return
    axes = subfig.subplots(-(-len(shown) // per_line), min(per_line, len(shown)), squeeze=False)
    for ax in axes.flat[len(shown):]:
        ax.set_axis_off()
    for ax, (result, grid) in zip(axes.flat, shown):
        ax.imshow(imread(grid), cmap="gray")
        ax.set_title("\n".join(textwrap.wrap(f"{result.row.name}: seed 0, {grid.stem.replace('_', ' ')}", 34)),
                     fontsize=7)
        ax.set_axis_off()


def draw_curves(results: list[RowResult], path: Path, spec: dict[str, Any]) -> Path | None:
    """The figure at ``path``; None when no row has a finished run."""
    from lit_gan.plotting.figure_file import save_figure_atomic

    logs_by_row = [(i, (r, [read_log(d) for d in r.run_dirs])) for i, r in enumerate(results) if r.run_dirs]
    if not logs_by_row:
        return None
    panels, columns = spec["panels"], min(int(spec.get("columns", 3)), len(spec["panels"]))
    lines = -(-len(panels) // columns)
    shown = _shown_samples(results) if spec.get("samples") else []
    per_line = int(spec.get("sample_columns") or max(len(shown), 1))  # many rows: several lines of grids
    sample_height = 3.2 * -(-len(shown) // per_line) if spec.get("samples") else 0
    fig = Figure(figsize=(4.6 * max(columns, 2), 3.4 * lines + sample_height), dpi=100, layout="constrained")
    top, bottom = (fig.subfigures(2, 1, height_ratios=[3.4 * lines, sample_height]) if sample_height else (fig, None))
    axes = top.subplots(lines, columns, squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_axis_off()
    for i, (ax, panel) in enumerate(zip(axes.flat, panels)):
        _panel(ax, panel, logs_by_row, legend=i == 0 or bool(panel.get("rows")))  # rows: one legend per row set
    if bottom is not None:
        _samples(bottom, shown, per_line)
    save_figure_atomic(fig, path)
    return path
