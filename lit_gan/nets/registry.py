"""Nets by name: a :class:`Registry` maps the names used in configs (``model.init_args.generator``,
``discriminator``) to builders, as ``lit_gan.losses.OBJECTIVES`` does for losses.

A new net is its file, one line in a registry and its test: models build their nets through a
registry, and the CLI lists and checks the names it holds (``names()``).
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Sequence

from torch import nn

from lit_gan.errors import SettingError

Builder = Callable[..., nn.Module]


class Registry(dict[str, Builder]):
    """name -> builder(*inputs, **options), for one kind of net: ``kind`` (and ``qualifier``, e.g.
    "conditional") name it in errors; its options are ``<last word of kind>_options``."""

    def __init__(self, kind: str, builders: dict[str, Builder], qualifier: str = "") -> None:
        super().__init__(builders)
        self.kind, self.qualifier = kind, qualifier

    def names(self) -> Any:
        """``Literal[...]`` of the names registered now: the type a model's argument takes, so that
        ``--help`` lists them and the CLI refuses any other name."""
        return Literal[tuple(self)]

    def check(self, name: str) -> Builder:
        if name not in self:
            kind = f"{self.qualifier} {self.kind}".strip()
            raise SettingError(f"Unknown {kind} {name!r}; choose one of {', '.join(self)}")
        return self[name]

    def build(self, name: str, *inputs: Any, options: dict[str, Any] | None = None) -> nn.Module:
        """The net ``name`` on ``inputs`` (shapes, sizes) with the config's ``options``; an unknown
        name or option is a one-line error naming the net."""
        builder, options = self.check(name), dict(options or {})
        try:
            return builder(*inputs, **options)
        except TypeError as err:
            net = f"{self.qualifier} {name!r} {self.kind}".strip()
            raise ValueError(f"Bad {self.kind.split()[-1]}_options {options} for the {net}: {err}") from None


def square_image(shape: Sequence[int], arch: str) -> dict[str, int]:
    """``image_size`` and ``channels`` of a (C, H, H) sample shape, for the conv nets."""
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"The {arch!r} nets need square images (C, H, H); the data has shape {tuple(shape)}")
    return {"image_size": shape[1], "channels": shape[0]}
