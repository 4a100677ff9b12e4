"""What a table's ``figure:`` may say, checked when the table is read: no drawing code is
loaded to parse a table (lit_gan.reproduce.figures and .curves draw what passes)."""

from __future__ import annotations

from typing import Any

FIGURE_KINDS = ("modes", "curves")
PANEL_KEYS = {"key", "label", "title", "x", "iterations", "log_y", "smooth", "twin", "twin_label", "rows"}
FIGURE_KEYS = {"kind", "columns", "panels", "samples", "sample_columns"}


def check_spec(spec: dict[str, Any], where: str, row_names: set[str]) -> str | None:
    """What is wrong with a curves figure spec, or None."""
    unknown = set(spec) - FIGURE_KEYS
    if unknown:
        return f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(FIGURE_KEYS)}"
    per_line = spec.get("sample_columns", 1)
    if not isinstance(per_line, int) or isinstance(per_line, bool) or per_line < 1:
        return f"{where}: sample_columns must be a positive number of sample grids per line, got {per_line!r}"
    panels = spec.get("panels")
    if not isinstance(panels, list) or not panels:
        return f"{where}: a curves figure needs `panels`, a list of {{key: a logged key, ...}}"
    for i, panel in enumerate(panels):
        at = f"{where}: panel {i + 1}"
        if not isinstance(panel, dict) or "key" not in panel:
            return f"{at}: needs `key` (a logged key such as train/d_real), got {panel!r}"
        if set(panel) - PANEL_KEYS:
            return f"{at}: unknown keys {sorted(set(panel) - PANEL_KEYS)}; allowed: {sorted(PANEL_KEYS)}"
        if panel.get("x", "iteration") not in ("iteration", "step"):
            return f"{at}: x must be iteration or step, got {panel['x']!r}"
        missing = set(panel.get("rows") or []) - row_names
        if missing:
            return f"{at}: rows {sorted(missing)} are not rows of this table"
        smooth = panel.get("smooth", 1)
        if not isinstance(smooth, int) or smooth < 1:
            return f"{at}: smooth must be a positive number of iterations, got {smooth!r}"
    return None
