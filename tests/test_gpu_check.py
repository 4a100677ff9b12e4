"""benchmarks/gpu_check.py on this CPU: every case OK and one JSON line (a fast subset, and the
whole --quick run as a slow test), its --help, and that its checks can fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.py"


def gpu_check(tmp_path: Path, *args: str, timeout: int = 1200) -> tuple[subprocess.CompletedProcess, dict]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, str(SCRIPT), "--workdir", str(tmp_path / "work"), *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=timeout)
    return proc, json.loads(proc.stdout.strip().splitlines()[-1])


def assert_all_ok(proc: subprocess.CompletedProcess, result: dict, skipped: tuple[str, ...] = ()) -> None:
    """Every case and check OK; the checks named in ``skipped`` must say SKIPPED instead."""
    assert proc.returncode == 0 and result["all_ok"] and not result["failed"], proc.stdout[-4000:] + proc.stderr[-3000:]
    assert all(c["status"] == "OK" and c["resume_max_diff"] == 0 for c in result["cases"])
    assert all(c["status"] == ("SKIPPED" if c["check"] in skipped else "OK") for c in result["checks"]), result["checks"]
    for case in result["cases"]:  # one line per case
        name = f"{case['family']}/{case['precision']}/{'compile' if case['compile'] else 'eager'}"
        name += f"/x{case['devices']}" if case["devices"] > 1 else ""
        assert any(line.startswith(name) and " OK " in line for line in proc.stdout.splitlines()), name


def test_one_family_one_precision(tmp_path):
    """~35 s on one core: 3 fits, evaluate, a fit with the metrics callback, and the speed of one model."""
    proc, result = gpu_check(tmp_path, "--quick", "--families", "dcgan", "--precisions", "32-true",
                             "--speed-models", "dcgan64")
    assert_all_ok(proc, result)
    assert [(c["family"], c["precision"], c["compile"]) for c in result["cases"]] == [("dcgan", "32-true", False)]
    assert {"fid_64", "kid_64"} <= set(result["cases"][0]["metrics"])
    (row,) = result["speed"]
    assert row["model"] == "dcgan64" and row["iterations_per_s"] > 0 and row["vs_fp32_eager"] == 1.0
    assert row["peak_gpu_mib"] == "n/a" and result["accelerator"] == "cpu"


@pytest.mark.slow
def test_quick_runs_every_family_and_precision_on_cpu(tmp_path):
    """~5 min on 2 cores: 5 families x (32-true, bf16-mixed), the checks and three speed models."""
    proc, result = gpu_check(tmp_path, "--quick")
    assert_all_ok(proc, result)
    assert len(result["cases"]) == 10 and result["precisions"] == ["32-true", "bf16-mixed"]
    assert {r["model"] for r in result["speed"]} == {"dcgan64", "pix2pix256", "cyclegan256"}


@pytest.mark.slow
def test_every_family_on_two_processes_resumes_exactly_and_evaluates_as_one(tmp_path):
    """~7 min on 2 cores: fit (with FID / KID during it for the sampling families) -> SIGTERM to
    rank 1 -> resume -> evaluate on 2 gloo processes, for every family; each resume equals its
    straight run and `evaluate --devices 2` equals one process."""
    proc, result = gpu_check(tmp_path, "--quick", "--devices", "2", "--precisions", "32-true", "--speed-models",
                             timeout=2400)
    assert_all_ok(proc, result)
    assert sorted(c["family"] for c in result["cases"]) == sorted(["dcgan", "wgangp", "cdcgan", "pix2pix", "cyclegan"])
    assert all(c["devices"] == 2 and "evaluate x2 = x1" in c["detail"] for c in result["cases"])


@pytest.mark.slow
def test_cyclegan_on_two_processes(tmp_path):
    """The family with rank-local state (image pools) on 2 gloo processes (~60 s: slow since the
    default run neared 15 minutes; the every-family test above covers it too)."""
    proc, result = gpu_check(tmp_path, "--quick", "--devices", "2", "--families", "cyclegan", "--precisions",
                             "32-true", "--speed-models")
    assert_all_ok(proc, result, skipped=("metrics callback leaves the training",))  # no sampling family here
    (case,) = result["cases"]
    assert case["devices"] == 2 and "resume exact, evaluate x2 = x1" in case["detail"]


def test_help_documents_the_options():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr
    for option in ("--quick", "--families", "--precisions", "--compile", "--iterations", "--speed-models", "--devices",
                   "--speed-iterations", "channels_last"):
        assert option in proc.stdout, option


@pytest.fixture
def gpu_check_module(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    import gpu_check  # noqa: PLC0415

    return gpu_check


def test_the_rng_check_fails_when_reading_real_images_draws_from_the_global_rng(gpu_check_module, tmp_path,
                                                                              monkeypatch):
    from gpu_check_fixtures import write_all

    from lit_gan.evaluation import real

    fixtures = write_all(tmp_path)
    assert gpu_check_module.metrics_pass_leaves_rng(torch.device("cpu"), fixtures, tmp_path)["status"] == "OK"
    original = real.real_images_and_labels
    monkeypatch.setattr(real, "real_images_and_labels", lambda *a, **k: (torch.rand(1), original(*a, **k))[1])
    check = gpu_check_module.metrics_pass_leaves_rng(torch.device("cpu"), fixtures, tmp_path)
    assert check["status"] == "ERROR" and "cpu" in check["detail"]


def test_an_inexact_resume_is_an_error(gpu_check_module):
    from gpu_check_cycle import FAMILIES, Case

    cases = [Case(FAMILIES["dcgan"], "32-true", False, "OK", resume_max_diff=0.0),
             Case(FAMILIES["dcgan"], "bf16-mixed", False, "OK", resume_max_diff=1e-7)]
    summary = gpu_check_module.resume_summary(cases)
    assert summary["status"] == "ERROR" and summary["max_diff"] == 1e-7 and "1/2" in summary["detail"]
    assert "dcgan/bf16-mixed/eager" in summary["detail"]
