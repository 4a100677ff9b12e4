"""Paper inference seeds the one stream its dropout draws from, and gives it back."""

from __future__ import annotations

import torch

from lit_gan.models.paper_inference import INFERENCE_SEED, paper_modes
from tests.models.test_pix2pix import batch, tiny
from tests.rng_helpers import seeding_calls  # noqa: F401 (fixture)


def test_paper_inference_seeds_no_other_device_and_gives_today_s_images(seeding_calls):  # noqa: F811
    torch.manual_seed(0)
    model = tiny()
    x = batch(3)[1]
    expected = []
    with paper_modes(model.generator), torch.no_grad(), torch.random.fork_rng(devices=[]):
        for image in x.split(1):
            torch.manual_seed(INFERENCE_SEED)  # what the CPU stream drew before
            expected.append(model.generator(image))
    torch.manual_seed(7)
    seeding_calls.clear()
    state = torch.get_rng_state()
    assert torch.equal(model.translate(x), torch.cat(expected))
    assert seeding_calls == []  # torch.manual_seed would re-seed every CUDA device (torch.cuda.manual_seed_all)
    assert torch.equal(torch.get_rng_state(), state)
