"""The Dockerfile: lint-clean (hadolint) and consistent with pyproject.toml.

No Docker engine runs here, so the image itself is not built in tests; these checks catch
what usually breaks: a base torch below our floors, packages installed behind
pyproject's back, a root user, a lost entry point or volume.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from packaging.requirements import Requirement
from packaging.version import Version

from lit_gan.metrics.inception import WEIGHTS_ENV, WEIGHTS_FILE

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def instructions(keyword: str) -> list[str]:
    """Arguments of every ``keyword`` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.upper().startswith(keyword + " ")]


def dependencies() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {Requirement(d).name: Requirement(d) for d in project["dependencies"]}


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is part of the dev extras: pip install -e '.[dev]'"
    done = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_base_image_is_pinned_and_its_torch_meets_the_floor():
    (base,) = instructions("FROM")
    match = re.fullmatch(r"pytorch/pytorch:(\d+\.\d+\.\d+)-cuda[\d.]+-cudnn\d+-runtime", base.strip())
    assert match, f"base image should be a versioned pytorch/pytorch runtime tag, got {base}"
    assert Version(match.group(1)) in dependencies()["torch"].specifier


def test_pip_installs_only_the_project():
    installs = [cmd for cmd in instructions("RUN") if "pip install" in cmd]
    assert installs, "the project is never installed"
    names = dependencies()
    for cmd in installs:
        args = [a for a in cmd.split("pip install", 1)[1].split("&&")[0].split() if not a.startswith("-")]
        for arg in args:  # "." is the project (its pyproject dependencies); anything else must be one of them
            assert arg == "." or Requirement(arg).name in names, f"{arg} is installed but not in pyproject.toml"


def test_runs_as_a_user_with_the_cli_entry_point_and_volumes():
    (user,) = instructions("USER")
    assert user.split(":")[0] not in ("0", "root")
    (entry,) = instructions("ENTRYPOINT")
    assert json.loads(entry) == ["python", "-m", "lit_gan"]
    (volumes,) = instructions("VOLUME")
    assert set(json.loads(volumes)) == {"/workspace/data", "/workspace/runs", "/home/gan/.cache"}
    env = " ".join(instructions("ENV"))
    assert f"{WEIGHTS_ENV}=/opt/lit_gan/{WEIGHTS_FILE}" in env  # baked weights outside the cache volume
    assert any("experiments" in c for c in instructions("COPY"))
