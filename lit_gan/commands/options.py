"""Options that the commands writing files from a checkpoint (generate, translate, arithmetic)
share, spelled and explained once."""

from __future__ import annotations

import argparse


def add_output_options(parser: argparse.ArgumentParser, overwrite_help: str) -> None:
    """--device, --overwrite (``overwrite_help`` says what it replaces) and --no-progress."""
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, or auto (default)")
    parser.add_argument("--overwrite", action="store_true", help=overwrite_help)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
