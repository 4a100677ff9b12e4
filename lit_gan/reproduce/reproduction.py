"""One table's reproduction: its required files, its runs (trained, resumed or reused), their
evaluations, the figure and the markdown (lit_gan.reproduce.session runs every table given)."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from lit_gan.atomic import atomic_path
from lit_gan.reproduce.evaluations import EVALUATE_OPTIONS, evaluate_checkpoint, evaluate_floor
from lit_gan.reproduce.logs import log_values, read_log, unlogged
from lit_gan.reproduce.report import RowResult, markdown
from lit_gan.reproduce.row_args import data_overrides, datamodule_takes_root, needs_features
from lit_gan.reproduce.runs import Run, RunFailed, run_logged, train, training_seconds
from lit_gan.reproduce.settings import QUICK_ROOT, Settings, command_line, version
from lit_gan.reproduce.table import Table, TableError
from lit_gan.training.resume import newest_checkpoint


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Reproduction:
    """One table's run: the options that apply to every row, and the row loop."""

    def __init__(self, table: Table, settings: Settings) -> None:
        self.table, self.settings = table, settings
        self.quick = settings.quick
        base = QUICK_ROOT if self.quick else Path("runs/reproduce")
        self.runs_root = settings.runs / table.name if settings.runs else base / table.name
        self.results_dir = settings.results or (QUICK_ROOT / "results" if self.quick else Path("results"))
        self.seeds = settings.seeds or (table.quick_seeds if self.quick else table.seeds)
        self.data_args = [f"--data.init_args.root={settings.data_root}"] if settings.data_root else []
        self.fit_extra: list[str] = []
        if settings.devices > 1:
            self.fit_extra += ["--trainer.devices", str(settings.devices),
                               "--trainer.strategy", "ddp_find_unused_parameters_true"]
        self.warnings: list[str] = []
        self.reused = 0
        self.reused_minutes = 0.0  # the training time those reused runs took when they were trained
        self.trained_now: set[str] = set()  # run ids that --jobs trained in this invocation
        self.figure_problem: str | None = None  # why the table's figure could not be drawn
        self._inception: dict = {}  # weights path -> why they can't be found (None: found)
        if settings.feature_extractor:
            self.warnings.append(f"features from `{settings.feature_extractor}` instead of the table's extractor: "
                                 "not the paper's protocol.")
        if not self.quick and settings.seeds and settings.seeds < table.seeds:
            self.warnings.append(f"{settings.seeds} seed(s) per row; the table asks for {table.seeds}.")

    # ---- what each row needs ------------------------------------------------------------
    def requirement_path(self, path: str) -> str:
        return str(self.runs_root / "requires" / Path(path).name) if self.quick else path

    def evaluate_options(self, options: dict) -> dict:
        options = dict(options)
        unknown = set(options) - EVALUATE_OPTIONS
        if unknown:
            raise TableError(f"{self.table.path}: unknown evaluate options {sorted(unknown)}; known: {sorted(EVALUATE_OPTIONS)}")
        if needs_features(options):
            if self.settings.feature_extractor:
                options["feature_extractor"] = self.settings.feature_extractor
            else:
                for req in self.table.requires:
                    if options.get("feature_extractor") == req.path:
                        options["feature_extractor"] = self.requirement_path(req.path)
        return options

    def missing_requirements(self) -> list:
        if self.settings.feature_extractor:
            return []
        return [r for r in self.table.requires if not Path(self.requirement_path(r.path)).is_file()]

    def build_requirements(self) -> None:
        for req in self.missing_requirements():
            out = self.requirement_path(req.path)
            cmd = [sys.executable, "-m", "lit_gan", *req.command, *self.data_args]
            if self.quick:
                cmd += [*req.quick, "--out", out, "--overwrite",
                        "--trainer.logger.init_args.save_dir", str(self.runs_root / "requires")]
            say(f"{self.table.name}: building {out} ...")
            run_logged(cmd, self.runs_root / "requires" / "build.log", f"building {out}")

    def missing_inception(self, options: dict) -> str | None:
        """Why Inception features can't be computed here, when a row needs them."""
        if not needs_features(options):
            return None
        if options.get("feature_extractor", "inception") != "inception":
            return None
        from lit_gan.metrics.inception import inception_problem

        key = options.get("inception_weights")
        if key not in self._inception:
            why = inception_problem(key)[1]
            self._inception[key] = why.strip().splitlines()[0] if why else None
        return self._inception[key]

    def root_args(self, config: str) -> list[str]:
        """--data-root for a config whose datamodule reads files (the 2-D toy data has no root)."""
        return self.data_args if self.data_args and datamodule_takes_root(config) else []

    def row_extra(self, config: str) -> list[str]:
        return self.root_args(config) + self.fit_extra

    # ---- the plan and the loop ----------------------------------------------------------
    def fit_args(self, row) -> list[str]:
        """The row's fit arguments. A required file named in them (a metrics callback's
        extractor) becomes what the evaluate options use instead: --feature-extractor's file,
        or with --quick the quick build of it."""
        args = row.settings(self.quick)[1]
        for req in self.table.requires:
            replacement = self.settings.feature_extractor or self.requirement_path(req.path)
            args = [a.replace(req.path, replacement) for a in args]
        return args

    def runs(self, row) -> list[Run]:
        config = row.settings(self.quick)[0]
        return [Run(config, tuple(self.fit_args(row)), seed, self.runs_root) for seed in range(self.seeds)]

    def plan(self) -> list[str]:
        lines = [f"{self.table.name} -> {self.results_dir / (self.table.name + '.md')} (runs in {self.runs_root})"]
        for req in self.missing_requirements():
            lines.append(f"  build {self.requirement_path(req.path)}: python -m lit_gan {' '.join(req.command)}")
        for row in self.table.rows:
            config, _, options = row.settings(self.quick)
            fit_args = self.fit_args(row)
            if row.kind in ("context", "unavailable"):
                lines.append(f"  {row.name}: {row.kind}" + (f" ({row.unavailable})" if row.unavailable else ""))
                continue
            metrics = options.get("metrics")
            missing = self.missing_inception(self.evaluate_options(options))
            if missing:
                lines.append(f"  {row.name}: will be skipped: {missing}")
                continue
            if row.kind == "floor":
                lines.append(f"  {row.name}: floor, real {row.floor} images of {config} as the generated set; {metrics}")
                continue
            for run in self.runs(row):
                state = ("finished" if run.finished_checkpoint() else
                         "resume" if run.dir.is_dir() and newest_checkpoint(run.dir) else "train")
                lines.append(f"  {row.name} seed {run.seed}: {state} {run.id} = fit --config {config} "
                             f"{' '.join(fit_args + self.row_extra(config))}; evaluate {metrics}")
        return lines

    def run_row(self, row) -> RowResult:
        config, _, options = row.settings(self.quick)
        result = RowResult(row, config=config)
        if row.kind in ("context", "unavailable"):
            return result
        options = self.evaluate_options(options)
        missing = self.missing_inception(options)
        if missing:  # say so now rather than after hours of training
            result.problem = missing
            say(f"{self.table.name} / {row.name}: skipped: {missing}")
            return result
        try:
            if row.kind == "floor":
                say(f"{self.table.name} / {row.name}: floor ({row.floor} split) ...")
                data_args = data_overrides(row.settings(self.quick)[1]) + self.root_args(config)
                found = evaluate_floor(config, row.floor, options, data_args, self.settings.devices,
                                       self.runs_root / "floors")
                self._add(result, found, f"floor of {config}")
                return result
            for run in self.runs(row):
                finished = run.finished_checkpoint() is not None and run.id not in self.trained_now
                self.reused += finished
                self.reused_minutes += (training_seconds(run) or 0.0) / 60 if finished else 0.0
                say(f"{self.table.name} / {row.name} / seed {run.seed}: {self._state(run, finished)} {run.id} ...")
                ckpt = train(run, self.row_extra(config))
                say(f"{self.table.name} / {row.name} / seed {run.seed}: evaluating ...")
                found = evaluate_checkpoint(ckpt, options, self.settings.devices, run.dir / "eval")
                if row.log_values:
                    series = read_log(run.dir)
                    found = {**found, "metrics": {**found["metrics"], **log_values(series, row.log_values)}}
                    for missing in unlogged(series, row.log_values):
                        self._warn(f"row {row.name!r}: run {run.id} logged nothing for log_values {missing}")
                self._add(result, found, run.id, training_seconds(run))
                result.checkpoints.append(str(ckpt))
                result.run_dirs.append(str(run.dir))
        except (RunFailed, OSError, ValueError, KeyError) as err:
            result.problem = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            say(f"{self.table.name} / {row.name}: FAILED: {err}")
        return result

    def _warn(self, message: str) -> None:
        """A note at the top of the table and on stderr, once."""
        if message not in self.warnings:
            self.warnings.append(message)
            say(f"{self.table.name}: note: {message}")

    @staticmethod
    def _add(result: RowResult, found: dict, run: str, train_seconds: float | None = None) -> None:
        protocol = {k: v for k, v in found.get("protocol", {}).items() if k != "source"}
        result.values.append(found["metrics"])
        result.protocols.append(protocol)
        result.runs.append(run)
        result.train_seconds.append(train_seconds)

    def _state(self, run, finished: bool) -> str:
        return "reusing" if finished else ("trained above" if run.id in self.trained_now else "training")

    def train_in_parallel(self) -> None:
        """Train every unfinished run of the table, ``--jobs`` at a time; the row loop then
        finds them finished (a failed one is retried there, and its error reported)."""
        from concurrent.futures import ThreadPoolExecutor

        todo = [(run, self.row_extra(row.settings(self.quick)[0])) for row in self.table.rows if row.kind == "run"
                for run in self.runs(row) if run.finished_checkpoint() is None]
        if not todo:
            return
        threads = os.environ.get("OMP_NUM_THREADS") or str(max(1, (os.cpu_count() or 1) // self.settings.jobs))
        say(f"{self.table.name}: training {len(todo)} run(s), {self.settings.jobs} at a time, {threads} thread(s) each ...")

        def one(item) -> None:
            run, extra = item
            try:
                train(run, extra, {"OMP_NUM_THREADS": threads})
                self.trained_now.add(run.id)  # trained by this invocation, not reused
                say(f"{self.table.name}: trained {run.id}")
            except RunFailed as err:
                say(f"{self.table.name}: {run.id} failed ({str(err).splitlines()[0]}); retried in the row loop")

        with ThreadPoolExecutor(self.settings.jobs) as pool:
            list(pool.map(one, todo))

    def draw_figure(self, results: list[RowResult]) -> str | None:
        """The table's ``figure`` beside its markdown; its file name, or None (none asked, or it failed)."""
        if self.table.figure is None:
            return None
        from lit_gan.reproduce.figures import draw_figure

        path = self.results_dir / f"{self.table.name}.png"
        try:
            drawn = draw_figure(results, path, self.table.figure)
        except Exception as err:  # noqa: BLE001 - any failure is reported in the table and fails the command
            self.figure_problem = str(err).splitlines()[0] if str(err) else repr(err)
            self.warnings.append(f"the figure could not be drawn: {self.figure_problem}")
            return None
        return path.name if drawn else None

    def run(self) -> tuple[Path, list[RowResult]]:
        start = time.monotonic()
        results: list[RowResult] = []
        try:
            self.build_requirements()
        except RunFailed as err:
            self.warnings.append(f"a required file could not be built: {str(err).splitlines()[0]}")
        if self.settings.jobs > 1:
            self.train_in_parallel()
        for row in self.table.rows:
            results.append(self.run_row(row))
        header = {"command": command_line(self.table.path, self.settings), "version": version(),
                  "when": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "quick": self.quick,
                  "wall": f"{(time.monotonic() - start) / 60:.1f} min wall time this invocation, "
                          f"{self.reused} finished run(s) reused"
                          + (f" (trained in {self.reused_minutes:.1f} min when they ran)" if self.reused else ""),
                  "warnings": self.warnings, "figure": self.draw_figure(results)}
        path = self.results_dir / f"{self.table.name}.md"
        with atomic_path(path) as tmp:
            tmp.write_text(markdown(self.table, results, header))
        with atomic_path(self.runs_root / "results.json") as tmp:
            tmp.write_text(json.dumps([{"row": r.row.name, "values": r.values, "runs": r.runs, "problem": r.problem}
                                       for r in results], indent=2))
        return path, results
