"""``compile: true``: each net's forward through ``torch.compile``, in place.

``nn.Module.compile()`` keeps the module object, so a checkpoint's state_dict keys are the
same with and without it (wrapping with ``torch.compile(net)`` would add ``_orig_mod.``).
Manual optimization and ``toggled_optimizer`` work: flipping ``requires_grad`` makes Dynamo
compile a second graph, not a wrong one. A net differentiated twice (WGAN-GP's
``autograd.grad(create_graph=True)``) stays eager: AOTAutograd raises "torch.compile with
aot_autograd does not currently support double backward" (measured with torch 2.14.1).
Measured cost on 2 CPU cores: a DCGAN-28 step 0.85-1.05x eager after a ~40 s compile;
the gain is a GPU one (benchmarks/gpu_check.py).
"""

from __future__ import annotations

from torch import nn


def compile_nets(model: nn.Module, eager: tuple[str, ...] = ()) -> list[str]:
    """Compile every child of ``model`` that holds parameters (the nets; metrics and image
    pools hold none), except those named in ``eager``; once per net. Returns the names."""
    done = []
    for name, child in model.named_children():
        if name in eager or not any(True for _ in child.parameters()):
            continue
        if getattr(child, "_compiled_call_impl", None) is None:  # repeated fit(): compile once
            child.compile()
        done.append(name)
    return done
