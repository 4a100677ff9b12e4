"""How a model states only what differs from its parent: its ``__init__`` lists its own arguments
and the defaults it changes, then forwards them with the rest::

    def __init__(self, lr_g: float = 2e-4, **kwargs: Any) -> None:
        super().__init__(**own_arguments(locals()), **kwargs)

LightningCLI (jsonargparse) resolves ``**kwargs`` through such ``super().__init__`` calls, so
``--help`` and ``--print_config`` list the parent's arguments too, each with the child's default.
"""

from __future__ import annotations

from typing import Any


def own_arguments(local_vars: dict[str, Any]) -> dict[str, Any]:
    """The arguments of the ``__init__`` whose ``locals()`` these are, without self and kwargs."""
    return {name: value for name, value in local_vars.items() if name not in ("self", "kwargs", "__class__")}
