"""What a table row's settings imply for its fit and evaluate commands."""

from __future__ import annotations

from pathlib import Path

from lit_gan.evaluation.registry import FEATURE_METRICS
from lit_gan.reproduce.table import metric_list


def needs_features(options: dict) -> bool:
    """Whether a row's metrics go through a feature extractor (Parzen works on pixels)."""
    return bool(set(metric_list(options.get("metrics"))) & set(FEATURE_METRICS))


def datamodule_takes_root(config: str) -> bool:
    import importlib
    import inspect

    import yaml

    class_path = ((yaml.safe_load(Path(config).read_text()) or {}).get("data") or {}).get("class_path", "")
    module, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return True  # let fit report the unknown class
    return "root" in inspect.signature(cls.__init__).parameters


def data_overrides(fit_args: list[str]) -> list[str]:
    """The ``--data.*`` arguments among a row's fit arguments (a floor reads the same data)."""
    found, i = [], 0
    while i < len(fit_args):
        arg = fit_args[i]
        if arg.startswith("--data."):
            if "=" in arg:
                found.append(arg)
            elif i + 1 < len(fit_args):
                found.append(f"{arg}={fit_args[i + 1]}")
                i += 1
        i += 1
    return found
