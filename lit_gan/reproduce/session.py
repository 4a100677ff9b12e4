"""One ``reproduce`` invocation: every table given, checked before anything runs; then the
dry-run plan, or each table's reproduction; the README's results section; the exit status."""

from __future__ import annotations

import sys
from pathlib import Path

from lit_gan.reproduce.readme import update_readme
from lit_gan.reproduce.report import results_table
from lit_gan.reproduce.reproduction import Reproduction, say
from lit_gan.reproduce.settings import Settings
from lit_gan.reproduce.table import TableError, load_table


def reproduce(settings: Settings) -> int:
    """0 when every row was produced, 1 when one failed, 2 on a bad table."""
    try:
        reproductions = [Reproduction(load_table(path), settings) for path in settings.tables]
        for reproduction in reproductions:  # every row's evaluate options, before anything runs
            for row in reproduction.table.rows:
                if row.kind in ("run", "floor"):
                    reproduction.evaluate_options(row.settings(settings.quick)[2])
    except TableError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if settings.dry_run:
        for reproduction in reproductions:
            print("\n".join(reproduction.plan()))
        return 0
    failed = []
    for reproduction in reproductions:
        path, results = reproduction.run()
        print(f"{reproduction.table.title}\n\n{results_table(reproduction.table, results)}\n\nwritten: {path}\n")
        failed += [f"{reproduction.table.name} / {r.row.name}: {r.problem}" for r in results if r.problem]
        if reproduction.figure_problem:
            failed.append(f"{reproduction.table.name} / figure: {reproduction.figure_problem}")
    if settings.update_readme:
        results_dir = settings.results or Path("results")
        index = results_dir / "README.md"
        changed = update_readme(index, results_dir)
        say(f"{index} {'updated' if changed else 'already up to date'} from {results_dir}/*.md")
    if failed:
        say("rows not produced:\n  " + "\n  ".join(failed))
        return 1
    return 0
