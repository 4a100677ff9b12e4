"""`python -m lit_gan fit|validate|test` end to end on tiny data (in process, plus the real entry points)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from lit_gan.cli import GANCLI, main
from lit_gan.errors import UserError
from tests.run_helpers import dcgan_config

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "experiments" / "quickstart.yaml"
ITERATIONS = 20


@pytest.fixture(scope="module", autouse=True)
def quiet_single_thread():
    """One intra-op thread: on 2 shared cores, 2 torch threads are 10x slower for these
    tiny nets. And no pytest arguments in sys.argv (LightningCLI warns when it sees both
    those and `args`)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["lit_gan"])
        yield
    torch.set_num_threads(threads)


def toy_args(save_dir: Path, iterations: int = ITERATIONS) -> list[str]:
    """The shipped quickstart config, shrunk: 512 training points, 20 iterations."""
    return [
        "--config", str(QUICKSTART),
        "--data.init_args.num_train", "512",
        "--data.init_args.num_val", "256",
        "--data.init_args.batch_size", "64",
        "--max_iterations", str(iterations),
        "--trainer.logger.init_args.save_dir", str(save_dir),
        "--trainer.log_every_n_steps", "5",
        "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false",
        "--samples.every_n_iterations", "0",
    ]


def run_dir(save_dir: Path, version: int, name: str = "quickstart") -> Path:
    return save_dir / name / f"version_{version}"


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def logged(rows: list[dict[str, str]], key: str) -> list[float]:
    return [float(r[key]) for r in rows if r.get(key)]


def load_ckpt(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory) -> Path:
    """One 20-iteration quickstart run; returns its save_dir (runs/quickstart/version_0)."""
    root = tmp_path_factory.mktemp("cli_toy")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        main(["fit", *toy_args(root / "runs")])
    return root / "runs"


# ---- (1) fit writes a complete run directory ----------------------------------------

def test_fit_writes_run_directory(toy_run):
    run = run_dir(toy_run, 0)
    for rel in ("config.yaml", "metrics.csv", "checkpoints/last.ckpt"):
        assert (run / rel).is_file(), rel
    assert [p.name for p in (run / "samples").glob("iter_*.png")] == [f"iter_{ITERATIONS:07d}.png"]
    columns, rows = read_csv(run / "metrics.csv")
    for key in ("train/loss_d", "train/loss_g", "train/iteration", "val/modes_covered"):
        assert key in columns, columns
        assert logged(rows, key), key
    assert max(logged(rows, "train/iteration")) <= ITERATIONS
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["model"]["class_path"] == "lit_gan.models.GAN"
    assert config["max_iterations"] == ITERATIONS


def test_max_iterations_counts_generator_iterations(toy_run):
    ckpt = load_ckpt(run_dir(toy_run, 0) / "checkpoints" / "last.ckpt")
    assert ckpt["global_step"] == ITERATIONS * 2  # one D and one G optimizer step per iteration
    assert ckpt["lit_gan"]["iterations"] == ITERATIONS
    assert ckpt["lit_gan"]["model_class"] == "lit_gan.models.gan.GAN"
    assert tuple(ckpt["hyper_parameters"]["data_shape"]) == (2,)  # linked from Toy2DDataModule


# ---- (2) the same command twice: a new version, the old one untouched ----------------

def test_same_command_twice_makes_a_new_version(toy_run, monkeypatch):
    v0 = run_dir(toy_run, 0)
    watched = [v0 / "config.yaml", v0 / "checkpoints" / "last.ckpt", v0 / "metrics.csv"]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in watched}
    monkeypatch.chdir(toy_run.parent)
    main(["fit", *toy_args(toy_run)])
    v1 = run_dir(toy_run, 1)
    assert (v1 / "config.yaml").is_file() and (v1 / "checkpoints" / "last.ckpt").is_file()
    assert list((v1 / "samples").glob("iter_*.png"))
    for p, (data, mtime) in before.items():
        assert p.read_bytes() == data and p.stat().st_mtime_ns == mtime, p
    assert not run_dir(toy_run, 2).exists()


# ---- (3) --print_config ----------------------------------------------------------------

def test_print_config_needs_no_data_shape(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--config", str(QUICKSTART), "--print_config"])
    assert exc.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["class_path"] == "lit_gan.models.GAN"
    assert printed["data"]["class_path"] == "lit_gan.data.Toy2DDataModule"
    assert "data_shape" not in printed["model"]["init_args"]  # linked from the data, never stated
    assert printed["max_iterations"] == 3000
    assert not (tmp_path / "runs").exists()  # printing runs nothing


# ---- (4) parse errors --------------------------------------------------------------------

@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--model", "lit_gan.models.NotAModel"], "NotAModel"),
        (["--model.init_args.not_a_key", "1"], "not_a_key"),
        (["--data.init_args.not_a_data_key", "1"], "not_a_data_key"),
    ],
)
def test_bad_arguments_exit_non_zero_naming_the_key(tmp_path, monkeypatch, capsys, extra, needle):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--config", str(QUICKSTART), *extra])
    assert exc.value.code not in (0, None)
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


# ---- (5) DCGAN on MNIST-format files: linking, sample grid, interpolation ----------------

def grid_side(n: int, image: int, padding: int = 2) -> int:
    """torchvision make_grid: n images of `image` px with `padding` between and around."""
    return n * (image + padding) + padding


def test_dcgan_on_mnist_files_links_shape_and_writes_pictures(tmp_path, monkeypatch, tiny_mnist):
    monkeypatch.chdir(tmp_path)
    main(["fit", "--config", str(dcgan_config(tmp_path, tiny_mnist))])
    run = run_dir(tmp_path / "runs", 0, "dcgan")
    ckpt = load_ckpt(run / "checkpoints" / "last.ckpt")
    assert tuple(ckpt["hyper_parameters"]["data_shape"]) == (1, 28, 28)  # DCGAN's default is (3, 64, 64)
    assert ckpt["lit_gan"]["model_class"] == "lit_gan.models.gan.DCGAN"
    assert ckpt["global_step"] == 3 * 2
    with Image.open(run / "samples" / "iter_0000003.png") as grid:  # 64 images, 8 x 8
        assert grid.size == (grid_side(8, 28), grid_side(8, 28)) == (242, 242)
    with Image.open(run / "interpolation" / "iter_0000003.png") as walk:  # 2 rows x 3 steps
        assert walk.size == (grid_side(3, 28), grid_side(2, 28)) == (92, 62)


def test_image_size_32_is_linked_into_the_model(tmp_path, monkeypatch, tiny_mnist):
    monkeypatch.chdir(tmp_path)
    cli = GANCLI(args=["--config", str(dcgan_config(tmp_path, tiny_mnist)), "--data.init_args.image_size", "32"], run=False)
    assert cli.datamodule.data_shape == (1, 32, 32)
    assert tuple(cli.model.data_shape) == (1, 32, 32)
    assert tuple(cli.model.hparams.data_shape) == (1, 32, 32)
    assert cli.model.sample(2).shape == (2, 1, 32, 32)


# ---- (6) missing data ------------------------------------------------------------------------

def test_missing_mnist_without_download_names_path_and_download(tmp_path, monkeypatch, tiny_mnist):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "no_data_here"
    with pytest.raises(FileNotFoundError) as exc:
        main(["fit", "--config", str(dcgan_config(tmp_path, tiny_mnist)), "--data.init_args.root", str(missing)])
    message = str(exc.value)
    assert str(missing) in message and "download" in message
    assert not list((tmp_path / "runs").glob("dcgan/version_*/checkpoints/*.ckpt"))


# ---- (7) validate / test / --ckpt_path ----------------------------------------------------

def only_version(save_dir: Path) -> Path:
    versions = sorted((save_dir / "quickstart").glob("version_*"))
    assert len(versions) == 1, versions
    return versions[0]


@pytest.mark.parametrize("stage", ["validate", "test"])
def test_validate_and_test_from_checkpoint_log_metrics(toy_run, tmp_path, monkeypatch, stage):
    monkeypatch.chdir(tmp_path)
    ckpt = run_dir(toy_run, 0) / "checkpoints" / "last.ckpt"
    main([stage, *toy_args(tmp_path / "with_ckpt"), "--ckpt_path", str(ckpt)])
    main([stage, *toy_args(tmp_path / "fresh")])  # the untrained model, same seed
    prefix = "val" if stage == "validate" else "test"
    values = {}
    for which in ("with_ckpt", "fresh"):
        columns, rows = read_csv(only_version(tmp_path / which) / "metrics.csv")
        for key in (f"{prefix}/loss_d", f"{prefix}/modes_covered", f"{prefix}/high_quality_fraction"):
            assert key in columns, columns
        other = "test/" if prefix == "val" else "val/"
        assert not any(c.startswith(("train/", other)) for c in columns), columns
        values[which] = logged(rows, f"{prefix}/loss_d")
    assert len(values["with_ckpt"]) == 1
    assert values["with_ckpt"] != values["fresh"]  # the checkpoint's weights were used


@pytest.mark.parametrize("stage", ["fit", "validate", "test"])
def test_missing_ckpt_path_is_a_clear_error(tmp_path, monkeypatch, stage):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=r"--ckpt_path missing\.ckpt: no such checkpoint file"):
        main([stage, *toy_args(tmp_path / "runs", iterations=1), "--ckpt_path", "missing.ckpt"])


def test_ckpt_path_last_without_earlier_run_starts_from_scratch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match="no last.ckpt.*starting from scratch"):
        main(["fit", *toy_args(tmp_path / "runs", iterations=2), "--ckpt_path", "last"])
    ckpt = load_ckpt(run_dir(tmp_path / "runs", 0) / "checkpoints" / "last.ckpt")
    assert ckpt["global_step"] == 4 and ckpt["lit_gan"]["iterations"] == 2


def test_ckpt_path_last_resumes_the_newest_run_into_a_new_version(toy_run, tmp_path, monkeypatch):
    save_dir = tmp_path / "runs"
    shutil.copytree(run_dir(toy_run, 0), run_dir(save_dir, 0))  # a finished 20-iteration run
    monkeypatch.chdir(tmp_path)
    main(["fit", *toy_args(save_dir, iterations=ITERATIONS + 3), "--ckpt_path", "last"])
    resumed = load_ckpt(run_dir(save_dir, 1) / "checkpoints" / "last.ckpt")
    assert resumed["global_step"] == (ITERATIONS + 3) * 2
    assert resumed["lit_gan"]["iterations"] == ITERATIONS + 3
    old = load_ckpt(run_dir(save_dir, 0) / "checkpoints" / "last.ckpt")
    assert old["global_step"] == ITERATIONS * 2  # the earlier run is left as it was


def test_max_iterations_must_be_positive(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="--max_iterations must be positive"):
        main(["fit", *toy_args(tmp_path / "runs", iterations=0)])


# ---- the real entry points ------------------------------------------------------------------

def test_entry_points_in_a_subprocess(tmp_path):
    """`python -m lit_gan` and the `lit-gan` script (when installed): exit codes and output.

    Both run at once: each spends ~10 s importing lightning on these machines."""
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    missing = tmp_path / "no_data_here"
    config = dcgan_config(tmp_path, missing)
    script = shutil.which("lit-gan")
    commands = {"module": [sys.executable, "-m", "lit_gan", "fit", "--config", str(config)]}
    if script is not None:
        commands["script"] = [script, "fit", "--config", str(QUICKSTART), "--print_config"]
    procs = {k: subprocess.Popen(c, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k, c in commands.items()}
    results = {k: (p.communicate(timeout=300), p.returncode) for k, p in procs.items()}

    (out, err), code = results["module"]
    assert code == 2  # a user error: one message, no traceback (tests/test_main.py)
    assert "Traceback" not in err and "error: mnist data not found" in err and str(missing) in err
    assert "--data.init_args.download=true" in err

    if script is None:
        pytest.skip("lit-gan console script not installed (pip install -e .); python -m lit_gan was checked")
    (out, err), code = results["script"]
    assert code == 0, err
    assert yaml.safe_load(out)["model"]["class_path"] == "lit_gan.models.GAN"


def test_sync_batchnorm_on_cpu_processes_is_refused_in_one_line(tmp_path, monkeypatch):
    """torch's SyncBatchNorm needs GPUs: 2 CPU processes stopped with DDP's traceback once spawned;
    now the parent refuses before any process starts. One process runs (it never syncs)."""
    monkeypatch.chdir(tmp_path)
    args = [*toy_args(tmp_path / "runs", iterations=1), "--trainer.sync_batchnorm", "true",
            "--trainer.accelerator", "cpu"]
    ddp = ["--trainer.strategy", "ddp_find_unused_parameters_true"]
    with monkeypatch.context() as m, pytest.raises(UserError, match=r"^--trainer.sync_batchnorm true needs GPUs.* "
                                                                      r"2 cpu processes; drop it"):
        m.setattr(GANCLI, "fit", lambda *a, **k: pytest.fail("2 CPU processes were about to be spawned"))
        main(["fit", *args, *ddp, "--trainer.devices", "2"])
    # one process (not the DDP strategy: in this pytest process it would start a process group
    # that later multi-process tests inherit, tests/conftest.py)
    main(["fit", *args, "--trainer.devices", "1"])


def exit_and_stderr(args: list[str], capsys) -> tuple[int, str]:
    from lit_gan.__main__ import main as lit_gan_main

    with pytest.raises(SystemExit) as exc:
        lit_gan_main(args)
    return exc.value.code, capsys.readouterr().err


def test_a_damaged_ckpt_path_file_is_one_line(tmp_path, monkeypatch, capsys):
    """A direct path was read by LightningCLI's own torch.load (for its hyperparameters) before ours:
    a traceback, exit 1. `--ckpt_path last` already gave this line (tests/training/test_checkpoint_refusal.py)."""
    monkeypatch.chdir(tmp_path)
    damaged = tmp_path / "damaged.ckpt"
    for content in (b"not a checkpoint\n", b"PK\x03\x04" + bytes(200)):  # junk; a zip cut short
        damaged.write_bytes(content)
        code, err = exit_and_stderr(["fit", *toy_args(tmp_path / "runs", iterations=1), "--ckpt_path", str(damaged)],
                                    capsys)
        assert code == 2, err
        assert f"error: {damaged} is not a readable checkpoint" in err
        assert "Traceback" not in err and "weights_only" not in err


def test_a_checkpoint_s_hyperparameters_still_reach_the_config(toy_run, tmp_path, monkeypatch):
    """What Lightning's reading of a --ckpt_path file did, ours does: the model is built with the
    checkpoint's hyperparameters (latent_dim 3 here), not the config's."""
    ckpt = run_dir(toy_run, 0) / "checkpoints" / "last.ckpt"
    state = load_ckpt(ckpt)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(GANCLI, "fit", lambda self, model, **kwargs: None)  # built, not trained
    cli = GANCLI(args=["fit", *toy_args(tmp_path / "runs"), "--model.init_args.latent_dim", "3",
                       "--ckpt_path", str(ckpt)])
    assert cli.model.hparams.latent_dim == state["hyper_parameters"]["latent_dim"] != 3


def test_a_negative_learning_rate_is_one_line_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, err = exit_and_stderr(["fit", *toy_args(tmp_path / "runs", iterations=1), "--model.init_args.lr_g", "-1"],
                                capsys)
    assert code == 2, err
    assert "error: " in err and "lr_g=-1.0" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # refused while the model was built: no run directory
