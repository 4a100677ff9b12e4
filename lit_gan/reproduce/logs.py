"""Numbers a table takes from a run's training log (the CSVLogger's metrics.csv), beside the
ones ``evaluate`` computes from its checkpoint: what happened *during* training.

    log_values:                                   # on the table, or on a row (merged by name)
      grad_g_early: {key: train/grad_norm_g, iterations: [1, 50]}   # mean over iterations 1-50
      d_real_late: {key: train/d_real, last: 100}                    # mean over the last 100
      signal_fid: {key: [train/wasserstein, train/loss_d], vs: val/fid_2k, stat: spearman}

``key``: a logged key, or a list of them of which the first the run logged is read (so one
spec serves a WGAN row and a GAN row). ``stat``: ``mean`` (default) over the logged values in
the window (``iterations: [first, last]`` or ``last: N``; default the whole run), or
``pearson`` / ``spearman``: the correlation of ``key`` with ``vs`` over the points where
``vs`` was logged inside the window, ``key`` averaged over the logged values since the
previous point (at least 3 points, else no value). Each name becomes a metric of the run, so a column
shows it as mean +- std over seeds like any other.

Rows are placed by generator iteration: ``train/iteration`` where a row has it, else the
last one logged before it (a validation row), so windows mean the same for any n_critic.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

STATS = ("mean", "pearson", "spearman")
SPEC_KEYS = {"key", "iterations", "last", "vs", "stat"}


class LogSpecError(ValueError):
    """A ``log_values`` entry that can't be used; the message names the entry and the fix."""


@dataclass(frozen=True)
class LogValue:
    name: str
    keys: tuple[str, ...]  # the first of these the run logged is read
    iterations: tuple[int, int | None] | None = None  # inclusive window of generator iterations
    last: int | None = None  # the last N iterations of the run
    vs: str | None = None  # correlate with this key (pearson / spearman)
    stat: str = "mean"


def parse_log_values(raw: Any, where: str) -> dict[str, LogValue]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise LogSpecError(f"{where}: log_values must map names to specs, got {raw!r}")
    return {str(name): _parse_one(str(name), spec, f"{where}: log_values.{name}") for name, spec in raw.items()}


def _parse_one(name: str, spec: Any, where: str) -> LogValue:
    if not isinstance(spec, dict) or "key" not in spec:
        raise LogSpecError(f"{where}: needs `key` (a logged key such as train/d_real), got {spec!r}")
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise LogSpecError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(SPEC_KEYS)}")
    keys = spec["key"] if isinstance(spec["key"], list) else [spec["key"]]
    stat = spec.get("stat", "mean")
    if stat not in STATS:
        raise LogSpecError(f"{where}: stat must be one of {STATS}, got {stat!r}")
    if (stat == "mean") == ("vs" in spec):
        raise LogSpecError(f"{where}: `vs` (the key to correlate with) goes with stat pearson or spearman, and only then")
    window = spec.get("iterations")
    if window is not None and not (isinstance(window, list) and len(window) == 2 and isinstance(window[0], int)
                                   and (window[1] is None or isinstance(window[1], int))):
        raise LogSpecError(f"{where}: iterations must be [first, last] (last may be null: the end), got {window!r}")
    last = spec.get("last")
    if last is not None and not (isinstance(last, int) and last > 0):
        raise LogSpecError(f"{where}: last must be a positive number of iterations, got {last!r}")
    if window is not None and last is not None:
        raise LogSpecError(f"{where}: give `iterations` or `last`, not both")
    return LogValue(name, tuple(str(k) for k in keys), tuple(window) if window else None, last,
                    spec.get("vs"), stat)


# ---- reading a run's log ------------------------------------------------------------------
def _version(path: Path) -> int:
    found = re.search(r"version_(\d+)", str(path))
    return int(found.group(1)) if found else -1


def read_log(run_dir: str | Path) -> dict[str, list[tuple[float, float, float]]]:
    """key -> [(iteration, step, value)] over the run's metrics.csv files (a resumed run writes
    one per version; read in version order)."""
    series: dict[str, list[tuple[float, float, float]]] = {}
    iteration = 0.0
    for path in sorted(Path(run_dir).glob("version_*/metrics.csv"), key=_version):
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                if row.get("train/iteration"):
                    iteration = float(row["train/iteration"])
                step = float(row["step"]) if row.get("step") else math.nan
                for key, text in row.items():
                    if key in ("epoch", "step") or not text:
                        continue
                    try:
                        series.setdefault(key, []).append((iteration, step, float(text)))
                    except ValueError:
                        continue
    return series


def first_logged(series: dict[str, list], keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if series.get(k)), None)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks with ties averaged (Spearman's rho is Pearson's r of these)."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=float)
    for value in np.unique(x):
        tied = x == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def correlation(x: np.ndarray, y: np.ndarray, stat: str) -> float | None:
    if len(x) < 3:
        return None
    if stat == "spearman":
        x, y = _ranks(x), _ranks(y)
    if np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def in_window(its: np.ndarray, iterations=None, last: int | None = None) -> np.ndarray:
    """Which of these iterations an ``iterations: [first, last]`` (last may be None: the end)
    or ``last: N`` window keeps; all of them without a window."""
    if iterations:
        lo, hi = iterations
        return (its >= lo) & (its <= (hi if hi is not None else np.inf))
    if last is not None:
        return its > its.max() - last
    return np.ones(len(its), bool)


def compute(spec: LogValue, series: dict[str, list[tuple[float, float, float]]]) -> float | None:
    """The value of one spec on one run's log; None when the run logged too little for it."""
    key = first_logged(series, spec.keys)
    if key is None:
        return None
    points = np.array(series[key])  # (n, 3): iteration, step, value
    if spec.stat == "mean":
        keep = in_window(points[:, 0], spec.iterations, spec.last)
        return float(points[keep, 2].mean()) if keep.any() else None
    if not series.get(spec.vs):
        return None
    targets = np.array(series[spec.vs])
    counted = in_window(targets[:, 0], spec.iterations, spec.last)  # the metric points that count
    signal, measured, previous = [], [], -np.inf
    for (iteration, _, value), counts in zip(targets, counted):
        window = (points[:, 0] > previous) & (points[:, 0] <= iteration)
        previous = iteration
        if counts and window.any():
            signal.append(points[window, 2].mean())
            measured.append(value)
    return correlation(np.array(signal), np.array(measured), spec.stat)


def log_values(series: dict[str, list], specs: dict[str, LogValue]) -> dict[str, float]:
    """Every spec's value on a run's ``read_log`` (those it logged too little for are left out)."""
    found = {name: compute(spec, series) for name, spec in specs.items()}
    return {name: value for name, value in found.items() if value is not None}


def unlogged(series: dict[str, list], specs: dict[str, LogValue]) -> list[str]:
    """``name: keys`` of the specs whose keys (or ``vs``) the run never logged: a typo in the
    table, or a run without the metrics callback; their column would stay empty unexplained."""
    return [f"{name}: {' / '.join(spec.keys + ((spec.vs,) if spec.vs else ()))}" for name, spec in specs.items()
            if first_logged(series, spec.keys) is None or (spec.vs and not series.get(spec.vs))]
