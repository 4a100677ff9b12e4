"""A paper table as a YAML file: its columns (metrics), its rows (an experiment to train, or
a number quoted from the paper for context) and the evaluation protocol shared by the rows.

    title: Goodfellow et al. 2014, Table 1
    source: arXiv:1406.2661, Table 1
    seeds: 1                                # runs per row (``--seeds K`` overrides)
    columns:
      - {metric: parzen_ll, label: Parzen log-likelihood, better: higher}
    evaluate: {metrics: parzen, num: 10000} # ``python -m lit_gan evaluate`` options
    quick:                                  # ``--quick``: CPU-sized, for CI
      seeds: 1                              # (the default)
      fit: [--max_iterations, "20"]
      evaluate: {num: 200}
    rows:
      - name: GAN
        config: experiments/goodfellow2014/gan_mnist.yaml
        paper: {parzen_ll: [225, 2]}        # value, or [value, std]
      - name: DBN                           # no config: quoted from the paper
        paper: {parzen_ll: [138, 2]}
      - name: a published model             # a number from another source than the paper:
        context: {parzen_ll: 200}           # its own "context" column, never "paper"
        note: where the number comes from

A table may add ``figure: {kind: modes, columns: N}`` (lit_gan.reproduce.figures: each 2-D
row's seed-0 samples over the modes, drawn beside the markdown) or ``figure: {kind: curves,
panels: [...]}`` (lit_gan.reproduce.curves: logged quantities through training), and
``log_values`` (lit_gan.reproduce.logs: numbers from each run's training log, usable as
columns; a row's own ``log_values`` add to or replace the table's by name), and ``findings``
(what a full run showed, in words, printed under the table; say the date, since a rerun's
numbers differ). A row may also give ``fit``
(extra ``fit`` arguments), ``evaluate`` (overrides), ``quick``
(``config`` / ``fit`` / ``evaluate`` used with ``--quick``), ``floor: train`` (no training:
that split's real images are scored as if generated, the metric's floor), ``unavailable:
why`` (the row can't be produced yet; the table says so) and ``note``. Metrics are
evaluate's (fid, kid, is, classes, parzen) plus ``modes`` (2-D toy data: modes covered and
high-quality fraction) and ``paired`` (image-to-image L1 / PSNR / SSIM against the targets):
the names of the metric registry, lit_gan.evaluation.registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lit_gan.data.contract import SPLITS
from lit_gan.evaluation.registry import ALL_METRICS, needs_a_model
from lit_gan.reproduce.figure_spec import FIGURE_KINDS, check_spec
from lit_gan.reproduce.logs import LogSpecError, LogValue, parse_log_values
TABLE_KEYS = {"title", "source", "about", "seeds", "columns", "evaluate", "quick", "rows", "requires", "figure",
              "log_values", "findings"}
ROW_KEYS = {"name", "config", "fit", "evaluate", "quick", "paper", "context", "floor", "unavailable", "note",
            "log_values"}
QUICK_KEYS = {"config", "fit", "evaluate", "seeds"}


class TableError(ValueError):
    """A table file that can't be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Column:
    metric: str  # a key of the evaluation result, or its prefix (``fid`` matches ``fid_10k``)
    label: str
    better: str | None = None  # "lower" / "higher": shown as an arrow in the header
    digits: int = 2


@dataclass(frozen=True)
class PaperValue:
    value: float
    std: float | None = None


@dataclass(frozen=True)
class Requirement:
    """A file the evaluation needs (e.g. a classifier extractor) and the command that makes it."""

    path: str
    command: list[str]
    quick: list[str] = field(default_factory=list)  # extra arguments with --quick


@dataclass(frozen=True)
class Row:
    name: str
    config: str | None = None
    fit: list[str] = field(default_factory=list)
    evaluate: dict[str, Any] = field(default_factory=dict)  # already merged over the table's
    quick: dict[str, Any] = field(default_factory=dict)  # already merged over the table's
    paper: dict[str, PaperValue] = field(default_factory=dict)  # from the table's paper
    context: dict[str, PaperValue] = field(default_factory=dict)  # from another source (say which in note)
    floor: str | None = None
    unavailable: str | None = None
    note: str | None = None
    log_values: dict[str, LogValue] = field(default_factory=dict)  # from the run's training log (reproduce/logs.py)

    @property
    def kind(self) -> str:
        if self.unavailable:
            return "unavailable"
        if self.config is None:
            return "context"
        return "floor" if self.floor else "run"

    def settings(self, quick: bool) -> tuple[str | None, list[str], dict[str, Any]]:
        """(config, fit arguments, evaluate options) for a full or a quick reproduction."""
        if not quick:
            return self.config, list(self.fit), dict(self.evaluate)
        evaluate = {**self.evaluate, **self.quick.get("evaluate", {})}
        return self.quick.get("config", self.config), list(self.fit) + list(self.quick.get("fit", [])), evaluate


@dataclass(frozen=True)
class Table:
    name: str  # the file's stem path below experiments/, e.g. goodfellow2014_table1
    path: Path
    title: str
    source: str
    about: str
    seeds: int
    quick_seeds: int  # seeds per row with --quick
    columns: list[Column]
    rows: list[Row]
    requires: list[Requirement]
    figure: dict[str, Any] | None = None  # {kind: modes, columns: N}: lit_gan.reproduce.figures
    findings: str = ""  # what a full run showed, in words (dated: a rerun's numbers may differ)

    def metrics(self, row: Row, quick: bool) -> list[str]:
        return metric_list(row.settings(quick)[2].get("metrics", ""))


def metric_list(metrics: Any) -> list[str]:
    """``"fid, kid"`` or ``[fid, kid]`` -> ["fid", "kid"]."""
    if isinstance(metrics, str):
        return [m.strip() for m in metrics.split(",") if m.strip()]
    return [str(m) for m in metrics or []]


def _paper_value(path: Path, row: str, metric: str, raw: Any) -> PaperValue:
    if isinstance(raw, (int, float)):
        return PaperValue(float(raw))
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, (int, float)) for v in raw):
        return PaperValue(float(raw[0]), float(raw[1]))
    raise TableError(f"{path}: row {row!r}: paper.{metric} must be a number or [value, std], got {raw!r}")


def _check_keys(path: Path, where: str, given: dict, allowed: set[str]) -> None:
    unknown = set(given) - allowed
    if unknown:
        raise TableError(f"{path}: {where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")


def table_name(path: Path) -> str:
    """experiments/goodfellow2014/table1.yaml -> goodfellow2014_table1 (unique per paper folder)."""
    return f"{path.parent.name}_{path.stem}" if path.parent.name not in ("", ".") else path.stem


def load_table(path: str | Path) -> Table:
    path = Path(path)
    if not path.is_file():
        raise TableError(f"table not found: {path} (tables live in experiments/<paper>/, e.g. experiments/goodfellow2014/table1.yaml)")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise TableError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict) or "rows" not in raw or "columns" not in raw:
        raise TableError(f"{path}: a table needs `columns` and `rows` (see lit_gan/reproduce/table.py)")
    _check_keys(path, "table", raw, TABLE_KEYS)
    columns = []
    for spec in raw["columns"]:
        if not isinstance(spec, dict) or "metric" not in spec:
            raise TableError(f"{path}: each column needs `metric` (and `label`), got {spec!r}")
        _check_keys(path, f"column {spec['metric']}", spec, {"metric", "label", "better", "digits"})
        if spec.get("better") not in (None, "lower", "higher"):
            raise TableError(f"{path}: column {spec['metric']}: better must be lower or higher")
        columns.append(Column(spec["metric"], spec.get("label", spec["metric"]), spec.get("better"), int(spec.get("digits", 2))))
    table_evaluate = raw.get("evaluate") or {}
    table_logs = _log_values(raw.get("log_values"), f"{path}")
    table_quick = raw.get("quick") or {}
    _check_keys(path, "quick", table_quick, QUICK_KEYS - {"config"})
    column_names = {c.metric for c in columns}
    rows, names = [], set()
    for spec in raw["rows"]:
        if not isinstance(spec, dict) or "name" not in spec:
            raise TableError(f"{path}: each row needs a `name`, got {spec!r}")
        name = str(spec["name"])
        if name in names:
            raise TableError(f"{path}: two rows are named {name!r}")
        names.add(name)
        _check_keys(path, f"row {name!r}", spec, ROW_KEYS)
        row_quick = spec.get("quick") or {}
        _check_keys(path, f"row {name!r} quick", row_quick, QUICK_KEYS - {"seeds"})
        quoted = {}
        for source in ("paper", "context"):
            quoted[source] = {m: _paper_value(path, name, m, v) for m, v in (spec.get(source) or {}).items()}
            unknown = set(quoted[source]) - column_names
            if unknown:
                raise TableError(f"{path}: row {name!r}: {source} values for {sorted(unknown)}, which are not columns")
        row = Row(
            name=name,
            config=spec.get("config"),
            fit=[str(a) for a in spec.get("fit") or []],
            evaluate={**table_evaluate, **(spec.get("evaluate") or {})},
            quick={"fit": list(table_quick.get("fit", [])) + list(row_quick.get("fit", [])),
                   "evaluate": {**table_quick.get("evaluate", {}), **row_quick.get("evaluate", {})},
                   **({"config": row_quick["config"]} if "config" in row_quick else {})},
            paper=quoted["paper"],
            context=quoted["context"],
            floor=spec.get("floor"),
            unavailable=spec.get("unavailable"),
            note=spec.get("note"),
            log_values={**table_logs, **_log_values(spec.get("log_values"), f"{path}: row {name!r}")},
        )
        _validate_row(path, row)
        rows.append(row)
    requires = [Requirement(str(r["path"]), [str(a) for a in r["command"]], [str(a) for a in r.get("quick", [])])
                for r in raw.get("requires") or []]
    return Table(table_name(path), path, str(raw.get("title", path.stem)), str(raw.get("source", "")),
                 str(raw.get("about", "")).strip(), int(raw.get("seeds", 1)), int(table_quick.get("seeds", 1)),
                 columns, rows, requires, _figure(path, raw.get("figure"), names), str(raw.get("findings", "")).strip())


def _log_values(raw: Any, where: str) -> dict[str, LogValue]:
    try:
        return parse_log_values(raw, where)
    except LogSpecError as err:
        raise TableError(str(err)) from None


def _figure(path: Path, spec: Any, row_names: set[str]) -> dict[str, Any] | None:
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("kind") not in FIGURE_KINDS:
        raise TableError(f"{path}: figure needs a kind, one of {FIGURE_KINDS}, got {spec!r}")
    if spec["kind"] == "curves":
        problem = check_spec(spec, f"{path}: figure", row_names)
        if problem:
            raise TableError(problem)
    else:
        _check_keys(path, "figure", spec, {"kind", "columns"})
    columns = spec.get("columns", 4 if spec["kind"] == "modes" else 3)
    if not isinstance(columns, int) or columns < 1:
        raise TableError(f"{path}: figure columns must be a positive integer, got {columns!r}")
    return {**spec, "columns": columns}


def _validate_row(path: Path, row: Row) -> None:
    where = f"{path}: row {row.name!r}"
    if row.kind in ("run", "floor"):
        for quick in (False, True):
            config = row.settings(quick)[0]
            if config is not None and not Path(config).is_file():
                raise TableError(f"{where}: config {config} not found (paths are relative to the repository root)")
        metrics = metric_list(row.evaluate.get("metrics", ""))
        if not metrics:
            raise TableError(f"{where}: no metrics to evaluate; set `evaluate: {{metrics: ...}}` on the table or the row")
        unknown = set(metrics) - set(ALL_METRICS)
        if unknown:
            raise TableError(f"{where}: unknown metrics {sorted(unknown)}; known: {', '.join(ALL_METRICS)}")
        model_only = sorted(m for m in metrics if needs_a_model(m))
        if row.floor and model_only:
            raise TableError(f"{where}: a floor row compares real images; {model_only} need a model")
    if row.floor and row.floor not in SPLITS:
        raise TableError(f"{where}: floor must name a split (train, val or test), got {row.floor!r}")
    if row.kind == "context" and not (row.paper or row.context):
        raise TableError(f"{where}: a row without a config quotes numbers: it needs `paper` values (from the "
                         "paper) or `context` values (from another source, named in `note`)")
