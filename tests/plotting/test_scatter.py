"""plot_points_2d: writes a real PNG atomically, fixed limits, works as a subplot."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from lit_gan.data.toy import toy_modes
from lit_gan.plotting.scatter import plot_points_2d, view_limits

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _samples(n: int = 500, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=2.0, size=(n, 2))


def test_writes_png_and_leaves_no_temp_file(tmp_path):
    out = tmp_path / "sub" / "epoch_003.png"
    fig = plot_points_2d(_samples(), toy_modes("ring8").numpy(), path=out, title="epoch 3", std=0.02)
    assert isinstance(fig, Figure)
    data = out.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_MAGIC)
    assert sorted(p.name for p in out.parent.iterdir()) == ["epoch_003.png"]


def test_overwrite_and_failed_save_leave_no_temp_file(tmp_path, monkeypatch):
    out = tmp_path / "frame.png"
    plot_points_2d(_samples(), toy_modes("ring8").numpy(), path=out)
    plot_points_2d(_samples(seed=1), toy_modes("ring8").numpy(), path=out)  # replace in place
    first = out.read_bytes()

    def boom(self, *a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", boom)
    with pytest.raises(OSError, match="disk full"):
        plot_points_2d(_samples(seed=2), toy_modes("ring8").numpy(), path=out)
    assert [p.name for p in tmp_path.iterdir()] == ["frame.png"]
    assert out.read_bytes() == first  # the old frame survives a failed write


def test_limits_come_from_modes_not_samples():
    modes = toy_modes("grid25").numpy()
    far = np.full((10, 2), 50.0)
    ax = plot_points_2d(far, modes).axes[0]
    assert ax.get_xlim() == pytest.approx((-6, 6)) and ax.get_ylim() == pytest.approx((-6, 6))
    assert any("10 of 10 outside view" in t.get_text() for t in ax.texts)
    assert view_limits(toy_modes("ring8").numpy()) == pytest.approx((-3, 3, -3, 3))


def test_draws_into_given_axes_and_accepts_tensors(tmp_path):
    fig = Figure(figsize=(8, 4))
    axes = fig.subplots(1, 2)
    modes = toy_modes("ring8")
    for ax, name in zip(axes, ["gan", "wgan"]):
        returned = plot_points_2d(torch.randn(100, 2), modes, ax=ax, title=name, std=0.02)
        assert returned is fig
    assert [a.get_title() for a in axes] == ["gan", "wgan"]
    assert len(axes[0].patches) == 8  # one 3-std circle per mode
    assert len(fig.axes) == 2  # no extra axes were created
    out = tmp_path / "grid.png"
    plot_points_2d(torch.randn(10, 2), modes, ax=axes[0], path=out)
    assert out.read_bytes().startswith(PNG_MAGIC)


def test_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_points_2d(np.zeros((5, 3)), toy_modes("ring8").numpy())
