"""sweeps/*.yaml: valid wandb sweep configs whose parameters the experiment's CLI accepts,
and sweep runs that never share a directory (LightningCLI refuses to overwrite config.yaml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from lit_gan.metrics.scores import count_tag

REPO = Path(__file__).resolve().parents[1]
SWEEPS = sorted((REPO / "sweeps").glob("*.yaml"))
GOALS = {"minimize", "maximize"}
# wandb distributions whose min / max are plain values (log_uniform's are exponents: a
# classic slip that would train at lr = e^0.0002 ~ 1).
DISTRIBUTIONS = {"uniform", "int_uniform", "q_uniform", "log_uniform_values", "q_log_uniform_values"}
# Validation keys a model logs itself (the others come from GenerativeMetrics in the config).
MODEL_KEYS = {"lit_gan.models.pix2pix.Pix2Pix": {"val/l1", "val/psnr", "val/ssim"}}


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def config_files(sweep: dict) -> list[Path]:
    command = sweep["command"]
    return [REPO / command[i + 1] for i, arg in enumerate(command) if arg == "--config"]


def dig(config: dict, dotted: str) -> Any:
    for key in dotted.split("."):
        config = config[key]
    return config


def as_value(value: Any) -> Any:
    """What jsonargparse makes of ``--name=value``: strings like "[0.5, 0.999]" are YAML."""
    return yaml.safe_load(value) if isinstance(value, str) else value


def pick_point(sweep: dict) -> dict[str, Any]:
    """One point of the search space per parameter (its values, or a range's ends), the
    first that differs from the experiment file, so the check sees the override act."""
    experiment = load(config_files(sweep)[0])
    point = {}
    for name, spec in sweep["parameters"].items():
        candidates = spec.get("values") or ([spec["value"]] if "value" in spec else [spec["min"], spec["max"]])
        try:
            default = dig(experiment, name)
        except KeyError:
            default = object()
        point[name] = next((c for c in candidates if as_value(c) != default), candidates[0])
    return point


def expand(command: list[str], point: dict[str, Any]) -> list[str]:
    """The command as `wandb agent` runs it: ${args} -> --name=value (wandb_agent.py)."""
    macros = {"${env}": [], "${interpreter}": [sys.executable], "${args}": [f"--{k}={v}" for k, v in point.items()]}
    return [part for arg in command for part in macros.get(arg, [arg])]


def offline_env(root: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, WANDB_MODE="offline", WANDB_SILENT="true", OMP_NUM_THREADS="1")
    for name in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        env[name] = str(root / "wandb_home")
    env.update(extra)
    return env


def test_the_four_sweeps_exist():
    assert {p.stem for p in SWEEPS} >= {"dcgan_fashion_mnist", "wgan_fashion_mnist", "wgan_gp_fashion_mnist",
                                         "pix2pix_facades"}


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_sweep_structure(path):
    sweep = load(path)
    assert sweep["method"] in {"grid", "random", "bayes"}
    assert sweep["metric"]["name"] and sweep["metric"]["goal"] in GOALS
    assert sweep["parameters"], "nothing to sweep"
    for name, spec in sweep["parameters"].items():
        assert name.startswith(("model.init_args.", "data.init_args.", "trainer.")), f"{name}: not a full config path"
        if "values" in spec:
            assert isinstance(spec["values"], list) and spec["values"], name
        elif "value" not in spec:
            assert spec.get("distribution") in DISTRIBUTIONS and spec["min"] < spec["max"], name
            assert sweep["method"] != "grid", f"{name}: grid needs values"
    command = sweep["command"]
    assert command[:5] == ["${env}", "${interpreter}", "-m", "lit_gan", "fit"]
    assert command[-1] == "${args}" and command.count("${args}") == 1
    files = config_files(sweep)
    assert all(f.is_file() for f in files), files
    # wandb.yaml after the experiment: the later config replaces trainer.logger
    assert files[1:2] == [REPO / "experiments" / "_base" / "wandb.yaml"]


# Runs `python -m lit_gan <args>` for every sweep in ONE interpreter: each start costs ~8 s
# of imports on 2 cores, and parallel starts do not help (CPU bound).
PRINT_CONFIGS = """
import contextlib, io, json, sys
from lit_gan.__main__ import main
commands, sys.argv = json.loads(sys.argv[1]), ["lit_gan"]
results = {}
for stem, args in commands.items():
    out, err, code = io.StringIO(), io.StringIO(), "returned instead of exiting"
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(args)
    except SystemExit as stop:
        code = stop.code or 0
    results[stem] = [code, out.getvalue(), err.getvalue()]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> dict[str, tuple[dict, int, str, str]]:
    """Each sweep's command with one point and --print_config: stem -> (point, exit code, stdout, stderr)."""
    points, commands = {}, {}
    for path in SWEEPS:
        points[path.stem] = pick_point(load(path))
        command = expand(load(path)["command"], points[path.stem])
        assert command[:3] == [sys.executable, "-m", "lit_gan"]
        commands[path.stem] = [*command[3:], "--print_config"]
    proc = subprocess.run([sys.executable, "-c", PRINT_CONFIGS, json.dumps(commands)], cwd=REPO, text=True,
                          env=offline_env(tmp_path_factory.mktemp("sweeps")), capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.splitlines()[-1])
    return {stem: (points[stem], *results[stem]) for stem in points}


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_sampled_point_reaches_the_experiment_config(path, printed):
    sweep = load(path)
    point, returncode, stdout, stderr = printed[path.stem]
    assert returncode == 0, stderr[-3000:]
    config = yaml.safe_load(stdout)
    experiment = load(config_files(sweep)[0])
    for name, value in point.items():
        assert dig(config, name) == as_value(value), name
        assert dig(config, name) != dig(experiment, name), f"{name}: the override did not change anything"
    assert config["trainer"]["logger"]["class_path"] == "lightning.pytorch.loggers.WandbLogger"
    # the metric is one the run logs: a GenerativeMetrics key, or one the model logs itself
    logged = set(MODEL_KEYS.get(config["model"]["class_path"], ()))
    for callback in config["trainer"].get("callbacks") or []:
        if callback["class_path"] == "lit_gan.callbacks.generative_metrics.GenerativeMetrics":
            args = callback["init_args"]
            logged |= {f"{args['split']}/{m}_{count_tag(args['num_samples'])}" for m in args["metrics"]}
    assert sweep["metric"]["name"] in logged


def test_sweep_runs_get_their_own_directories(tmp_path):
    """Two runs as `wandb agent` starts them (WANDB_RUN_ID set, --name=value args), at the
    same time in the same folder: each writes its own config.yaml, samples and checkpoints."""
    save_dir = tmp_path / "runs"
    command = [
        sys.executable, "-m", "lit_gan", "fit",
        "--config", str(REPO / "experiments" / "quickstart.yaml"),
        "--config", str(REPO / "experiments" / "_base" / "wandb.yaml"),
        f"--trainer.logger.init_args.save_dir={save_dir}", "--max_iterations=5",
        "--data.init_args.num_train=256", "--data.init_args.num_val=128", "--data.init_args.batch_size=64",
        "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
    ]
    runs = {"sweeprun1": 0.0005, "sweeprun2": 0.002}
    procs = {
        run_id: subprocess.Popen([*command, f"--model.init_args.lr_g={lr}"], cwd=tmp_path, text=True,
                                 env=offline_env(tmp_path, WANDB_RUN_ID=run_id),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for run_id, lr in runs.items()
    }
    for run_id, proc in procs.items():
        output, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0, output[-3000:]
    for run_id, lr in runs.items():
        run_dir = save_dir / "lit_gan" / run_id
        assert load(run_dir / "config.yaml")["model"]["init_args"]["lr_g"] == lr
        assert (run_dir / "checkpoints" / "last.ckpt").is_file()
        assert [p.name for p in (run_dir / "samples").glob("*.png")] == ["iter_0000005.png"]
