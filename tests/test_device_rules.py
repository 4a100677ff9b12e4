"""The device rule, checked over the source (lit_gan.distributed states the rules): a tensor
made in a training or evaluation path is made on the device of the tensors it meets.

A torch factory (``torch.zeros``, ``torch.randn``, ``torch.tensor``, ...) without ``device=``
makes a CPU tensor; on a GPU it then meets CUDA tensors and fails, or silently draws from the
CPU's random stream. Each such call in lit_gan/ must pass ``device=`` or say why the CPU is
right with a ``# cpu: <why>`` comment on its lines or the line above (a metric state that
torchmetrics moves, a parameter's initial value, labels the model moves itself, ...).
The data layer (lit_gan/data) is exempt: loaders build CPU batches by design, and Lightning
moves them.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lit_gan"
FACTORIES = {"zeros", "ones", "empty", "full", "arange", "rand", "randn", "randint", "randperm", "tensor", "eye",
             "linspace", "logspace", "normal", "as_tensor"}
EXEMPT = ("data",)


def device_free_factories(source: str) -> list[tuple[int, str]]:
    """(line, call) of every torch factory call without ``device=`` and without a ``# cpu:`` reason."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"
                and node.func.attr in FACTORIES):
            continue
        if any(k.arg == "device" for k in node.keywords):
            continue
        near = lines[max(node.lineno - 2, 0): node.end_lineno]
        if any("# cpu:" in line for line in near):
            continue
        found.append((node.lineno, ast.unparse(node)[:80]))
    return found


def test_every_tensor_factory_names_its_device_or_why_the_cpu():
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{line}: {call}"
                 for path in sorted(PACKAGE.rglob("*.py")) if path.relative_to(PACKAGE).parts[0] not in EXEMPT
                 for line, call in device_free_factories(path.read_text())]
    assert not offenders, ("tensors made without device= (pass the device of the tensors they meet, or add "
                           "'# cpu: <why>'):\n" + "\n".join(offenders))


def test_the_check_finds_what_it_is_for():
    source = ("import torch\n"
              "def noise(x):\n"
              "    return torch.randn(x.shape[0], 8)\n"  # offends
              "def good(x):\n"
              "    return torch.randn(3, device=x.device)\n"
              "def state():\n"
              "    # cpu: a metric state, moved with the metric\n"
              "    return torch.zeros(3)\n"
              "def mask(x):\n"
              "    return torch.rand(\n"
              "        3)  # cpu: a Python-level coin flip\n")
    assert device_free_factories(source) == [(3, "torch.randn(x.shape[0], 8)")]
