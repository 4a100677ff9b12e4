"""Training runs of a reproduction: one ordinary ``fit`` per (config, arguments, seed), in
its own directory, reused when finished and resumed from its last checkpoint when not."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lit_gan.training.resume import newest_checkpoint

DONE = "DONE"  # written after `fit` exits 0: a checkpoint alone may be from an interrupted run


class RunFailed(RuntimeError):
    """A training or evaluation subprocess exited non-zero; the message ends with its log's tail."""


def digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Run:
    config: str
    fit_args: tuple[str, ...]
    seed: int
    root: Path  # the reproduction's run directory

    @property
    def id(self) -> str:
        # The config's text is part of the id: an edited experiment is a different run.
        text = Path(self.config).read_text() if Path(self.config).is_file() else ""
        return f"{Path(self.config).stem}_{digest(self.config, text, *self.fit_args)}_seed{self.seed}"

    @property
    def dir(self) -> Path:
        return self.root / self.id

    def finished_checkpoint(self) -> Path | None:
        return newest_checkpoint(self.dir) if (self.dir / DONE).is_file() else None


def tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def run_logged(cmd: list[str], log: Path, what: str, env: dict[str, str] | None = None) -> None:
    """Run ``cmd`` with stdout + stderr appended to ``log``; RunFailed with the log's tail.
    ``env`` adds to (or overrides) this process's environment."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT,
                              env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})))
    if done.returncode != 0:
        reason = last_error(tail(log, 20_000))
        raise RunFailed(f"{what} failed (exit {done.returncode}){': ' + reason if reason else ''} (log: {log})\n{tail(log)}")


def last_error(text: str) -> str:
    """The last line of a log that says what went wrong (``error: ...`` / ``SomeError: ...``)."""
    lines = text.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].strip()
        if line.lower().startswith("error:") or re.match(r"^[\w.]*(Error|Exception|Missing)\b.*:", line):
            if line.endswith(":"):  # the detail follows: "every source failed:\n  URL\n    -> why"
                line += " " + " ".join(part.strip() for part in lines[i + 1 : i + 3])
            return line[:300]
    return ""


def train(run: Run, extra_args: list[str], env: dict[str, str] | None = None) -> Path:
    """The run's final checkpoint, training (or resuming) it first when it isn't finished.
    ``env``: extra environment for the ``fit`` process (``reproduce --jobs`` sets its threads)."""
    ckpt = run.finished_checkpoint()
    if ckpt is not None:
        return ckpt
    cmd = [sys.executable, "-m", "lit_gan", "fit", "--config", run.config, "--seed_everything", str(run.seed),
           "--trainer.logger.init_args.save_dir", str(run.root), "--trainer.logger.init_args.name", run.id,
           "--trainer.enable_progress_bar", "false", *run.fit_args, *extra_args]
    interrupted = newest_checkpoint(run.dir)
    if interrupted is not None:  # an earlier reproduce stopped mid-run: go on from there
        cmd += ["--ckpt_path", str(interrupted)]
    start = time.monotonic()
    run_logged(cmd, run.dir / "fit.log", f"training {run.id}", env)
    ckpt = newest_checkpoint(run.dir)
    if ckpt is None:
        raise RunFailed(f"training {run.id} ended without a last.ckpt under {run.dir}")
    seconds = time.monotonic() - start + (training_seconds(run) or 0.0)  # a resumed run adds up
    (run.dir / DONE).write_text(json.dumps({"train_seconds": round(seconds, 1)}) + "\n")
    return ckpt


def training_seconds(run: Run) -> float | None:
    """Wall time the run's training took (its DONE marker records it), if known."""
    try:
        return float(json.loads((run.dir / DONE).read_text())["train_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
