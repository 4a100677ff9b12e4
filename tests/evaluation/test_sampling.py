"""Sample i of seed s and its label: LabelPlan and sample_rows with a conditional model."""

from __future__ import annotations

import pytest
import torch

from lit_gan.evaluation.sampling import (LabelError, LabelPlan, Sampler, Translator, fixed_noise, label_plan,
                                        sample_rows)
from lit_gan.models import DCGAN, ConditionalDCGAN, Pix2Pix


def test_plans_give_each_index_its_label_in_any_shard():
    assert LabelPlan(4).labels(range(0, 6)).tolist() == [0, 1, 2, 3, 0, 1]
    assert LabelPlan(10, cycle=(0, 3, 7)).labels(range(2, 6)).tolist() == [7, 0, 3, 7]
    per_class = LabelPlan(3, per_class=2)
    assert per_class.total == 6 and per_class.labels(range(6)).tolist() == [0, 0, 1, 1, 2, 2]
    whole = LabelPlan(10, cycle=(1, 2, 9)).labels(range(0, 50))
    assert torch.equal(torch.cat([LabelPlan(10, cycle=(1, 2, 9)).labels(range(a, b))
                                  for a, b in ((0, 17), (17, 33), (33, 50))]), whole)


@pytest.mark.parametrize("kwargs, message", [
    ({"cycle": (0, 10)}, "out of range"), ({"cycle": ()}, "empty"), ({"per_class": 0}, ">= 1"),
    ({"cycle": (1,), "per_class": 2}, "not both"),
])
def test_bad_plans_are_refused(kwargs, message):
    with pytest.raises(LabelError, match=message):
        LabelPlan(10, **kwargs)


def tiny_conditional():
    torch.manual_seed(0)
    return ConditionalDCGAN(num_classes=10, data_shape=(1, 28, 28), latent_dim=8,
                            generator_options={"features": 8}, discriminator_options={"features": 8}).eval()


def test_models_meet_the_protocols():
    model = tiny_conditional()
    assert isinstance(model, Sampler) and not isinstance(model, Translator)
    assert isinstance(DCGAN(data_shape=(1, 28, 28)), Sampler)
    assert isinstance(Pix2Pix(data_shape=(3, 64, 64)), Translator)
    assert label_plan(DCGAN(data_shape=(1, 28, 28))) is None
    with pytest.raises(LabelError, match="unconditional"):
        label_plan(DCGAN(data_shape=(1, 28, 28)), labels=[1])


def test_conditional_samples_do_not_depend_on_batch_size_or_shard():
    model = tiny_conditional()
    plan = LabelPlan(10, per_class=5)
    whole = torch.cat(list(sample_rows(model, 50, 3, range(50), 50, plan)))
    pieces = torch.cat([torch.cat(list(sample_rows(model, 50, 3, range(a, b), 7, plan)))
                        for a, b in ((0, 20), (20, 50))])
    assert torch.equal(whole, pieces)
    # the default plan cycles the classes: sample 0 is class 0, sample 1 class 1
    default = torch.cat(list(sample_rows(model, 50, 3, range(50), 50)))
    assert torch.equal(default[0], whole[0]) and not torch.equal(default[1], whole[1])
    assert torch.allclose(default[1], model.generate(fixed_noise(model, 50, 3)[1:2], torch.tensor([1]))[0], atol=1e-6)


@pytest.mark.parametrize("noise", ["normal", "uniform", "uniform_pm1"])
def test_sample_i_of_a_seed_does_not_depend_on_how_many_are_drawn(noise):
    # torch's CPU randn fills the last (size mod 16) numbers of a draw by another path: a
    # draw of 3 x 5 gave sample 2 other values than a draw of 2,000 x 5 did.
    model = DCGAN(data_shape=(1, 28, 28), latent_dim=5, noise=noise)
    many = fixed_noise(model, 2000, 7)
    for num in (1, 3, 17, 1024, 1030):
        assert torch.equal(fixed_noise(model, num, 7), many[:num]), num
