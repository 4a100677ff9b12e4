"""benchmarks/evaluate_speed.py --quick runs on a fixture it writes and ends with its JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_quick_run_ends_with_one_json_line(tmp_path):
    """~20 s on one core: three tiny trainings, two evaluations (a cache-filling run and one timed run each), their bare passes."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "evaluate_speed.py"), "--quick", "--repeat", "1", "--work",
                           str(tmp_path / "work")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["quick"] is True
    for name, metrics in (("dcgan", {"fid_200", "kid_200", "precision_200"}), ("pix2pix", {"fid_200", "accuracy", "l1"})):
        r = result[name]
        assert r["num"] == 200 and metrics <= set(r["metrics"]), r
        assert r["evaluate_s"] > 0 and r["bare_s"] > 0 and r["ratio"] == pytest.approx(r["evaluate_s"] / r["bare_s"], rel=0.1)
        assert r["timing"]["forward_s"] > 0 and r["timing"]["features_s"] > 0 and r["timing"]["metrics_s"]
