"""One case of benchmarks/gpu_check.py: fit -> SIGTERM -> resume -> evaluate, as real processes.

A case is (family, precision, compile, processes). Three ``python -m lit_gan fit`` runs of the
same config: ``straight`` (N generator iterations), ``split`` stopped by a real SIGTERM mid-epoch
(exit 143 and a ``last.ckpt``), then ``--ckpt_path last`` to N; the resumed weights are compared
with the straight run's (max |difference|; 0 = exact). The image-generating families compute
FID / KID during each fit (GenerativeMetrics every 2 iterations), so the resume is exact only if
the metrics passes leave the training alone. Then ``python -m lit_gan evaluate`` of the resumed
checkpoint, whose metrics must be finite; on K processes (DDP, the signal to the last rank only)
``evaluate --devices K`` must give the one-process numbers.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lit_gan.training.checkpoint_file import read_checkpoint

REPO = Path(__file__).resolve().parents[1]
FEW = "{features: 8}"  # CPU-sized widths: this checks that things run, not how fast


@dataclass(frozen=True)
class Family:
    name: str
    model: tuple[str, ...]  # --model ... arguments
    data: str  # mnist, paired or unpaired
    metrics: str  # for `evaluate`
    n_critic: int = 1
    gradient_penalty: bool = False
    fit_metrics: bool = True  # GenerativeMetrics during fit (the sampling families; not image-to-image)


FAMILIES = {f.name: f for f in (
    Family("dcgan", ("--model", "lit_gan.models.DCGAN", "--model.init_args.latent_dim", "16",
                     "--model.init_args.generator_options", FEW, "--model.init_args.discriminator_options", FEW),
           "mnist", "fid,kid"),
    Family("wgangp", ("--model", "lit_gan.models.WGANGP", "--model.init_args.latent_dim", "16",
                      "--model.init_args.generator_options", FEW, "--model.init_args.discriminator_options", FEW),
           "mnist", "fid,kid", n_critic=5, gradient_penalty=True),
    Family("cdcgan", ("--model", "lit_gan.models.ConditionalDCGAN", "--model.init_args.latent_dim", "16",
                      "--model.init_args.generator_options", FEW, "--model.init_args.discriminator_options", FEW),
           "mnist", "fid,accuracy"),
    Family("pix2pix", ("--model", "lit_gan.models.Pix2Pix", "--model.init_args.direction", "AtoB",
                       "--model.init_args.generator_options", "{features: 8}",
                       "--model.init_args.discriminator_options", "{features: 8, n_layers: 1}"),
           "paired", "paired", fit_metrics=False),
    Family("cyclegan", ("--model", "lit_gan.models.CycleGAN",
                        "--model.init_args.generator_options", "{features: 8, n_blocks: 1}",
                        "--model.init_args.discriminator_options", "{features: 8, n_layers: 1}"),
           "unpaired", "paired", fit_metrics=False),
)}
EVALUATE_RTOL = 1e-5  # K-process vs one-process `evaluate`: sums over shards in another order


def data_args(kind: str, fixtures: dict) -> list[str]:
    if kind == "mnist":
        return ["--data", "lit_gan.data.MNISTDataModule", "--data.init_args.root", str(fixtures["mnist"]),
                "--data.init_args.val_size", "32", "--data.init_args.batch_size", "16"]
    images = ["--data.init_args.root", str(fixtures["images"]), "--data.init_args.load_size", "36",
              "--data.init_args.crop_size", "32"]
    if kind == "paired":
        return ["--data", "lit_gan.data.paired.PairedImageDataModule", *images, "--data.init_args.dataset",
                fixtures["paired"], "--data.init_args.direction", "AtoB", "--data.init_args.batch_size", "4"]
    return ["--data", "lit_gan.data.unpaired.UnpairedImageDataModule", *images, "--data.init_args.dataset",
            fixtures["unpaired"], "--data.init_args.batch_size", "2"]


@dataclass
class Case:
    family: Family
    precision: str
    compile: bool
    status: str = "pending"  # OK, ERROR, SKIPPED
    detail: str = ""
    resume_max_diff: float | None = None
    metrics: dict = field(default_factory=dict)
    straight_ckpt: Path | None = None
    devices: int = 1  # processes (DDP when > 1)

    @property
    def name(self) -> str:
        processes = f"/x{self.devices}" if self.devices > 1 else ""
        return f"{self.family.name}/{self.precision}/{'compile' if self.compile else 'eager'}{processes}"

    def line(self) -> str:
        return f"{self.name:<34} {self.status:<7} {self.detail}"

    def record(self) -> dict:
        return {"family": self.family.name, "precision": self.precision, "compile": self.compile,
                "devices": self.devices, "status": self.status, "detail": self.detail, "resume_max_diff": self.resume_max_diff,
                "metrics": self.metrics}


def env_for(work: Path, accelerator: str, threads: int | None) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(work), str(REPO), os.environ.get("PYTHONPATH", "")]))
    if accelerator == "gpu":
        env.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS (torch's note)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def run(cmd: list[str], cwd: Path, env: dict, extra_env: dict | None = None, timeout: int = 1800):
    return subprocess.run(cmd, cwd=cwd, env={**env, **(extra_env or {})}, capture_output=True, text=True,
                          timeout=timeout)


def metrics_callback(fixtures: dict) -> str:
    """GenerativeMetrics every 2 generator iterations (FID / KID of 64 samples), as a --trainer.callbacks value."""
    return json.dumps({"class_path": "lit_gan.callbacks.generative_metrics.GenerativeMetrics", "init_args": {
        "metrics": ["fid", "kid"], "feature_extractor": str(fixtures["extractor"]), "num_samples": 64,
        "every_n_iterations": 2, "every_n_epochs": 0, "kid_subsets": 10, "progress": False,
        "cache_dir": str(fixtures["reference_cache"])}})


def fit_cmd(case: Case, save_dir: Path, fixtures: dict, accelerator: str, iterations: int, *extra: str,
            fit_metrics: bool | None = None) -> list[str]:
    """``fit_metrics``: GenerativeMetrics during the fit (default: the family's ``fit_metrics``)."""
    fit_metrics = case.family.fit_metrics if fit_metrics is None else fit_metrics
    metrics = [f"--trainer.callbacks+={metrics_callback(fixtures)}"] if fit_metrics else []
    ddp = ["--trainer.strategy", "ddp_find_unused_parameters_true"] if case.devices > 1 else []
    return [sys.executable, "-m", "lit_gan", "fit", "--seed_everything", "7",
            "--trainer.accelerator", accelerator, "--trainer.devices", str(case.devices), *ddp,
            "--trainer.precision", case.precision,
            "--trainer.deterministic", "warn",  # deterministic kernels where they exist; the diff shows the rest
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
            "--trainer.logger.class_path", "lightning.pytorch.loggers.CSVLogger",
            "--trainer.logger.init_args.save_dir", str(save_dir), "--trainer.logger.init_args.name", "r",
            "--samples.every_n_iterations", "0", "--max_iterations", str(iterations),
            *data_args(case.family.data, fixtures), *case.family.model,
            "--model.init_args.compile", "true" if case.compile else "false", *metrics, *extra]


def last(save_dir: Path, version: int) -> Path:
    return save_dir / "r" / f"version_{version}" / "checkpoints" / "last.ckpt"


def why(proc: subprocess.CompletedProcess, what: str) -> str:
    """One line: what failed, its exit code and the last non-empty line of its stderr."""
    lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
    return f"{what} exited {proc.returncode}: {lines[-1][:300] if lines else '(no output)'}"


def max_weight_diff(a: Path, b: Path) -> float:
    sa, sb = (read_checkpoint(p) for p in (a, b))
    if (sa["lit_gan"]["iterations"], sa["global_step"]) != (sb["lit_gan"]["iterations"], sb["global_step"]):
        return math.inf
    if list(sa["state_dict"]) != list(sb["state_dict"]):
        return math.inf
    return max(((x.float() - sb["state_dict"][k].float()).abs().max().item()
                for k, x in sa["state_dict"].items() if x.is_floating_point()), default=0.0)


def run_case(case: Case, work: Path, fixtures: dict, accelerator: str, iterations: int, env: dict) -> Case:
    """Fills in ``case``: status, one-line detail, resume difference and metrics."""
    folder = work / "cases" / case.name.replace("/", "-")
    fit = lambda save, *extra: fit_cmd(case, folder / save, fixtures, accelerator, iterations, *extra)  # noqa: E731
    straight = run(fit("straight"), work, env)
    if case.family.gradient_penalty and case.precision.startswith("16"):
        # lit_gan refuses fp16 with a gradient penalty (DESIGN.md): the check is that it does
        if straight.returncode != 0 and "not supported with a gradient penalty" in straight.stderr:
            form = "one line" if "Traceback" not in straight.stderr else "with a traceback"
            case.status, case.detail = "OK", f"refused as designed (exit {straight.returncode}, {form})"
        else:
            case.status, case.detail = "ERROR", why(straight, "fit (expected a refusal: fp16 with a gradient penalty)")
        return case
    if straight.returncode != 0:
        case.status, case.detail = "ERROR", why(straight, "straight fit")
        return case
    case.straight_ckpt = last(folder / "straight", 0)
    stop_at = max(1, iterations * case.family.n_critic * 2 // 3)
    cut = run(fit("split", "--trainer.callbacks+=gpu_check_callbacks.SignalAt"), work, env,
              {"SIGNAL_AT_BATCH": str(stop_at), "SIGNAL_AT_RANK": str(case.devices - 1)})
    if cut.returncode != 143 or "stopped by SIGTERM" not in cut.stderr:
        case.status, case.detail = "ERROR", why(cut, f"fit with SIGTERM at step {stop_at} (expected exit 143)")
        return case
    resumed = run(fit("split", "--ckpt_path", "last"), work, env)
    if resumed.returncode != 0 or "Resuming from" not in resumed.stderr:
        case.status, case.detail = "ERROR", why(resumed, "resume")
        return case
    case.resume_max_diff = max_weight_diff(case.straight_ckpt, last(folder / "split", 1))
    evaluate = lambda devices: run(  # noqa: E731
        [sys.executable, "-m", "lit_gan", "evaluate", "--ckpt", str(last(folder / "split", 1)), "--num", "64",
         "--metrics", case.family.metrics, "--feature-extractor", str(fixtures["extractor"]), "--cache-dir",
         str(fixtures["reference_cache"]), "--no-progress", "--accelerator", accelerator, "--kid-subsets", "10",
         "--devices", str(devices)], work, env)
    evaluated = evaluate(case.devices)
    if evaluated.returncode != 0:
        case.status, case.detail = "ERROR", why(evaluated, f"evaluate --devices {case.devices}")
        return case
    case.metrics = json.loads(evaluated.stdout.strip().splitlines()[-1])["metrics"]
    bad = [k for k, v in case.metrics.items() if not math.isfinite(v)]
    if bad:
        case.status, case.detail = "ERROR", f"evaluate gave non-finite {', '.join(bad)}"
        return case
    same = ""
    if case.devices > 1:
        alone = evaluate(1)
        if alone.returncode != 0:
            case.status, case.detail = "ERROR", why(alone, "evaluate --devices 1")
            return case
        differ = metric_differences(case.metrics, json.loads(alone.stdout.strip().splitlines()[-1])["metrics"])
        if differ:
            case.status, case.detail = "ERROR", f"evaluate --devices {case.devices} differs from 1 process: {differ}"
            return case
        same = f", evaluate x{case.devices} = x1"
    exact = "exact" if case.resume_max_diff == 0 else f"max |diff| {case.resume_max_diff:.3g}"
    shown = ", ".join(f"{k} {v:.4g}" for k, v in list(case.metrics.items())[:3])
    during = " with metrics during fit" if case.family.fit_metrics else ""
    case.status, case.detail = "OK", f"SIGTERM at step {stop_at}{during}, resume {exact}{same}; {shown}"
    return case


def metric_differences(many: dict, one: dict) -> str:
    """'' when every value of ``many`` equals ``one``'s (relative EVALUATE_RTOL), else which differ."""
    differ = [f"{k} {v:.6g} vs {one.get(k)}" for k, v in many.items()
              if k not in one or not math.isclose(v, one[k], rel_tol=EVALUATE_RTOL, abs_tol=1e-12)]
    return "; ".join(differ)
