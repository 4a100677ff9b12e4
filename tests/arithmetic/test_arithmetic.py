"""Latent arithmetic as a library: parsing, the exact algebra, group choice by a classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lit_gan.arithmetic.expression import (ArithmeticInputError, Literal, combine, group_means, neighbourhood,
                                           parse_expression)
from lit_gan.arithmetic.groups import Vocabulary, criterion_for, pick_members
from lit_gan.arithmetic.run import decode_together, run_arithmetic
from lit_gan.metrics.extractors import FeatureExtractor

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


# ---- parsing ----------------------------------------------------------------------------------

def test_index_groups_and_signs():
    terms = parse_expression("3,17,42 - 5, 9,11 + 8,21,30")
    assert [t.sign for t in terms] == [1, -1, 1]
    assert [t.indices for t in terms] == [(3, 17, 42), (5, 9, 11), (8, 21, 30)]
    assert all(t.literals is None for t in terms)
    assert [t.sign for t in parse_expression("- 1 + 2")] == [-1, 1]


def test_class_names_keep_their_hyphens_and_spaces():
    terms = parse_expression("T-shirt/top  -  Ankle   Boot + #5")
    assert [t.sign for t in terms] == [1, -1, 1]
    assert terms[0].literals == (Literal(name="t-shirt/top"),)
    assert terms[1].literals == (Literal(name="ankle boot"),) and terms[1].text == "Ankle Boot"
    assert terms[2].literals == (Literal(index=5),)
    assert not any(t.is_conjunction for t in terms)


def test_conjunctions():
    terms = parse_expression("Eyeglasses & Male - Male & not Eyeglasses + NOT Male & not Eyeglasses")
    assert terms[0].literals == (Literal("eyeglasses"), Literal("male"))
    assert terms[1].literals == (Literal("male"), Literal("eyeglasses", negated=True))
    assert terms[2].literals == (Literal("male", negated=True), Literal("eyeglasses", negated=True))
    assert all(t.is_conjunction for t in terms)
    assert parse_expression("not Smiling")[0].is_conjunction


@pytest.mark.parametrize("text, needle", [
    ("", "empty"), ("   ", "empty"), ("sandal -", "no group"), ("sandal - - sneaker", "no group"),
    ("3,17,42-5,9,11", "spaces"), ("3,,4", "commas"), ("1,2,1", "twice"), ("#x - sandal", "'#'"),
    ("sandal & ", "empty term"),
])
def test_malformed_expressions_say_how_to_write_one(text, needle):
    with pytest.raises(ArithmeticInputError, match=needle) as err:
        parse_expression(text)
    assert "spaces around them" in str(err.value)


# ---- the algebra ------------------------------------------------------------------------------

def test_u_minus_v_plus_w_is_exact_on_known_vectors():
    u = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    v = torch.tensor([[0.5, -1.0]])  # mean (0.5, -1)
    w = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, -4.0]])  # mean (1, -1)
    means = group_means([u, v, w])
    assert torch.equal(means, torch.tensor([[2.0, 3.0], [0.5, -1.0], [1.0, -1.0]]))
    assert torch.equal(combine(means, [1, -1, 1]), torch.tensor([2.5, 3.0]))
    assert torch.equal(combine(means, [-1, 1, 1]), torch.tensor([-0.5, -5.0]))


def test_neighbourhood_keeps_the_centre_and_stays_within_the_scale():
    centre = torch.randn(100)
    grid = neighbourhood(centre, 0.25, torch.Generator().manual_seed(0))
    assert grid.shape == (9, 100) and torch.equal(grid[4], centre)
    others = torch.cat([grid[:4], grid[5:]]) - centre
    assert others.abs().max() <= 0.25 and others.abs().max() > 0.2 and (others != 0).all()
    assert torch.equal(neighbourhood(centre, 0.0, torch.Generator().manual_seed(0)), centre.expand(9, -1))


# ---- criteria and picking ---------------------------------------------------------------------

def test_single_label_picks_the_most_confident_predicted_members_ties_by_index():
    vocab = Vocabulary.from_meta("clf.pt2", {"class_names": ["a", "b", "c"]})
    logits = torch.tensor([[0.0, 5.0, 0.0], [0.0, 1.0, 0.0], [9.0, 8.0, 0.0], [0.0, 5.0, 0.0], [0.0, 3.0, 0.0]])
    crit = criterion_for(parse_expression("B")[0], vocab)
    chosen, confidence = pick_members(logits, crit, 3, "the 5 samples", "raise --search")
    assert chosen.tolist() == [0, 3, 4]  # row 2 predicts a; 0 and 3 tie, lower index first
    assert confidence[0] == confidence[1] > confidence[2]
    with pytest.raises(ArithmeticInputError, match=r"4 of the 5 samples are classified so, 5 needed; raise --search"):
        pick_members(logits, crit, 5, "the 5 samples", "raise --search")


def test_conjunction_ranks_by_the_weakest_term():
    vocab = Vocabulary.from_meta("attr.pt2", {"multilabel": True, "attribute_names": ["Eyeglasses", "Male"]})
    logits = torch.tensor([[3.0, -1.0], [1.0, -4.0], [2.0, 1.0], [-1.0, -5.0], [4.0, -3.0]])
    crit = criterion_for(parse_expression("eyeglasses & not MALE")[0], vocab)
    assert crit.description == "Eyeglasses & not Male"
    chosen, _ = pick_members(logits, crit, 3, "x", "y")
    assert chosen.tolist() == [4, 0, 1]  # weakest terms 3, 1, 1 (row 0 before row 1 by index)


@pytest.mark.parametrize("meta, expr, needle", [
    ({"class_names": list(FASHION)}, "sandl", "unknown class 'sandl'"),
    ({"class_names": list(FASHION)}, "#10", "out of range"),
    ({"class_names": list(FASHION)}, "sandal & not bag", "single-label"),
    ({"multilabel": True, "attribute_names": ["Eyeglasses", "Male"]}, "sandal", "unknown attribute 'sandal'"),
    ({"num_classes": 10}, "sandal", "no class names"),
])
def test_criteria_a_classifier_cannot_judge(meta, expr, needle):
    with pytest.raises(ArithmeticInputError, match=needle) as err:
        criterion_for(parse_expression(expr)[0], Vocabulary.from_meta("clf.pt2", meta), meta.get("num_classes"))
    if needle.startswith("unknown"):
        assert "#0" in str(err.value)  # lists the known names


# ---- group choice end to end, on a model and classifier whose answers are known ------------

class Brightness:
    """A Sampler whose sample is a 4 x 4 image: left half z_0 / 4, right half z_1 / 4."""

    data_shape, num_classes, sample_group, device = (1, 4, 4), None, None, torch.device("cpu")

    def noise(self, n, generator=None):
        return torch.randn(n, 3, generator=generator)

    def generate(self, z, labels=None):
        image = torch.zeros(len(z), 1, 4, 4)
        image[..., :2], image[..., 2:] = (z[:, 0] / 4)[:, None, None, None], (z[:, 1] / 4)[:, None, None, None]
        return image.clamp(-1, 1)


class HalvesClassifier(nn.Module):
    """logits: 10 x (left mean, right mean) -- a 'bright left' / 'bright right' attribute each."""

    def forward(self, x):
        halves = torch.stack([x[..., :2].mean((1, 2, 3)), x[..., 2:].mean((1, 2, 3))], 1)
        return halves, 10 * halves


def extractor(meta):
    return FeatureExtractor(HalvesClassifier(), "halves", "-", (1, 4, 4), takes_uint8=False, meta=meta)


def seen(z: torch.Tensor) -> np.ndarray:
    """What the classifier sees of z / 4 after uint8 rounding."""
    return np.round((np.clip(z.numpy() / 4, -1, 1) + 1) * 127.5) / 127.5 - 1


def test_named_groups_choose_the_right_indices():
    model = Brightness()
    z = torch.randn(1024, 3, generator=torch.Generator().manual_seed(5))[:200]  # fixed_noise of seed 5 (one chunk)
    meta = {"multilabel": True, "attribute_names": ["Left", "Right"]}
    result = run_arithmetic(model, "left & not right - 0,1 + not left", seed=5, search=200, per_group=3,
                            extractor=extractor(meta), noise_scale=0.0)
    left, right = seen(z[:, 0]), seen(z[:, 1])
    weakest = np.where((left > 0) & (right < 0), np.minimum(left, -right), -np.inf)
    expected = np.argsort(-weakest, kind="stable")[:3]
    assert result.indices[0].tolist() == expected.tolist()
    assert result.indices[1].tolist() == [0, 1] and result.scores[1] is None
    assert result.indices[2].tolist() == np.argsort(left, kind="stable")[:3].tolist()  # most negative left
    assert torch.equal(result.group_z[0], z[expected])
    expected_result = z[expected].mean(0) - z[:2].mean(0) + z[result.indices[2]].mean(0)
    assert torch.allclose(result.result, expected_result, atol=1e-6) and torch.equal(result.neighbours[4], result.result)
    # single-label: class = which half is brighter; "#1" = right brighter, most confident first
    single = run_arithmetic(model, "#1", seed=5, search=200, per_group=4, extractor=extractor({"num_classes": 2}))
    margin = np.where(right > left, right - left, -np.inf)
    assert single.indices[0].tolist() == np.argsort(-margin, kind="stable")[:4].tolist()


def test_batch_stats_decoding_fills_one_batch_with_the_seed_samples():
    class Grouped(Brightness):
        sample_group = 8
        calls = []

        def generate(self, z, labels=None):
            self.calls.append(len(z))
            return super().generate(z) - z[:, :1, None, None].mean()  # depends on the whole batch

    model = Grouped()
    vectors = torch.randn(5, 3)
    images, note = decode_together(model, vectors, None, seed=0)
    assert model.calls == [8] and images.shape == (5, 1, 4, 4) and "samples 0..2 of seed 0" in note
    batch = torch.cat([vectors, torch.randn(8, 3, generator=torch.Generator().manual_seed(0))[:3]])
    assert torch.allclose(images, Brightness().generate(batch)[:5] - batch[:, 0].mean())
    with pytest.raises(ArithmeticInputError, match="lower --per-group"):
        decode_together(model, torch.randn(9, 3), None, seed=0)
