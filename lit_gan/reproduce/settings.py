"""What one ``reproduce`` invocation was asked to do, and the command line that says so in the markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

QUICK_ROOT = Path("runs/reproduce/quick")


@dataclass
class Settings:
    """``python -m lit_gan reproduce``'s options (lit_gan.commands.reproduce parses them)."""

    tables: list[Path] = field(default_factory=list)
    quick: bool = False  # CPU-sized version of every row: a pipeline check, not numbers
    dry_run: bool = False
    seeds: int | None = None  # seeds per row; None: the table's
    devices: int = 1
    jobs: int = 1  # runs trained at once
    runs: Path | None = None  # run directory; None: runs/reproduce/<table>
    results: Path | None = None  # where <table>.md goes; None: results/
    data_root: str | None = None
    feature_extractor: str | None = None  # replaces the tables' extractor
    update_readme: bool = False

    def problem(self) -> str | None:
        """What is wrong with these settings (one line), or None."""
        if not self.tables and not self.update_readme:
            return "give table files (e.g. experiments/goodfellow2014/table1.yaml) or --update-readme"
        if self.seeds is not None and self.seeds < 1:
            return f"--seeds must be >= 1, got {self.seeds}"
        if self.jobs < 1:
            return f"--jobs must be >= 1, got {self.jobs}"
        return None


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("lit_gan")
    except PackageNotFoundError:
        return "unknown"


def command_line(table_path: Path, settings: Settings) -> str:
    parts = ["python -m lit_gan reproduce", table_path.as_posix()]
    if settings.quick:
        parts.append("--quick")
    for flag in ("seeds", "devices", "jobs", "data_root", "feature_extractor"):
        value = getattr(settings, flag)
        if value is not None and not (flag in ("devices", "jobs") and value == 1):
            parts.append(f"--{flag.replace('_', '-')} {value}")
    return " ".join(parts)
