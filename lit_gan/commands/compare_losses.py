"""``python -m lit_gan compare-losses``: every loss on the 2-D ring, one figure.

    python -m lit_gan compare-losses                       # experiments/toy/*_ring8.yaml, seeds 0 1 2
    python -m lit_gan compare-losses --seeds 0 --max-iterations 500 --out results/ring8_quick

A figure drawn over the runs of ``python -m lit_gan reproduce experiments/toy/ring8.yaml``:
each (config, seed) is the same ``fit`` run that reproduce makes (lit_gan.reproduce.runs,
under ``--runs``, default runs/reproduce/toy_ring8/), so runs either command finished are
reused by the other, and an interrupted comparison picks up where it stopped. Every run's
final generator then draws 2,500 points (noise seed 0) and the registry's ``modes`` metric
counts the covered modes (>= ``--min-count`` high-quality samples) and the high-quality
fraction. Writes ``OUT/ring8_losses.png`` (one column per loss, one row per seed) and
``OUT/summary.md`` / ``OUT/summary.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lit_gan.atomic import atomic_path
from lit_gan.data.toy import Toy2DDataModule
from lit_gan.evaluation.checkpoints import CommandError, load_model
from lit_gan.evaluation.features import Protocol
from lit_gan.evaluation.modes import NUM_SAMPLES, points
from lit_gan.evaluation.run import SampleContext, run_sample_metric
from lit_gan.evaluation.sources import GeneratorSource
from lit_gan.plotting.figure_file import save_figure_atomic
from lit_gan.plotting.scatter import plot_points_2d
from lit_gan.reproduce.runs import Run, RunFailed, train

RUNS = Path("runs/reproduce/toy_ring8")  # where `reproduce experiments/toy/ring8.yaml` keeps its runs


def train_run(config: Path, seed: int, runs: Path, max_iterations: int | None) -> Path:
    fit_args = ("--max_iterations", str(max_iterations)) if max_iterations is not None else ()
    run = Run(str(config), fit_args, seed, runs)
    finished = run.finished_checkpoint()
    print(f"{'reusing' if finished else 'training'} {run.id} ...", file=sys.stderr)
    try:
        return train(run, [])
    except RunFailed as err:
        raise CommandError(str(err)) from None


def evaluate_run(ckpt: Path, datamodule: Toy2DDataModule, min_count: int) -> tuple[np.ndarray, dict]:
    """The 2,500 points of noise seed 0 and the registry's ``modes`` values for them."""
    model = load_model(ckpt, "cpu")
    protocol = Protocol(["modes"], NUM_SAMPLES, seed=0)
    ctx = SampleContext(GeneratorSource(model, NUM_SAMPLES, 0), datamodule, protocol, min_count=min_count)
    values, _ = run_sample_metric("modes", ctx)
    return points(ctx).numpy(), {**values, "iterations": model.iterations}


def draw(configs: list[Path], seeds: list[int], points: dict, stats: dict, datamodule: Toy2DDataModule,
         min_count: int, path: Path) -> None:
    fig = Figure(figsize=(3.2 * len(configs), 3.4 * len(seeds)), dpi=100, layout="constrained")
    axes = fig.subplots(len(seeds), len(configs), squeeze=False)
    for col, config in enumerate(configs):
        for row, seed in enumerate(seeds):
            s = stats[config.stem][seed]
            title = (f"{config.stem.removesuffix('_ring8')} (seed {seed})\n"
                     f"{s['modes_covered']}/{s['num_modes']} modes, {s['high_quality_fraction']:.0%} HQ")
            ax = axes[row][col]
            plot_points_2d(points[config.stem][seed], datamodule.modes, ax=ax, title=title, std=datamodule.mode_std)
            ax.title.set_fontsize(9)
            ax.get_legend().remove()
    fig.suptitle(f"{NUM_SAMPLES} samples per panel; a mode is covered with >= {min_count} high-quality samples "
                 "(within 3 std)", fontsize=10)
    save_figure_atomic(fig, path)


def summary_markdown(configs: list[Path], seeds: list[int], stats: dict, min_count: int) -> str:
    lines = ["| loss | " + " | ".join(f"seed {s}" for s in seeds) + " | mean modes | mean HQ |",
             "|---" * (len(seeds) + 3) + "|"]
    for config in configs:
        row = [stats[config.stem][s] for s in seeds]
        cells = [f"{r['modes_covered']}/{r['num_modes']} ({r['high_quality_fraction']:.0%} HQ)" for r in row]
        mean_modes = np.mean([r["modes_covered"] for r in row])
        mean_hq = np.mean([r["high_quality_fraction"] for r in row])
        lines.append(f"| {config.stem} | " + " | ".join(cells) + f" | {mean_modes:.1f} | {mean_hq:.0%} |")
    lines.append(f"\nModes covered: >= {min_count} of {NUM_SAMPLES} samples within 3 std of the mode.")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lit_gan compare-losses", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", type=Path,
                   default=sorted(Path("experiments/toy").glob("*_ring8.yaml")), help="ring configs (default: experiments/toy/*_ring8.yaml)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--max-iterations", type=int, default=None, help="override each config's iteration budget")
    p.add_argument("--min-count", type=int, default=20, help="high-quality samples a mode needs to count as covered")
    p.add_argument("--out", type=Path, default=Path("results/ring8_losses"), help="output folder")
    p.add_argument("--runs", type=Path, default=RUNS, help=f"run directory, shared with reproduce (default {RUNS})")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        if not args.configs:
            raise CommandError("no configs: none found at experiments/toy/*_ring8.yaml; pass --configs")
        missing = [str(c) for c in args.configs if not c.is_file()]
        if missing:
            raise CommandError(f"config not found: {', '.join(missing)}")
        datamodule = Toy2DDataModule(dataset="ring8")
        points: dict = {c.stem: {} for c in args.configs}
        stats: dict = {c.stem: {} for c in args.configs}
        for config in args.configs:
            for seed in args.seeds:
                ckpt = train_run(config, seed, args.runs, args.max_iterations)
                points[config.stem][seed], stats[config.stem][seed] = evaluate_run(ckpt, datamodule, args.min_count)
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    draw(args.configs, args.seeds, points, stats, datamodule, args.min_count, args.out / "ring8_losses.png")
    table = summary_markdown(args.configs, args.seeds, stats, args.min_count)
    with atomic_path(args.out / "summary.md") as tmp:
        tmp.write_text(table)
    with atomic_path(args.out / "summary.json") as tmp:
        tmp.write_text(json.dumps({"min_count": args.min_count, "num_samples": NUM_SAMPLES, "runs": stats}, indent=2))
    print(table)
    print(f"figure: {args.out / 'ring8_losses.png'}", file=sys.stderr)
    return 0
