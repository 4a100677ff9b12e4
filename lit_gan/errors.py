"""Which failures a user can fix from the message alone, and how they are shown.

Missing or damaged data, a failed download, a bad setting or a launcher that disagrees
with the config print as ``error: <message>`` and exit with code 2 (as our own commands
do); anything else may be a bug and keeps its traceback. ``LIT_GAN_VERBOSE=1`` (or
``python -m lit_gan --verbose <command>``) shows the traceback of every error.
"""

from __future__ import annotations

import os
import sys

VERBOSE_ENV = "LIT_GAN_VERBOSE"
EXIT_USER_ERROR = 2


class UserError(Exception):
    """A mistake in how a run was started; the message says what to do."""


class SettingError(UserError, ValueError):
    """Settings that cannot work together, found when the run starts (e.g. fp16 with a gradient
    penalty): one line and exit 2 like any user error, and still a ValueError for library callers."""


class CommandError(UserError):
    """A user-facing failure of one of our commands: printed without a traceback, exit code 2."""


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def user_facing(exc: BaseException) -> BaseException | None:
    """The error to show in short, or None when ``exc`` should keep its traceback."""
    if isinstance(exc, UserError):  # lit_gan.download.DownloadError among them
        return exc
    module, function = _raised_in(exc)
    # the data layer and the CLI raise OSError / ValueError deliberately, naming the file or setting
    if isinstance(exc, (OSError, ValueError)) and module.startswith(("lit_gan.data.", "lit_gan.cli")):
        return exc
    # a lit_gan constructor refusing an argument: a bad setting
    if isinstance(exc, ValueError) and module.startswith("lit_gan.") and function == "__init__":
        return exc
    # jsonargparse re-raises a constructor's error as "Does not validate against any of the
    # Union subtypes"; a ValueError that lit_gan raised there is a bad setting in the config
    if module.startswith("jsonargparse") and exc.__cause__ is not None:
        cause = exc.__cause__
        if isinstance(cause, ValueError) and _raised_in(cause)[0].startswith("lit_gan."):
            return cause
        return user_facing(cause)
    return None


def _raised_in(exc: BaseException) -> tuple[str, str]:
    """(module, function) of the frame that raised ``exc``; ('', '') when unknown."""
    tb = exc.__traceback__
    if tb is None:
        return "", ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return str(tb.tb_frame.f_globals.get("__name__", "")), tb.tb_frame.f_code.co_name


def short_report(exc: BaseException, program: str) -> str:
    """``error: <message>`` (with the rank when several processes run) and how to see more."""
    return f"error{_rank_label()}: {exc}\n({VERBOSE_ENV}=1 or `{program} --verbose <command> ...` shows the traceback)"


def _rank_label() -> str:
    """' (rank 1 of 2)' under a launcher, ' (rank 1)' for a rank that Lightning's DDP started, else ''."""
    env = os.environ
    rank = env.get("RANK") or env.get("SLURM_PROCID")  # a launcher's global rank
    lightning = sys.modules.get("lightning.fabric.utilities.rank_zero")
    if rank is None and lightning is not None:  # Lightning's DDP sets it (and drops WORLD_SIZE on teardown)
        rank = getattr(lightning.rank_zero_only, "rank", None)
    rank = rank if rank is not None else env.get("LOCAL_RANK")
    world = env.get("WORLD_SIZE") or env.get("SLURM_NTASKS") or "1"
    try:
        rank, world = int(rank or 0), int(world)
    except ValueError:
        return ""
    if world > 1:
        return f" (rank {rank} of {world})"
    return f" (rank {rank})" if rank else ""
