"""``python -m lit_gan reproduce``: run a paper table and write ours beside the paper's.

    python -m lit_gan reproduce experiments/goodfellow2014/table1.yaml
    python -m lit_gan reproduce experiments/lucic2018/fid_table.yaml --dry-run
    python -m lit_gan reproduce experiments/*/table*.yaml experiments/*/*_table.yaml --quick
    python -m lit_gan reproduce --update-readme

Each row of a table (lit_gan/reproduce/table.py) is an ordinary ``fit`` per seed under
``--runs`` (default runs/reproduce/<table>/), then ``evaluate``. Finished runs and
evaluations are reused, an interrupted run resumes from its last checkpoint, so running
the command again picks up where it stopped. Writes ``<results>/<table>.md``: the paper's
value beside ours (mean ± std over seeds), the protocol card, configs and run ids, and
for each row that could not be produced, why. Exit 1 when a row failed, 2 on a user error.

``--quick`` runs every row with the table's CPU-sized settings (few iterations, few
samples) into runs/reproduce/quick/ and writes its markdown there: it exercises the whole
pipeline, its numbers mean nothing.

``--jobs K`` trains K runs at once before the rows are evaluated one by one, each ``fit`` with
cores / K threads: for tables of many small CPU runs (the 2-D ones), where one run cannot
use every core. The command line in the markdown says K, since per-run times depend on it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lit_gan.reproduce.session import reproduce
from lit_gan.reproduce.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lit_gan reproduce", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tables", nargs="*", type=Path, help="table files, e.g. experiments/goodfellow2014/table1.yaml")
    p.add_argument("--quick", action="store_true", help="CPU-sized version of every row (pipeline check, not numbers)")
    p.add_argument("--dry-run", action="store_true", help="list what would be trained and evaluated, run nothing")
    p.add_argument("--seeds", type=int, default=None, help="seeds per row (default: the table's)")
    p.add_argument("--devices", type=int, default=1, help="devices for fit and evaluate (GPUs, or CPU processes)")
    p.add_argument("--jobs", type=int, default=1,
                   help="train this many runs at once (CPU: each gets cores / jobs threads); evaluation stays serial")
    p.add_argument("--runs", type=Path, default=None, help="run directory (default runs/reproduce/<table>)")
    p.add_argument("--results", type=Path, default=None, help="where <table>.md goes (default results/)")
    p.add_argument("--data-root", type=str, default=None, help="sets --data.init_args.root for every row")
    p.add_argument("--feature-extractor", type=str, default=None,
                   help="replace the tables' extractor (the markdown then says the protocol differs)")
    p.add_argument("--update-readme", action="store_true", help="regenerate the results index <results>/README.md from <results>/*.md")
    return p


def main(argv: list[str]) -> int:
    settings = Settings(**vars(build_parser().parse_args(argv)))
    problem = settings.problem()
    if problem:
        build_parser().print_usage(sys.stderr)
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return reproduce(settings)
