"""What `evaluate` costs over the bare forward passes it needs, on real checkpoints.

    python benchmarks/evaluate_speed.py              # Fashion-MNIST from /usr/share/datasets/fashion-mnist
    python benchmarks/evaluate_speed.py --quick      # a small fixture it writes itself (~1 min)

Two evaluations, each run through the `evaluate` command's own function (in this process,
after its imports): a first run fills the reference-feature cache, then ``--repeat`` timed
runs (median reported), as a user's second run has the real features cached.

- dcgan: 10,000 samples of DCGAN-28 (Radford et al.'s width 64, trained a few iterations on
  Fashion-MNIST here: the speed does not depend on training) with ``fid,kid,prdc``;
- pix2pix: the translations of edges2fashion's 10,000 test edges (the isola2017 edges2fashion
  config's nets, paper inference, a few iterations) with ``fid,accuracy,paired``.

Both read the features of a Fashion-MNIST classifier (lit_gan.classifier's net, width 32,
128 features, a few training steps: `train-classifier`'s net, not its accuracy). The bare
passes run in the same process, batch size and threads: G (or the translator's
``translate``, the papers' inference) on noise (or on the test inputs, read beforehand),
then the extractor (its input preparation and its net). ratio = evaluate_s / bare_s. The card's
``timing`` says where the rest went. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without `pip install -e .`

from lit_gan.data.fixtures import write_tiny_mnist  # noqa: E402  (--quick: the tests' tiny Fashion-MNIST)

FASHION = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def trainer(steps: int, root: Path):
    import lightning as L

    return L.Trainer(accelerator="cpu", devices=1, max_steps=steps, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                     num_sanity_val_steps=0, default_root_dir=root)


def make_checkpoints(work: Path, source: Path, iters: int) -> dict[str, Path]:
    """DCGAN and pix2pix checkpoints and a classifier extractor, trained ``iters`` steps each."""
    import lightning as L

    from lit_gan.classifier import ImageClassifier
    from lit_gan.data import MNISTDataModule
    from lit_gan.data.paired import PairedImageDataModule
    from lit_gan.metrics.feature_module import save_feature_module
    from lit_gan.models import DCGAN
    from lit_gan.models.pix2pix import Pix2Pix

    data, out = work / "data", {"dcgan": work / "dcgan.ckpt", "pix2pix": work / "pix2pix.ckpt",
                                "extractor": work / "classifier.pt2"}
    L.seed_everything(0, verbose=False)
    fashion = MNISTDataModule(root=str(data), variant="fashion", also_look_in=[str(source)], batch_size=64,
                              val_size=0)
    if not out["dcgan"].exists():  # radford2015/dcgan_fashion_mnist.yaml's nets, G sampled in eval mode
        model = DCGAN(data_shape=(1, 28, 28), latent_dim=100, generator="dcgan", generator_options={"features": 64},
                      discriminator="dcgan", discriminator_options={"features": 64, "norm": "batch"})
        t = trainer(model.max_steps_for(iters), work)
        t.fit(model, datamodule=fashion)
        t.save_checkpoint(out["dcgan"])
    if not out["pix2pix"].exists():  # isola2017/pix2pix_edges2fashion.yaml's nets and inference
        edges = PairedImageDataModule(root=str(data), dataset="edges2fashion", also_look_in=[str(source)],
                                      direction="AtoB", load_size=36, crop_size=32, batch_size=4)
        model = Pix2Pix(data_shape=(3, 32, 32), direction="AtoB", generator="unet",
                        generator_options={"features": 32, "norm": "batch", "dropout": True},
                        discriminator_options={"features": 32, "n_layers": 1, "norm": "batch"}, inference="paper")
        t = trainer(model.max_steps_for(iters), work)
        t.fit(model, datamodule=edges)
        t.save_checkpoint(out["pix2pix"])
    if not out["extractor"].exists():  # train-classifier's net (experiments/classifiers/fashion_mnist.yaml)
        model = ImageClassifier(data_shape=(1, 28, 28), num_classes=10, class_names=CLASSES, width=32, feature_dim=128)
        trainer(iters, work).fit(model, datamodule=fashion)
        example = torch.zeros(2, 1, 28, 28)  # cpu: an export example, its values unused
        save_feature_module(model.extractor(), out["extractor"], example,
                            {"num_classes": 10, "class_names": CLASSES, "input_range": [-1.0, 1.0],
                             "dataset": "fashion-mnist (benchmark: a few steps)"})
    return out


REPEAT = 3  # each timed part runs this many times; its median is reported (main sets it from --repeat)


def timed_evaluate(argv: list[str]) -> tuple[float, dict]:
    """The median seconds of REPEAT evaluations, after one that fills the reference cache (and
    warms up); the result (its card's timing) of the median run."""
    from lit_gan.commands.evaluate import evaluate

    evaluate(argv)
    runs = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = evaluate(argv)
        runs.append((time.perf_counter() - start, result))
    runs.sort(key=lambda run: run[0])
    return runs[len(runs) // 2]


def seconds(fn) -> float:
    """The median seconds of REPEAT calls of ``fn`` (no gradients)."""
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        with torch.no_grad():
            fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def bare_extractor(extractor, images: torch.Tensor, batch_size: int) -> float:
    """The extractor's forward on uint8 batches: its input preparation (to its range, size and
    channels) and its net, as a hand-written loop needs both."""
    batches = images.split(batch_size)
    extractor.module(extractor._prepare(batches[0]))  # warm-up
    return seconds(lambda: [extractor.module(extractor._prepare(b)) for b in batches])


def dcgan(paths: dict[str, Path], data: Path, source: Path, num: int, batch_size: int, cache: Path) -> dict:
    from lit_gan.conversion import to_uint8
    from lit_gan.evaluation.checkpoints import load_model
    from lit_gan.metrics.extractors import load_extractor

    evaluate_s, result = timed_evaluate(
        ["--ckpt", str(paths["dcgan"]), "--num", str(num), "--metrics", "fid,kid,prdc", "--no-progress",
         "--feature-extractor", str(paths["extractor"]), "--batch-size", str(batch_size), "--cache-dir", str(cache),
         f"--data.init_args.root={data}", f"--data.init_args.also_look_in=[{source}]", "--accelerator", "cpu"])
    model, extractor = load_model(paths["dcgan"]), load_extractor(str(paths["extractor"]))
    z = torch.randn(num, model.hparams.latent_dim, generator=torch.Generator().manual_seed(0))  # cpu: G's device here
    model.generate(z[:batch_size])  # warm-up
    out: list[torch.Tensor] = []
    g_s = seconds(lambda: out.__setitem__(slice(None), [model.generate(b) for b in z.split(batch_size)]))
    e_s = bare_extractor(extractor, to_uint8(torch.cat(out)), batch_size)
    return summary(evaluate_s, {"generator_s": g_s, "extractor_s": e_s}, result, num)


def pix2pix(paths: dict[str, Path], data: Path, source: Path, batch_size: int, cache: Path) -> dict:
    from lit_gan.conversion import to_uint8
    from lit_gan.data.paired import PairedImageDataModule
    from lit_gan.evaluation.checkpoints import load_model
    from lit_gan.metrics.extractors import load_extractor

    evaluate_s, result = timed_evaluate(
        ["--ckpt", str(paths["pix2pix"]), "--metrics", "fid,accuracy,paired", "--no-progress",
         "--feature-extractor", str(paths["extractor"]), "--batch-size", str(batch_size), "--cache-dir", str(cache),
         f"--data.init_args.root={data}", f"--data.init_args.also_look_in=[{source}]", "--accelerator", "cpu"])
    model, extractor = load_model(paths["pix2pix"]), load_extractor(str(paths["extractor"]))
    dm = PairedImageDataModule(root=str(data), dataset="edges2fashion", direction="AtoB", load_size=36, crop_size=32)
    dm.setup("test")
    inputs = torch.stack([dm.test_set[i][1] for i in range(len(dm.test_set))])  # read beforehand: not timed
    model.translate(inputs[:2])  # warm-up
    out: list[torch.Tensor] = []
    t_s = seconds(lambda: out.__setitem__(slice(None), [model.translate(b) for b in inputs.split(batch_size)]))
    e_s = bare_extractor(extractor, to_uint8(torch.cat(out)), batch_size)
    return summary(evaluate_s, {"translator_s": t_s, "extractor_s": e_s}, result, len(inputs))


def summary(evaluate_s: float, bare: dict[str, float], result: dict, num: int) -> dict:
    """ratio: evaluate / bare; ratio_without_metrics: the same with the metrics' own compute
    (the card's metrics_s: KID's subsets, PRDC's distances, ...) taken out of evaluate."""
    bare_s = sum(bare.values())
    timing = {k: v for k, v in result["protocol"].get("timing", {}).items() if k != "note"}
    metrics_s = sum(timing.get("metrics_s", {}).values())
    return {"evaluate_s": round(evaluate_s, 2), "bare_s": round(bare_s, 2), "ratio": round(evaluate_s / bare_s, 2),
            "ratio_without_metrics": round((evaluate_s - metrics_s) / bare_s, 2) if timing else None,
            "num": num, "bare": {k: round(v, 2) for k, v in bare.items()}, "timing": timing, "metrics": result["metrics"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the tests' tiny Fashion-MNIST fixture (600 train / 200 test images), 200 samples")
    p.add_argument("--root", default=FASHION, help="the four Fashion-MNIST IDX files")
    p.add_argument("--work", default=None, help="folder for data, checkpoints and cache (default: a temporary one); "
                   "reused when given")
    p.add_argument("--num", type=int, default=None, help="DCGAN samples (default 10,000; --quick 200)")
    p.add_argument("--iters", type=int, default=None, help="training iterations of each net (default 20; --quick 2)")
    p.add_argument("--batch-size", type=int, default=250)
    p.add_argument("--repeat", type=int, default=REPEAT, help="timed runs of each part; medians are reported "
                   "(this machine's timings vary by 2x from run to run)")
    args = p.parse_args()
    globals()["REPEAT"] = max(1, args.repeat)
    load = [round(os.getloadavg()[0], 2)]
    if load[0] > 0.5:
        print(f"warning: load average {load[0]}: other processes skew the timings (measure on an idle machine)",
              file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        source = write_tiny_mnist(work / "source", 600, 200) if args.quick else Path(args.root)
        if not args.quick and not (source / "t10k-images-idx3-ubyte.gz").exists():
            sys.exit(f"error: no Fashion-MNIST in {source}: apt-get install dataset-fashion-mnist, or pass --root or --quick")
        paths = make_checkpoints(work, source, args.iters or (2 if args.quick else 20))
        num = args.num or (200 if args.quick else 10_000)
        cache = work / "cache"
        results = {"dcgan": dcgan(paths, work / "data", source, num, args.batch_size, cache),
                   "pix2pix": pix2pix(paths, work / "data", source, args.batch_size, cache)}
    for name, r in results.items():
        print(f"{name}: evaluate {r['evaluate_s']} s, bare {r['bare_s']} s {r['bare']}, ratio {r['ratio']}; "
              f"card: {r['timing']}", file=sys.stderr)
    load.append(round(os.getloadavg()[0], 2))
    results["threads"], results["quick"], results["load_average"] = torch.get_num_threads(), args.quick, load
    results["repeat"] = REPEAT
    print(json.dumps(results))


if __name__ == "__main__":
    main()
