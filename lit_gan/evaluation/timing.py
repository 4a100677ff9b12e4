"""Where an evaluation's time goes: seconds per part, for the card of `evaluate`.

One ``Stopwatch`` is active per evaluation (``recording``); code in the evaluation path
marks its parts with ``section(key)`` (or ``timed_iter`` for a generator's items) and pays
nothing when none is active (the metrics callback during training). Sections nest and
count exclusively: a metric's update inside the translation loop is charged to the metric,
not to the forward pass around it. On a GPU each boundary synchronizes, so asynchronous
kernels land in the part that launched them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import torch

T = TypeVar("T")
_active: ContextVar["Stopwatch | None"] = ContextVar("lit_gan_stopwatch", default=None)


def _sync() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


class Stopwatch:
    """Exclusive seconds per key (a key inside another pauses the outer one)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[str] = []
        self._since = 0.0
        self._start = time.perf_counter()

    def _charge(self, now: float) -> None:
        if self._stack:
            key = self._stack[-1]
            self.seconds[key] = self.seconds.get(key, 0.0) + now - self._since
        self._since = now

    @contextmanager
    def section(self, key: str) -> Iterator[None]:
        _sync()
        self._charge(time.perf_counter())
        self._stack.append(key)
        try:
            yield
        finally:
            _sync()
            self._charge(time.perf_counter())
            self._stack.pop()

    def card(self) -> dict[str, Any]:
        """``{"total_s", "forward_s", ..., "metrics_s": {name: s}}``, rounded to milliseconds."""
        out: dict[str, Any] = {"total_s": round(time.perf_counter() - self._start, 3)}
        metrics = {k.removeprefix("metric:"): round(v, 3) for k, v in self.seconds.items() if k.startswith("metric:")}
        out.update({f"{k}_s": round(v, 3) for k, v in self.seconds.items() if not k.startswith("metric:")})
        out["metrics_s"] = metrics
        return out


@contextmanager
def recording() -> Iterator[Stopwatch]:
    """Make a fresh Stopwatch the active one for the block (inside another block, that one's:
    a command that loads the model first times the loading too)."""
    if _active.get() is not None:
        yield _active.get()
        return
    watch = Stopwatch()
    token = _active.set(watch)
    try:
        yield watch
    finally:
        _active.reset(token)


@contextmanager
def section(key: str) -> Iterator[None]:
    """Charge the block to ``key`` of the active Stopwatch (nothing when none is)."""
    watch = _active.get()
    if watch is None:
        yield
        return
    with watch.section(key):
        yield


def timed_iter(items: Iterable[T], key: str) -> Iterator[T]:
    """``items``, with the time spent making each one charged to ``key`` (not the consumer's)."""
    iterator = iter(items)
    while True:
        with section(key):
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item
