"""pix2pix paper inference (Isola et al. 2017, sec. 3.3): batched vs one image at a time.

The generator of experiments/isola2017/pix2pix_edges2fashion.yaml (its model settings, N(0, 0.02)
weights from seed 0, or a trained ``--ckpt``) translates the 10,000 edges2fashion test inputs
(A = edges, 3x32x32) both ways in one run: ``translate_one_at_a_time`` (the reference: one
forward per image, the dropout stream re-seeded before each) and ``translate_batched`` (what
``model.translate`` runs: one forward per ``--batch-size`` images). Prints the seconds of each,
the speed-up, the largest absolute difference of the two outputs, and ends with one JSON line.

    python -m lit_gan prepare edges2fashion --root data --also-look-in /usr/share/datasets/fashion-mnist
    python benchmarks/paper_inference_speed.py                    # CPU, all cores
    python benchmarks/paper_inference_speed.py --synthetic        # uniform [-1, 1] images instead
    python benchmarks/paper_inference_speed.py --device cuda
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
import yaml

try:
    import lit_gan  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lit_gan.data.paired import PairedImageDataModule
from lit_gan.models.paper_inference import translate_batched, translate_one_at_a_time
from lit_gan.models.pix2pix import Pix2Pix

CONFIG = Path(__file__).resolve().parents[1] / "experiments/isola2017/pix2pix_edges2fashion.yaml"


def inputs(args, data: dict) -> tuple[torch.Tensor, str]:
    if args.synthetic:
        g = torch.Generator().manual_seed(0)
        return torch.rand(args.count, 3, data["crop_size"], data["crop_size"], generator=g) * 2 - 1, "synthetic"
    dm = PairedImageDataModule(root=args.root, dataset=data["dataset"], direction=data["direction"],
                               load_size=data["load_size"], crop_size=data["crop_size"], also_look_in=data["also_look_in"])
    dm.prepare_data()  # builds edges2fashion when it is not there yet (about a minute)
    dm.setup("test")
    n = min(args.count, len(dm.test_set))
    return torch.stack([dm.test_set[i][1] for i in range(n)]), f"{data['dataset']} test"


def timed(fn, x: torch.Tensor, batch_size: int) -> tuple[torch.Tensor, float]:
    fn(x[:batch_size])  # warm-up: allocator, oneDNN / cuDNN choices
    if x.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = torch.cat([fn(part) for part in x.split(batch_size)])
    if x.is_cuda:
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default="data", help="where edges2fashion/ is (or gets built)")
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--batch-size", type=int, default=250, help="evaluate's default")
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--ckpt", help="a trained Pix2Pix checkpoint instead of seed-0 weights")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    config = yaml.safe_load(CONFIG.read_text())
    data, settings = config["data"]["init_args"], config["model"]["init_args"]
    x, source = inputs(args, data)
    if args.ckpt:
        model = Pix2Pix.load_from_checkpoint(args.ckpt, map_location="cpu")
    else:
        torch.manual_seed(0)
        model = Pix2Pix(data_shape=(3, data["crop_size"], data["crop_size"]), **settings)
    net, x = model.generator.to(args.device), x.to(args.device)
    load_before = os.getloadavg()[0]
    with torch.no_grad():
        reference, t_one = timed(lambda part: translate_one_at_a_time(net, part), x, args.batch_size)
        batched, t_batch = timed(lambda part: translate_batched(net, part), x, args.batch_size)
    diff = (batched - reference).abs().max().item()
    result = {"images": len(x), "source": source, "batch_size": args.batch_size, "device": args.device,
              "threads": torch.get_num_threads(), "one_at_a_time_s": round(t_one, 2), "batched_s": round(t_batch, 2),
              "speedup": round(t_one / t_batch, 2), "max_abs_diff": diff,
              "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    print(f"{len(x)} {source} images, {args.device}, {torch.get_num_threads()} threads: "
          f"one at a time {t_one:.2f} s, batched ({args.batch_size}) {t_batch:.2f} s, "
          f"speed-up {t_one / t_batch:.1f}x, max |difference| {diff:.2e}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
