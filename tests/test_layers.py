"""The package's layer order, written once here, and the test that every import keeps to it.

A unit is a subpackage of lit_gan or one of its top-level modules. A module may import its
own unit and the units of its own or a lower layer, never a higher one; function-local
imports and "module:attribute" registry strings count. The units' import graph has no
cycle, nor has any package's module graph. ``python tests/test_layers.py`` prints what
the scan finds.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

if __name__ == "__main__":  # run as a script: `tests` is this folder (torch-fidelity installs a `tests` package)
    sys.modules["tests"] = types.ModuleType("tests")
    sys.modules["tests"].__path__ = [str(Path(__file__).resolve().parent)]

from tests.import_graph import (PACKAGE, cycle_witnesses, cycles, module_imports, unit_graph,  # noqa: E402
                                upward_imports, within_units)

# Bottom to top: (layer, its units, what lives there).
LAYERS: tuple[tuple[str, frozenset[str], str], ...] = (
    ("core", frozenset({"__init__", "errors", "atomic", "conversion", "download", "distributed", "launch",
                        "program", "sync_batchnorm"}),
     "knows nothing of GANs: user errors, atomic writes, [-1,1]<->uint8, downloads, ranks and launchers"),
    ("parts", frozenset({"nets", "losses", "data", "metrics", "training", "plotting", "augment"}),
     "building blocks over core: nets, losses, datamodules, pure metric computations, "
     "divergence / resume rules, EMA and spectral norm, drawing, differentiable augmentation"),
    ("models", frozenset({"models", "classifier"}),
     "LightningModules: the GANs and the feature classifier"),
    ("evaluation", frozenset({"evaluation"}),
     "reading a model: the sampling protocol, the metric registry, the evaluate() call"),
    ("callbacks", frozenset({"callbacks"}),
     "what a training run shows and checks: sample grids, metric and mode-coverage callbacks"),
    ("applications", frozenset({"reproduce", "arithmetic"}),
     "programs over the library: paper tables and figures, latent arithmetic"),
    ("cli", frozenset({"cli"}),
     "LightningCLI for fit / validate / test / predict (our commands reuse its parser)"),
    ("commands", frozenset({"commands", "__main__"}),
     "our own commands and the dispatcher: argument parsing and one library call each; nothing imports them"),
)
LAYER_OF = {unit: rank for rank, (_, units, _) in enumerate(LAYERS) for unit in units}

# Imports allowed upward, each with its reason: old class paths that saved configs name, each
# a module ``__getattr__`` that imports the moved class on first use only.
COMPATIBILITY_ALIASES: dict[tuple[str, str], str] = {
    ("lit_gan.metrics.callback", "lit_gan.callbacks.generative_metrics"):
        "saved configs and results/ name lit_gan.metrics.callback.GenerativeMetrics",
    ("lit_gan.metrics.modes", "lit_gan.callbacks.mode_coverage"):
        "saved configs name lit_gan.metrics.modes.ModeCoverage",
}


def problems(package: Path = PACKAGE) -> list[str]:
    imports = module_imports(package)
    for (importer, imported) in COMPATIBILITY_ALIASES:
        imports.get(importer, set()).discard(imported)
    found = [f"cycle: {' <-> '.join(c)}: {'; '.join(cycle_witnesses(c, imports))}"
             for c in cycles(unit_graph(imports))]
    found += [f"module cycle: {' <-> '.join(c)}" for c in cycles(within_units(imports))]
    found += [f"upward: {line}" for line in upward_imports(imports, LAYER_OF)]
    return found


def test_every_unit_has_one_layer():
    units = [unit for _, layer_units, _ in LAYERS for unit in layer_units]
    assert len(units) == len(set(units))
    present = {unit for unit in unit_graph(module_imports())}
    assert present - set(units) == set(), "add these units to LAYERS"
    assert set(units) - present == set(), "LAYERS names units that no longer exist"


def test_imports_keep_to_the_layers_and_make_no_cycle():
    found = problems()
    assert not found, "\n".join(found)


def test_compatibility_aliases_are_still_needed():
    imports = module_imports()
    stale = [pair for pair in COMPATIBILITY_ALIASES if pair[1] not in imports.get(pair[0], set())]
    assert not stale, f"these allowed imports are gone; drop them from COMPATIBILITY_ALIASES: {stale}"


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "lit_gan"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_check_sees_a_function_local_upward_import(tmp_path):
    root = _package(tmp_path, {"__init__.py": "", "errors.py": "", "nets/__init__.py": "",
                               "commands/__init__.py": "", "commands/run.py": "",
                               "nets/mlp.py": "def build():\n    from ..commands import run\n"})
    assert problems(root) == ["upward: lit_gan.nets.mlp (1) -> lit_gan.commands.run (7)"]


def test_the_check_sees_a_cycle_and_a_registry_string(tmp_path):
    root = _package(tmp_path, {"__init__.py": "", "data/__init__.py": "from lit_gan.losses import x\n",
                               "losses/__init__.py": "", "losses/x.py": "RUN = 'lit_gan.data:load'\n"})
    found = problems(root)
    assert found[0].startswith("cycle: data <-> losses") and len(found) == 1


def test_the_check_sees_a_module_cycle_inside_a_package(tmp_path):
    root = _package(tmp_path, {"__init__.py": "", "data/__init__.py": "", "data/a.py": "from . import b\n",
                               "data/b.py": "def f():\n    from lit_gan.data.a import g\n"})
    assert problems(root) == ["module cycle: lit_gan.data.a <-> lit_gan.data.b"]


if __name__ == "__main__":
    found = problems(Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGE)
    print("\n".join(found + [f"{len(found)} problem(s): cycles, module cycles and upward imports"]))
