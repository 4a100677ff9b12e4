"""The markdown a reproduction writes: the paper's numbers beside ours, then the protocol,
the configs and the run ids, and what could not be produced and why."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lit_gan.reproduce.table import Column, PaperValue, Row, Table


@dataclass
class RowResult:
    row: Row
    config: str | None = None
    values: list[dict[str, Any]] = field(default_factory=list)  # one metrics dict per seed
    protocols: list[dict[str, Any]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    train_seconds: list[float | None] = field(default_factory=list)  # per run, when known
    checkpoints: list[str] = field(default_factory=list)  # per run (figures read them)
    run_dirs: list[str] = field(default_factory=list)  # per run: its metrics.csv and sample grids (figures)
    problem: str | None = None  # why this row has no numbers of ours


def metric_value(metrics: dict[str, Any], name: str) -> float | None:
    """``fid`` matches ``fid_10k`` (evaluate tags the sample count), never ``fid_10k_std``."""
    if name in metrics:
        return metrics[name]
    found = [k for k in metrics if k.startswith(name + "_") and not k.endswith(("_std", "_sem"))
             and k.count("_") == name.count("_") + 1]
    return metrics[found[0]] if len(found) == 1 else None


def _number(value: float, digits: int) -> str:
    if abs(value) >= 1e-3 or value == 0:
        return f"{value:.{digits}f}"
    return f"{value:.2e}"


def decimals(x: float) -> int:
    text = f"{x:g}"
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


QUOTED = ("paper", "context")  # Row fields holding quoted numbers; each gets its own column


def quoted(row: Row, source: str) -> dict[str, PaperValue]:
    return getattr(row, source)


def paper_decimals(results: list[RowResult], column: Column, source: str = "paper") -> int:
    """The precision the source prints a column with (YAML drops the 0 of 55.0, so the
    column's most precise value decides: 55.0 ± 3.3 beside 9.8 ± 0.9)."""
    values = [quoted(r.row, source)[column.metric] for r in results if column.metric in quoted(r.row, source)]
    return max([decimals(v.value) for v in values] + [decimals(v.std) for v in values if v.std is not None] + [0])


def paper_cell(value: PaperValue | None, digits: int) -> str:
    """The paper's number at the paper's precision, not rounded to ours."""
    if value is None:
        return "–"
    text = f"{value.value:.{digits}f}"
    return text if value.std is None else f"{text} ± {value.std:.{digits}f}"


def ours_cell(result: RowResult, column: Column) -> str:
    if result.problem or result.row.kind in ("context", "unavailable"):
        return "–"
    found = [metric_value(v, column.metric) for v in result.values]
    found = [float(v) for v in found if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not found:
        return "–"
    mean = float(np.mean(found))
    if len(found) == 1:
        return _number(mean, column.digits)
    return f"{_number(mean, column.digits)} ± {_number(float(np.std(found, ddof=1)), column.digits)} (n={len(found)})"


def _header(column: Column) -> str:
    arrow = {"lower": " ↓", "higher": " ↑"}.get(column.better or "", "")
    return f"{column.label}{arrow}"


def results_table(table: Table, results: list[RowResult]) -> str:
    """One row per table row; each metric gets an ours column, preceded by a paper column
    when the paper gives a number for it and a context column when another source does."""
    sources = {c.metric: [s for s in QUOTED if any(c.metric in quoted(r.row, s) for r in results)]
               for c in table.columns}
    head = ["row"]
    for column in table.columns:
        found = sources[column.metric]
        head += [f"{_header(column)} {s}" for s in found] + [f"{_header(column)} ours" if found else _header(column)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for result in results:
        cells = [result.row.name]
        for column in table.columns:
            for source in sources[column.metric]:
                cells.append(paper_cell(quoted(result.row, source).get(column.metric),
                                        paper_decimals(results, column, source)))
            cells.append(ours_cell(result, column))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _status(result: RowResult) -> str:
    kind = result.row.kind
    if kind == "context":
        return ("quoted from the paper, not trained here" if result.row.paper else
                "quoted from another source, not from the paper (see the note); not trained here")
    if kind == "unavailable":
        return f"not possible yet: {result.row.unavailable}"
    if result.problem:
        return f"not produced: {result.problem}"
    return "floor: real images as the generated set" if kind == "floor" else f"{len(result.values)} seed(s)"


def markdown(table: Table, results: list[RowResult], header: dict[str, Any]) -> str:
    out = [f"# {table.title}", ""]
    if table.source:
        out += [f"Paper: {table.source}", ""]
    if table.about:
        out += [table.about, ""]
    out += [f"Produced by `{header['command']}` ({header['when']}, lit_gan {header['version']}, "
            f"{header['wall']}).", ""]
    if header.get("quick"):
        out += ["**Quick run**: CPU-sized budgets and sample counts for exercising the pipeline; these "
                "numbers are not comparable with the paper's.", ""]
    for warning in header.get("warnings", []):
        out += [f"**Note**: {warning}", ""]
    out += [results_table(table, results), ""]
    if header.get("figure"):
        out += [f"![{table.title}]({header['figure']})", ""]
    if table.findings and not header.get("quick"):
        out += ["## What the numbers show", "", table.findings, ""]
    out += ["## Rows", ""]
    for result in results:
        out.append(f"- **{result.row.name}**: {_status(result)}.")
        if result.config:
            out.append(f"  Config: `{result.config}`" + (f" with `{' '.join(result.row.fit)}`" if result.row.fit else "") + ".")
        if result.runs:
            times = result.train_seconds + [None] * (len(result.runs) - len(result.train_seconds))
            out.append("  Runs: " + ", ".join(f"`{r}`" + (f" (trained in {t / 60:.1f} min)" if t is not None else "")
                                             for r, t in zip(result.runs, times)) + ".")
        if result.row.note:
            out.append(f"  {result.row.note}")
    protocols = [(r.row.name, r.protocols[0]) for r in results if r.protocols]
    if protocols:
        out += ["", "## Protocol", ""]
        shown: list[dict[str, Any]] = []
        for name, protocol in protocols:
            if protocol in shown:
                continue
            shown.append(protocol)
            rows = [n for n, p in protocols if p == protocol]
            out += [f"Rows {', '.join(rows)}:", "", "```json", _json(protocol), "```", ""]
    return "\n".join(out).rstrip() + "\n"


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True)
