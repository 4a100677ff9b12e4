"""CycleGAN's image history: new images until full, then half from history; exact round trip."""

from __future__ import annotations

import pytest
import torch

from lit_gan.models.image_pool import ImagePool


def batches(n: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(1, 3, 4, 4, generator=g) for _ in range(n)]


def test_returns_the_new_images_until_full():
    pool = ImagePool(size=5)
    for b in batches(5):
        assert torch.equal(pool.query(b), b)
    assert len(pool) == 5


def test_when_full_half_come_from_history():
    torch.manual_seed(0)
    pool = ImagePool(size=50)
    inputs = batches(2050)
    seen = []
    from_history = 0
    for b in inputs:
        out = pool.query(b)
        if not torch.equal(out, b):
            from_history += 1
            assert any(torch.equal(out[0], s) for s in seen[-2050:])  # an image generated earlier
        seen.append(b[0])
    fraction = from_history / 2000  # after the first 50
    assert 0.45 < fraction < 0.55  # 1/2 in expectation; sd of the estimate ~0.011
    assert len(pool) == 50


def test_size_zero_disables_the_history():
    pool = ImagePool(size=0)
    b = batches(1)[0]
    assert pool.query(b) is b and len(pool) == 0


def test_state_round_trip_gives_the_same_future():
    torch.manual_seed(1)
    pool = ImagePool(size=8)
    for b in batches(20, seed=1):
        pool.query(b)
    state, rng = pool.state_dict(), torch.get_rng_state()
    future = [pool.query(b) for b in batches(30, seed=2)]
    restored = ImagePool(size=8)
    restored.load_state_dict(state)
    torch.set_rng_state(rng)
    assert all(torch.equal(a, restored.query(b)) for a, b in zip(future, batches(30, seed=2)))
    with pytest.raises(ValueError, match="up to 8"):
        ImagePool(size=50).load_state_dict(state)


def test_history_follows_the_device_and_dtype_of_its_inputs():
    """Lightning restores a checkpoint before it moves the model, so a resumed pool holds CPU
    history while the generator's images are on the GPU ('meta' stands in for a second device:
    stacking the two raised "Tensor on device cpu is not on the expected device")."""
    torch.manual_seed(0)
    pool = ImagePool(size=4)
    for b in batches(4):
        pool.query(b)
    restored = ImagePool(size=4)
    restored.load_state_dict(pool.state_dict(), "cpu")
    out = restored.query(torch.zeros(8, 3, 4, 4, device="meta", dtype=torch.bfloat16))
    assert out.device.type == "meta" and out.dtype == torch.bfloat16 and out.shape == (8, 3, 4, 4)
    assert all(image.device.type == "meta" and image.dtype == torch.bfloat16 for image in restored.images)
