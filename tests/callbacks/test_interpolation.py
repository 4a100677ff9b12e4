"""lerp / slerp closed forms, the (anti)parallel fallback, and interpolation_images' shape."""

import math

import pytest
import torch

from lit_gan.callbacks.interpolation import LatentInterpolation, interpolation_images, lerp, slerp


def pair(n: int = 3, d: int = 16, seed: int = 0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=dtype), torch.randn(n, d, generator=g, dtype=dtype)


@pytest.mark.parametrize("fn", [lerp, slerp])
def test_endpoints_are_z0_and_z1(fn):
    z0, z1 = pair()
    path = fn(z0, z1, torch.linspace(0, 1, 5, dtype=z0.dtype))
    assert path.shape == (3, 5, 16)
    torch.testing.assert_close(path[:, 0], z0)
    torch.testing.assert_close(path[:, -1], z1)


def test_lerp_midpoint_is_the_mean():
    z0, z1 = pair()
    mid = lerp(z0, z1, torch.tensor([0.5], dtype=z0.dtype))[:, 0]
    torch.testing.assert_close(mid, (z0 + z1) / 2)


def test_lerp_quarter_point():
    z0, z1 = pair()
    q = lerp(z0, z1, torch.tensor([0.25], dtype=z0.dtype))[:, 0]
    torch.testing.assert_close(q, 0.75 * z0 + 0.25 * z1)


def test_slerp_orthonormal_midpoint_closed_form():
    z0 = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    z1 = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    t = torch.tensor([0.5, 1 / 3], dtype=torch.float64)
    path = slerp(z0, z1, t)
    torch.testing.assert_close(path[0, 0], (z0[0] + z1[0]) / math.sqrt(2))
    # a third of the way along the quarter circle: angle pi / 6
    torch.testing.assert_close(path[0, 1], torch.tensor([math.cos(math.pi / 6), math.sin(math.pi / 6), 0.0], dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_slerp_keeps_the_norm_when_endpoints_share_it(dtype):
    z0, z1 = pair(n=4, d=64, dtype=dtype)
    z1 = z1 / z1.norm(dim=1, keepdim=True) * z0.norm(dim=1, keepdim=True)  # |z0| == |z1| per row
    t = torch.linspace(0, 1, 11, dtype=dtype)
    norms = slerp(z0, z1, t).norm(dim=2)  # (4, 11)
    torch.testing.assert_close(norms, z0.norm(dim=1, keepdim=True).expand_as(norms), rtol=1e-5, atol=1e-5)
    # ... which the straight line does not: its midpoint is strictly shorter
    assert (lerp(z0, z1, t).norm(dim=2)[:, 5] < z0.norm(dim=1) * 0.95).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [2.0, 1.0, -1.0, -3.0])
def test_slerp_falls_back_to_lerp_for_parallel_and_antiparallel(dtype, scale):
    z0, _ = pair(n=2, d=8, dtype=dtype)
    z1 = scale * z0
    t = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0], dtype=dtype)
    out = slerp(z0, z1, t)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, lerp(z0, z1, t))


def test_slerp_mixed_batch_uses_fallback_only_on_parallel_rows():
    z0, z1 = pair(n=2, d=8)
    z1[1] = -z0[1]  # row 1 antiparallel, row 0 generic
    t = torch.tensor([0.25], dtype=z0.dtype)
    out = slerp(z0, z1, t)
    torch.testing.assert_close(out[1], lerp(z0[1:], z1[1:], t)[0])
    assert not torch.allclose(out[0], lerp(z0[:1], z1[:1], t)[0])


class StubModel:
    """The sampling protocol interpolation_images uses: noise(n, generator), generate(z)."""

    latent_dim = 5

    def noise(self, n, generator=None):
        return torch.randn(n, self.latent_dim, generator=generator)

    def generate(self, z):
        assert z.dim() == 2 and z.shape[1] == self.latent_dim
        return z[:, :3, None, None].expand(-1, 3, 7, 7).tanh()  # (N, 3, 7, 7)


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_images_shape_and_row_endpoints(method):
    model = StubModel()
    images = interpolation_images(model, rows=3, steps=4, method=method, generator=torch.Generator().manual_seed(0))
    assert images.shape == (3 * 4, 3, 7, 7)
    g = torch.Generator().manual_seed(0)
    z0, z1 = model.noise(3, g), model.noise(3, g)
    grid = images.view(3, 4, 3, 7, 7)
    torch.testing.assert_close(grid[:, 0], model.generate(z0))  # each row starts at its z0 ...
    torch.testing.assert_close(grid[:, -1], model.generate(z1))  # ... and ends at its z1


def test_interpolation_images_is_seeded():
    a = interpolation_images(StubModel(), 2, 3, "slerp", torch.Generator().manual_seed(1))
    b = interpolation_images(StubModel(), 2, 3, "slerp", torch.Generator().manual_seed(1))
    c = interpolation_images(StubModel(), 2, 3, "slerp", torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="'cubic'.*lerp or slerp"):
        interpolation_images(StubModel(), 2, 3, "cubic", torch.Generator())
    with pytest.raises(ValueError, match="'cubic'.*lerp or slerp"):
        LatentInterpolation(method="cubic")
    with pytest.raises(ValueError, match="every_n_iterations"):
        LatentInterpolation(every_n_iterations=-1)
