"""lerp / slerp closed forms, the (anti)parallel fallback, interpolation_images' shape, and the
walks of class-conditional models (within a class; between classes at a fixed z)."""

import math

import pytest
import torch

from lit_gan.callbacks.interpolation import (ClassInterpolation, LatentInterpolation, class_interpolation_images,
                                             class_walk_weights, interpolation_images, lerp, slerp)


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


# ---- class-conditional models ---------------------------------------------------------------------
class StubConditional(StubModel):
    """generate(z, labels) that records its labels; the image encodes z and the label (index or weights)."""

    num_classes = 3

    def __init__(self):
        self.calls = []

    def generate(self, z, labels):
        self.calls.append(labels)
        weights = labels if labels.is_floating_point() else torch.nn.functional.one_hot(labels, self.num_classes).float()
        x = torch.cat([z[:, :2], weights], dim=1)  # (N, 2 + K)
        return x[:, :, None, None].expand(-1, -1, 4, 4).tanh()


def test_within_class_walk_keeps_row_r_at_class_r_mod_k():
    model = StubConditional()
    images = interpolation_images(model, rows=5, steps=3, method="slerp", generator=torch.Generator().manual_seed(0))
    assert images.shape == (15, 5, 4, 4)
    (labels,) = model.calls
    assert labels.tolist() == [r % 3 for r in range(5) for _ in range(3)]


def test_class_walk_weights_go_from_one_hot_to_the_next_class():
    w = class_walk_weights(3, rows=4, steps=5).view(4, 5, 3)
    eye = torch.eye(3)
    for r in range(4):
        assert torch.equal(w[r, 0], eye[r % 3]) and torch.equal(w[r, -1], eye[(r + 1) % 3])
    torch.testing.assert_close(w[0, 2], torch.tensor([0.5, 0.5, 0.0]))
    torch.testing.assert_close(w.sum(-1), torch.ones(4, 5))


def test_class_walk_holds_z_and_starts_at_the_within_class_z0():
    model = StubConditional()
    images = class_interpolation_images(model, rows=4, steps=3, generator=torch.Generator().manual_seed(0)).view(4, 3, 5, 4, 4)
    z0 = model.noise(4, torch.Generator().manual_seed(0))
    torch.testing.assert_close(images[:, :, :2, 0, 0], z0[:, None, :2].expand(4, 3, 2).tanh())  # one z per row
    walk = interpolation_images(model, 4, 3, "slerp", torch.Generator().manual_seed(0)).view(4, 3, 5, 4, 4)
    torch.testing.assert_close(images[:, 0], walk[:, 0])  # column 0 of both pictures: (z0[r], class r % K)


def test_class_walk_endpoints_are_the_pure_class_samples_of_a_real_model():
    from lit_gan.models import ConditionalDCGAN, ProjectionGAN

    for cls in (ConditionalDCGAN, ProjectionGAN):
        torch.manual_seed(0)
        model = cls(num_classes=4, data_shape=(1, 28, 28), latent_dim=8,
                    generator_options={"features": 8}, discriminator_options={"features": 8})
        for m in model.generator.modules():  # conditional BN: give each class its own gamma
            if hasattr(m, "gamma"):
                torch.nn.init.normal_(m.gamma.weight, 1.0, 0.5)
        rows, steps = 5, 4
        images = class_interpolation_images(model, rows, steps, torch.Generator().manual_seed(2)).view(rows, steps, 1, 28, 28)
        z = model.noise(rows, torch.Generator().manual_seed(2))
        start = torch.arange(rows) % 4
        assert torch.equal(images[:, 0], model.generate(z, start))
        assert torch.equal(images[:, -1], model.generate(z, (start + 1) % 4))
        assert not torch.allclose(images[:, 1], images[:, 0], atol=1e-4)  # in between: neither end
        assert not torch.allclose(images[:, 1], images[:, -1], atol=1e-4)


def test_class_interpolation_writes_nothing_for_unconditional_models(tmp_path):
    model = StubModel()
    model.data_shape = (3, 7, 7)
    assert not ClassInterpolation().render(None, model, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    with pytest.raises(ValueError, match="unconditional"):
        class_interpolation_images(model, 2, 3, torch.Generator())
    with pytest.raises(ValueError, match="steps >= 2"):
        ClassInterpolation(steps=1)


def test_class_interpolation_picture_is_rows_by_steps(tmp_path):
    from PIL import Image

    model = StubConditional()
    model.data_shape = (5, 4, 4)
    model.generate = lambda z, labels: torch.zeros(len(z), 3, 4, 4)
    assert ClassInterpolation(rows=3, steps=6).render(None, model, tmp_path / "x.png")
    with Image.open(tmp_path / "x.png") as image:
        assert image.size == (6 * 6 + 2, 3 * 6 + 2)
