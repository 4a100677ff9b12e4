"""`python -m lit_gan` itself: the command list on --help, the program's real name, and
known user errors as one message with exit code 2 (tracebacks only with --verbose)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lit_gan.__main__ import LIGHTNING_SUMMARIES, OWN_COMMANDS, OWN_SUMMARIES, main
from tests.run_helpers import dcgan_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def argv0(monkeypatch):
    """What `python -m lit_gan` puts in sys.argv[0]; no pytest arguments for LightningCLI."""
    monkeypatch.setattr(sys, "argv", [str(REPO / "lit_gan" / "__main__.py")])


def exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    return stop.value.code


def missing_mnist_config(tmp_path: Path) -> Path:
    """A tiny DCGAN on MNIST files that are not there (and no download)."""
    return dcgan_config(tmp_path, tmp_path / "no_data_here")


# ---- --help -----------------------------------------------------------------------------------

def test_help_lists_every_command_on_stdout(capsys):
    from lit_gan.cli import GANCLI

    assert set(LIGHTNING_SUMMARIES) == set(GANCLI.subcommands())
    assert set(OWN_SUMMARIES) == set(OWN_COMMANDS)
    for flag in ("--help", "-h"):
        assert exit_code([flag]) == 0
        out, err = capsys.readouterr()
        assert err == ""
        assert out.startswith("usage: python -m lit_gan [--verbose] <command>")
        lines = out.splitlines()
        for command in (*LIGHTNING_SUMMARIES, *OWN_SUMMARIES):
            assert sum(line.split()[:1] == [command] for line in lines) == 1, command  # one line each
        assert "__main__.py" not in out


def test_no_command_prints_the_list_to_stderr_and_fails(capsys):
    assert exit_code([]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "reproduce" in err and "fit" in err


def test_console_script_name_in_help_and_subcommand_help(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/lit-gan"])
    assert exit_code(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: lit-gan [--verbose] <command>")
    assert exit_code(["fit", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: lit-gan [options] fit")


def test_subcommand_help_names_python_m_lit_gan(capsys):
    assert exit_code(["validate", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m lit_gan [options] validate") and "__main__.py" not in out


# ---- known user errors: one message, exit 2 ------------------------------------------------------

def test_missing_data_is_one_message_with_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIT_GAN_VERBOSE", "0")
    assert exit_code(["fit", "--config", str(missing_mnist_config(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "error: mnist data not found" in err and str(tmp_path / "no_data_here") in err
    assert "LIT_GAN_VERBOSE=1" in err  # how to see more
    assert not (tmp_path / "runs").exists()  # and no empty version_0 (lit_gan.callbacks.run_dir_cleanup)


def test_bad_datamodule_setting_is_one_message(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["fit", "--config", str(missing_mnist_config(tmp_path)), "--data.init_args.batch_size", "0"]
    assert exit_code(args) == 2
    err = capsys.readouterr().err
    assert "error: image_size and batch_size must be >= 1" in err and "Union subtypes" not in err


def test_verbose_keeps_the_exception(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIT_GAN_VERBOSE", "0")  # so that the undo removes what main sets
    with pytest.raises(FileNotFoundError, match="mnist data not found"):
        main(["--verbose", "fit", "--config", str(missing_mnist_config(tmp_path))])
    assert os.environ["LIT_GAN_VERBOSE"] == "1"  # set for DDP ranks and subprocesses


def test_a_bug_keeps_its_traceback(tmp_path, monkeypatch):
    """Only known user errors are shortened: an unexpected exception propagates as it is."""
    from lit_gan.data import MNISTDataModule

    def broken_setup(self, stage=None):
        raise KeyError("a bug")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(MNISTDataModule, "setup", broken_setup)
    with pytest.raises(KeyError, match="a bug"):
        main(["fit", "--config", str(missing_mnist_config(tmp_path))])


def test_real_entry_point_missing_data(tmp_path):
    """The real process: exit code 2, the message on stderr, no traceback, no run folder;
    with LIT_GAN_VERBOSE=1 the traceback is back (both run at once: ~10 s of imports each)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("LIT_GAN_VERBOSE", None)
    runs = {"short": (tmp_path / "a", env), "verbose": (tmp_path / "b", {**env, "LIT_GAN_VERBOSE": "1"})}
    procs = {}
    for key, (cwd, e) in runs.items():
        cwd.mkdir()
        # a config (so a save_dir) each: two processes cleaning one shared runs/ folder race (one may
        # create it after the other looked), which made this test fail under load
        cmd = [sys.executable, "-m", "lit_gan", "fit", "--config", str(missing_mnist_config(cwd))]
        procs[key] = subprocess.Popen(cmd, cwd=cwd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {key: (*p.communicate(timeout=300), p.returncode) for key, p in procs.items()}

    _, err, code = results["short"]
    assert code == 2, err
    assert "Traceback" not in err and "error: mnist data not found" in err
    assert "--data.init_args.download=true" in err  # the message says what to do
    _, err, code = results["verbose"]
    assert code == 1 and "Traceback" in err and "FileNotFoundError: mnist data not found" in err
    assert not any((cwd / "runs").exists() for cwd, _ in runs.values())
