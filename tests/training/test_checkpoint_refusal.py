"""Checkpoints that must not be used: a diverged one (generate / evaluate / translate refuse
it) and a truncated one (`fit --ckpt_path` names the file in one line)."""

from __future__ import annotations

import math

import torch

from lit_gan.__main__ import main as lit_gan_main
from tests.run_helpers import fit_command, run


def test_commands_refuse_non_finite_weights(tmp_path, capsys):
    trained = run(tmp_path, fit_command(tmp_path / "runs", "--max_iterations", "2"))
    assert trained.returncode == 0, trained.stderr[-3000:]
    good = tmp_path / "runs" / "r" / "version_0" / "checkpoints" / "last.ckpt"
    state = torch.load(good, weights_only=False)
    name = next(k for k in state["state_dict"] if k.startswith("generator."))
    state["state_dict"][name].view(-1)[0] = math.inf
    bad = tmp_path / "diverged.ckpt"
    torch.save(state, bad)
    for command in (["generate", "--ckpt", str(bad), "--num", "4", "--out", str(tmp_path / "s.npz")],
                    ["evaluate", "--ckpt", str(bad), "--num", "8", "--metrics", "modes"]):
        try:
            lit_gan_main(command)
        except SystemExit as exit_:
            assert exit_.code == 2, command
        err = capsys.readouterr().err
        assert f"{bad} holds non-finite weights ({name} has NaN or inf)" in err, err
    assert not (tmp_path / "s.npz").exists()
    try:  # the good checkpoint still works
        lit_gan_main(["generate", "--ckpt", str(good), "--num", "4", "--out", str(tmp_path / "ok.npz"), "--no-progress"])
    except SystemExit as exit_:
        assert exit_.code == 0
    assert (tmp_path / "ok.npz").is_file()


def test_truncated_checkpoint_is_one_line(tmp_path):
    trained = run(tmp_path, fit_command(tmp_path / "runs", "--max_iterations", "2"))
    assert trained.returncode == 0, trained.stderr[-3000:]
    ckpt = tmp_path / "runs" / "r" / "version_0" / "checkpoints" / "last.ckpt"
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    result = run(tmp_path, fit_command(tmp_path / "runs", "--max_iterations", "4", "--ckpt_path", "last"))
    assert result.returncode == 2
    assert f"{ckpt} is not a readable checkpoint" in result.stderr and "Traceback" not in result.stderr
    assert "weights_only" not in result.stderr
