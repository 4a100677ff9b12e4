"""The cost of the mode-collapse remedies per discriminator step, against the plain D.

One D step = D on a real batch and on a fake batch, the non-saturating loss, backward, Adam
step (G is not run: its cost does not depend on D's options). For each batch size and each
D (plain, + minibatch stddev, + minibatch discrimination with 100 kernels x 5, + pack 2), the
median of ``--repeats`` timed steps after warm-up, and the ratio to the plain D measured in
the same process. Minibatch discrimination compares every pair of samples: O(batch^2) work
and memory per kernel, visible as the ratio grows with the batch size.

    python benchmarks/minibatch_cost.py                           # DCGAN D at 28 px (Fashion-MNIST)
    python benchmarks/minibatch_cost.py --net maxout --batch-sizes 100 400 1600   # the 2-D maxout D
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

try:
    import lit_gan  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lit_gan.nets import build_discriminator

VARIANTS = {
    "plain": {},
    "minibatch_stddev": {"minibatch_stddev": True},
    "minibatch_discrimination": {"minibatch_discrimination": True},
    "pack_2": {"pack": 2},
}
NETS = {  # (data shape, the net's own options)
    "dcgan": ((1, 28, 28), {"features": 64, "norm": "batch"}),
    "maxout": ((2,), {"units": 200, "pieces": 5, "input_dropout": 0.0, "dropout": 0.0}),
}


def step_seconds(d: torch.nn.Module, shape: tuple[int, ...], batch: int, repeats: int) -> float:
    opt = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    real, fake = torch.randn(batch, *shape), torch.randn(batch, *shape)
    times = []
    for i in range(repeats + 3):  # 3 warm-up steps
        start = time.perf_counter()
        real_logits, fake_logits = d(real), d(fake)
        loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--net", choices=sorted(NETS), default="dcgan")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    shape, options = NETS[args.net]
    torch.manual_seed(0)
    rows = []
    for batch in args.batch_sizes:
        plain = None
        for name, extra in VARIANTS.items():
            seconds = step_seconds(build_discriminator(args.net, shape, {**options, **extra}), shape, batch, args.repeats)
            plain = plain or seconds
            rows.append({"net": args.net, "batch": batch, "variant": name, "ms_per_d_step": round(seconds * 1e3, 2),
                         "ratio_to_plain": round(seconds / plain, 2)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}))


if __name__ == "__main__":
    main()
