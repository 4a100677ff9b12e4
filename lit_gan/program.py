"""The name a user typed to start lit_gan, for usage lines and hints."""

from __future__ import annotations

import os
import sys


def program_name() -> str:
    """``lit-gan`` under the console script, else ``python -m lit_gan`` (argparse alone would
    say ``__main__.py``)."""
    script = os.path.basename(sys.argv[0]) if sys.argv else ""
    return "lit-gan" if script.startswith("lit-gan") else "python -m lit_gan"
