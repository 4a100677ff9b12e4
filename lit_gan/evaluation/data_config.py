"""A datamodule from a ``fit`` config's ``data`` section, with ``--data.*`` overrides
parsed as ``fit`` and ``evaluate`` parse them."""

from __future__ import annotations

from pathlib import Path

import yaml
from jsonargparse import ArgumentParser
from lightning import LightningDataModule

from lit_gan.errors import CommandError


def data_section(config: str) -> dict:
    if not Path(config).is_file():
        raise CommandError(f"--config {config}: no such file")
    section = (yaml.safe_load(Path(config).read_text()) or {}).get("data")
    if section is None:
        raise CommandError(f"{config} has no `data` section")
    return section


def datamodule_from_config(config: str, data_args: list[str] = ()) -> LightningDataModule:
    parser = ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(LightningDataModule, "data", required=True, fail_untyped=False)
    parser.set_defaults(data=data_section(config))
    return parser.instantiate(parser.parse_args(list(data_args))).data
