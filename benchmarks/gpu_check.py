"""One command for a GPU box: does lit_gan train, stop, resume and evaluate on this accelerator,
at every precision, compiled or not, and how fast?

On the first accelerator found (cuda > mps > cpu), with tiny data it writes itself (no downloads):

(a) for each model family (dcgan, wgangp, cdcgan = ConditionalDCGAN, pix2pix, cyclegan) x
    precision x compile: ``fit`` -> SIGTERM mid-epoch -> ``fit --ckpt_path last`` -> ``evaluate``,
    as real ``python -m lit_gan`` processes; one line per case, OK or the error
    (benchmarks/gpu_check_cycle.py). fp16 with a gradient penalty must be refused.
(b) the training noise is untouched by a metrics pass (the global CPU and CUDA RNG states before
    and after the GenerativeMetrics computation; a fit with the metrics callback gives the same
    weights as one without), and every resume of (a) equals its straight run (max |difference|).
(c) DCGAN-64, pix2pix-256 and CycleGAN-256 iterations/s and images/s per precision and compile
    mode, as ratios to fp32 eager, with peak GPU memory (benchmarks/gpu_check_speed.py).
(d) one JSON line. Exit code 0 when every check is OK, else 1.

channels_last: lit_gan has no channels_last option, so no case uses it.

    python benchmarks/gpu_check.py                     # the whole matrix (long: see benchmarks/README.md)
    python benchmarks/gpu_check.py --quick             # CPU-sized: tiny speed models, no compile
    python benchmarks/gpu_check.py --families dcgan pix2pix --precisions bf16-mixed --compile on
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's lit_gan, also without pip install

import lightning as L  # noqa: E402
import torch  # noqa: E402

from gpu_check_cycle import FAMILIES, Case, env_for, fit_cmd, max_weight_diff, last, run, run_case, why  # noqa: E402
from gpu_check_fixtures import write_all  # noqa: E402
from gpu_check_speed import measure, speed_models, with_ratios  # noqa: E402

PRECISIONS = {"cuda": ["32-true", "bf16-mixed", "16-mixed"], "mps": ["32-true", "16-mixed"], "cpu": ["32-true", "bf16-mixed"]}


def find_accelerator() -> tuple[str, torch.device, str]:
    """(Lightning accelerator name, device, description)."""
    if torch.cuda.is_available():
        return "gpu", torch.device("cuda", 0), torch.cuda.get_device_name(0)
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps", torch.device("mps"), "Apple MPS"
    return "cpu", torch.device("cpu"), f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def skip_reason(device: torch.device, precision: str) -> str | None:
    if precision == "16-mixed" and device.type == "cpu":
        return "16-mixed is CUDA-only (Lightning runs it as bf16-mixed on CPU)"
    if precision == "bf16-mixed" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return "this GPU has no bf16"
    return None


# ---- (b) -----------------------------------------------------------------------------------
def rng_states(device: torch.device) -> dict[str, list[torch.Tensor]]:
    states = {"cpu": [torch.get_rng_state()]}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def metrics_pass_leaves_rng(device: torch.device, fixtures: dict, work: Path) -> dict:
    """What GenerativeMetrics does on ``device`` (read the real images, sample, extract features,
    compute FID / KID / IS): the global RNG states, CPU and CUDA, must be the same before and after."""
    from lit_gan.data import MNISTDataModule
    from lit_gan.evaluation.features import Evaluator, Protocol
    from lit_gan.evaluation.real import real_images_and_labels
    from lit_gan.evaluation.run import feature_values
    from lit_gan.evaluation.sources import GeneratorSource
    from lit_gan.metrics.extractors import load_extractor
    from lit_gan.metrics.reference_cache import ReferenceCache
    from lit_gan.models import DCGAN

    model = DCGAN(data_shape=(1, 28, 28), latent_dim=16, generator_options={"features": 8},
                  discriminator_options={"features": 8}).to(device)
    extractor = load_extractor(str(fixtures["extractor"]), device)
    datamodule = MNISTDataModule(root=str(fixtures["mnist"]), val_size=32, batch_size=16)
    datamodule.setup("fit")
    evaluator = Evaluator(Protocol(["fid", "kid", "is"], 64, None, "val", 0, 32, 10, 32),
                          extractor, ReferenceCache(str(work / "reference_cache")), progress=False)
    before = rng_states(device)
    real, labels = real_images_and_labels(datamodule, "val")
    values = feature_values(evaluator, GeneratorSource(model, 64, 0), real, labels, "gpu_check-rng")
    after = rng_states(device)
    changed = [k for k in before if not all(torch.equal(a, b) for a, b in zip(before[k], after[k]))]
    ok = not changed and all(math.isfinite(v) for v in values.values())
    detail = f"{'/'.join(before)} streams unchanged" if not changed else f"the {', '.join(changed)} stream(s) moved"
    return {"check": "metrics pass leaves the RNG streams", "status": "OK" if ok else "ERROR", "detail": detail}


def metrics_callback_leaves_training(straight: Case, work: Path, fixtures: dict, accelerator: str, iterations: int,
                                     env: dict) -> dict:
    """The straight fit of ``straight`` (with the GenerativeMetrics callback every 2 iterations)
    ends with the weights of the same fit without it: the metrics never touch the training noise."""
    name = "metrics callback leaves the training"
    save = work / "cases" / "no-metrics-callback" / "runs"
    proc = run(fit_cmd(straight, save, fixtures, accelerator, iterations, fit_metrics=False), work, env)
    if proc.returncode != 0:
        return {"check": name, "status": "ERROR", "detail": why(proc, "fit without GenerativeMetrics")}
    diff = max_weight_diff(straight.straight_ckpt, last(save, 0))
    return {"check": name, "status": "OK" if diff == 0 else "ERROR", "max_diff": diff,
            "detail": f"{straight.name} with and without: max |weight difference| {diff:.3g}"}


def resume_summary(cases: list[Case]) -> dict:
    diffs = {c.name: c.resume_max_diff for c in cases if c.resume_max_diff is not None}
    worst = max(diffs.values(), default=None)
    inexact = [n for n, d in diffs.items() if d != 0]
    status = "OK" if diffs and not inexact else "ERROR"
    detail = (f"{len(diffs) - len(inexact)}/{len(diffs)} resumed runs equal their straight run"
              + (f"; max |diff| {worst:.3g} in {', '.join(inexact)}" if inexact else "") if diffs else "no resume ran")
    return {"check": "resume is exact", "status": status, "detail": detail, "max_diff": worst}


# ---- driver ---------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("--quick", action="store_true",
                   help="CPU-sized: speed models at 32 px and width 8, 3 timed iterations, no compile cases")
    p.add_argument("--families", nargs="+", choices=sorted(FAMILIES), default=list(FAMILIES),
                   help="model families of part (a) (default: all)")
    p.add_argument("--precisions", nargs="+", default=None, choices=("32-true", "bf16-mixed", "16-mixed"),
                   help="default: cuda 32-true bf16-mixed 16-mixed; mps 32-true 16-mixed; cpu 32-true bf16-mixed")
    p.add_argument("--compile", choices=("off", "on", "both"), default=None,
                   help="cases without / with model.init_args.compile (default: both; off with --quick)")
    p.add_argument("--iterations", type=int, default=9,
                   help="generator iterations of each fit of part (a); SIGTERM after 2/3 of the critic steps")
    p.add_argument("--speed-models", nargs="*", default=None, choices=("dcgan64", "pix2pix256", "cyclegan256"),
                   help="models of part (c) (default: all three; none given: skip part (c))")
    p.add_argument("--speed-iterations", type=int, default=None, help="timed iterations (default 50; --quick 3)")
    p.add_argument("--warmup", type=int, default=None, help="untimed iterations first (default 5; --quick 2)")
    p.add_argument("--threads", type=int, default=None, help="torch threads here and in the fits (default: torch's; "
                   "--quick on CPU: 1)")
    p.add_argument("--devices", type=int, default=1,
                   help="processes per fit and evaluate (DDP when > 1; on CPU gloo processes): the signal goes "
                        "to the last rank only, and `evaluate --devices K` must equal one process")
    p.add_argument("--workdir", default=None, help="keep data, runs and checkpoints here (default: a temp dir)")
    args = p.parse_args(argv)
    if args.devices < 1:
        p.error("--devices must be >= 1")
    if args.iterations < 2 or (args.speed_iterations or 1) < 1 or (args.warmup or 0) < 0 or (args.threads or 1) < 1:
        p.error("--iterations must be >= 2, --speed-iterations and --threads >= 1, --warmup >= 0")
    args.compile = args.compile or ("off" if args.quick else "both")
    args.speed_iterations = args.speed_iterations or (3 if args.quick else 50)
    args.warmup = args.warmup if args.warmup is not None else (2 if args.quick else 5)
    args.speed_models = ["dcgan64", "pix2pix256", "cyclegan256"] if args.speed_models is None else args.speed_models
    return args


def main(argv=None) -> int:
    start = time.perf_counter()
    args = parse_args(argv)
    accelerator, device, described = find_accelerator()
    if args.threads is None and args.quick and device.type == "cpu":
        args.threads = 1  # tiny nets on shared cores: one thread is faster (tests/conftest.py)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    precisions = args.precisions or PRECISIONS[device.type]
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.compile]
    warnings.filterwarnings("ignore")  # Lightning's advice on tiny data; errors still show as errors
    for name in ("lightning.pytorch", "lightning.fabric"):  # its info lines would split the speed table
        logging.getLogger(name).setLevel(logging.WARNING)
    print(f"gpu_check on {described}: torch {torch.__version__}, lightning {L.__version__}; "
          f"precisions {' '.join(precisions)}; compile {args.compile}", flush=True)
    print("channels_last: not checked (lit_gan has no channels_last option)", flush=True)
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        work = Path(args.workdir or tmp).resolve()
        work.mkdir(parents=True, exist_ok=True)
        fixtures = write_all(work)
        env = env_for(work, accelerator, args.threads)

        print("\n(a) fit -> SIGTERM -> resume -> evaluate", flush=True)
        cases = []
        for family in args.families:
            for precision in precisions:
                for compile in modes:
                    case = Case(FAMILIES[family], precision, compile, devices=args.devices)
                    reason = skip_reason(device, precision)
                    if reason:
                        case.status, case.detail = "SKIPPED", reason
                    else:
                        try:
                            run_case(case, work, fixtures, accelerator, args.iterations, env)
                        except Exception as err:  # a crash of the check itself is a case's error, not the end
                            case.status, case.detail = "ERROR", f"{type(err).__name__}: {err}".splitlines()[0]
                    cases.append(case)
                    print(case.line(), flush=True)

        print("\n(b) training noise and resume", flush=True)
        checks = []
        try:
            checks.append(metrics_pass_leaves_rng(device, fixtures, work))
        except Exception as err:
            checks.append({"check": "metrics pass leaves the RNG streams", "status": "ERROR",
                           "detail": f"{type(err).__name__}: {err}".splitlines()[0]})
        base = next((c for c in cases if c.straight_ckpt is not None and not c.compile and c.family.fit_metrics), None)
        if base is None:
            checks.append({"check": "metrics callback leaves the training", "status": "SKIPPED",
                           "detail": "needs an eager dcgan, wgangp or cdcgan case of (a)"})
        else:
            checks.append(metrics_callback_leaves_training(base, work, fixtures, accelerator, args.iterations, env))
        checks.append(resume_summary(cases))
        for c in checks:
            print(f"{c['check']:<38} {c['status']:<7} {c['detail']}", flush=True)

        speed = []
        if args.speed_models:
            print("\n(c) speed: iterations/s and images/s, ratio to 32-true eager, peak GPU memory", flush=True)
            print(f"{'model':<12} {'size':>4} {'batch':>5} {'precision':<10} {'mode':<8} {'it/s':>9} {'img/s':>9} "
                  f"{'x fp32':>7} {'peak MiB':>9}", flush=True)
            specs = speed_models(args.quick)
            for name in args.speed_models:
                rows = []
                for precision in precisions:
                    for compile in modes:
                        if skip_reason(device, precision):
                            continue
                        try:
                            rows.append(measure(specs[name], precision, compile, accelerator, device,
                                                args.speed_iterations, args.warmup))
                        except Exception as err:
                            rows.append({"model": name, "precision": precision, "compile": compile,
                                         "error": f"{type(err).__name__}: {err}".splitlines()[0]})
                for r in with_ratios(rows):
                    print(speed_line(r), flush=True)
                speed.extend(rows)

    failed = [c.name for c in cases if c.status == "ERROR"] + [c["check"] for c in checks if c["status"] == "ERROR"] \
        + [f"speed {r['model']}/{r['precision']}" for r in speed if "error" in r]
    wall = time.perf_counter() - start
    print(f"\n{'all OK' if not failed else 'FAILED: ' + ', '.join(failed)} ({wall:.0f} s)", flush=True)
    print(json.dumps({"benchmark": "gpu_check", "device": described, "accelerator": device.type, "quick": args.quick,
                      "torch": torch.__version__, "lightning": L.__version__, "precisions": precisions,
                      "compile": args.compile, "channels_last": "not available in lit_gan",
                      "cases": [c.record() for c in cases], "checks": checks, "speed": speed,
                      "all_ok": not failed, "failed": failed, "wall_s": round(wall, 1)}))
    return 0 if not failed else 1


def speed_line(r: dict) -> str:
    mode = "compile" if r["compile"] else "eager"
    if "error" in r:
        return f"{r['model']:<12} {'':>4} {'':>5} {r['precision']:<10} {mode:<8} ERROR {r['error']}"
    ratio = f"{r['vs_fp32_eager']:.2f}" if r["vs_fp32_eager"] is not None else "n/a"
    peak = f"{r['peak_gpu_mib']:.0f}" if r["peak_gpu_mib"] != "n/a" else "n/a"
    return (f"{r['model']:<12} {r['size']:>4} {r['batch_size']:>5} {r['precision']:<10} {mode:<8} "
            f"{r['iterations_per_s']:>9.3f} {r['images_per_s']:>9.2f} {ratio:>7} {peak:>9}")


if __name__ == "__main__":
    sys.exit(main())
