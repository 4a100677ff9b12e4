"""Kept for older imports: the collectives live in lit_gan.distributed."""

from __future__ import annotations

from lit_gan.distributed import collective_device as _collective_device  # noqa: F401
from lit_gan.distributed import gather_rows, shard, world  # noqa: F401

__all__ = ["gather_rows", "shard", "world"]
