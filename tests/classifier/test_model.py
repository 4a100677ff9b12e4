"""ImageClassifier: shapes, one optimizer step, the extractor it saves."""

from __future__ import annotations

import pytest
import torch

from lit_gan.classifier import FeatureHead, ImageClassifier
from lit_gan.metrics.feature_module import load_feature_module, save_feature_module


def one_step_changes_every_parameter(model, x, y) -> None:
    """One optimizer step on (x, y): a finite scalar loss, and every parameter took part in it."""
    opt = model.configure_optimizers()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    loss = model.training_step((x, y), 0)
    assert loss.ndim == 0 and torch.isfinite(loss)
    opt.zero_grad()
    loss.backward()
    opt.step()
    changed = [n for n, p in model.named_parameters() if not torch.equal(p, before[n])]
    assert set(changed) == set(before)


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 32, 32), (3, 32, 32), (3, 64, 64)])
def test_logits_and_feature_shapes(shape):
    model = ImageClassifier(data_shape=shape, num_classes=7, width=4, feature_dim=16).eval()
    x = torch.rand(5, *shape) * 2 - 1
    assert model(x).shape == (5, 7)
    features, logits = model.extractor()(x)
    assert features.shape == (5, 16) and logits.shape == (5, 7)
    assert (features >= 0).all()  # post-ReLU


def test_one_training_step_changes_every_parameter():
    torch.manual_seed(0)
    model = ImageClassifier(width=4, feature_dim=8, lr_schedule="constant")
    one_step_changes_every_parameter(model, torch.rand(8, 1, 28, 28) * 2 - 1, torch.randint(0, 10, (8,)))


def test_training_reduces_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = ImageClassifier(width=4, feature_dim=8, dropout=0.0, lr=1e-2, lr_schedule="constant")
    opt = model.configure_optimizers()
    x, y = torch.rand(32, 1, 28, 28) * 2 - 1, torch.arange(32) % 10
    losses = []
    for _ in range(20):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_extractor_is_an_eval_copy_that_matches_the_eval_model():
    torch.manual_seed(0)
    model = ImageClassifier(width=4, feature_dim=8, dropout=0.5)
    model.train()
    # make BatchNorm's running statistics differ from batch statistics
    model(torch.rand(16, 1, 28, 28) * 2 - 1)
    extractor = model.extractor()
    assert isinstance(extractor, FeatureHead)
    assert not extractor.training and all(not m.training for m in extractor.modules())
    assert model.training  # the model itself is untouched
    assert all(not p.requires_grad for p in extractor.parameters())
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    f1, l1 = extractor(x)
    f2, l2 = extractor(x)
    assert torch.equal(f1, f2) and torch.equal(l1, l2)  # no dropout, no batch statistics
    f_one, _ = extractor(x[:1])
    torch.testing.assert_close(f_one, f1[:1], rtol=1e-5, atol=1e-5)  # no cross-sample dependence
    with torch.no_grad():
        torch.testing.assert_close(l1, model.eval()(x))
    extractor.body[0].weight.add_(1.0)  # a copy: changing it leaves the model alone
    assert not torch.equal(extractor.body[0].weight, model.body[0].weight)


def test_augment_shift_moves_images_within_bounds():
    model = ImageClassifier(augment_shift=2)
    x = torch.full((4, 1, 28, 28), -1.0)
    x[:, :, 10:18, 10:18] = 1.0
    torch.manual_seed(0)
    shifted = model._shift(x)
    assert shifted.shape == x.shape
    assert not torch.equal(shifted, x)
    moved = [(s[0] > 0).nonzero().min(0).values.tolist() for s in shifted]  # top-left corner of each square
    assert all(abs(r - 10) <= 2 and abs(c - 10) <= 2 for r, c in moved) and len(set(map(tuple, moved))) > 1
    assert torch.equal(shifted.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))  # the square stays whole
    torch.manual_seed(0)
    assert torch.equal(model._shift(x), shifted)  # seeded: the same shifts
    assert torch.equal(ImageClassifier(augment_shift=0)._shift(x), x)


@pytest.mark.parametrize("suffix", [".pt", ".pt2"])
def test_extractor_saves_and_loads_with_the_same_outputs(tmp_path, suffix):
    torch.manual_seed(0)
    model = ImageClassifier(width=4, feature_dim=8, num_classes=3, class_names=["a", "b", "c"])
    extractor = model.extractor()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    path = save_feature_module(extractor, tmp_path / f"clf{suffix}", x[:2], {"num_classes": 3})
    loaded, meta = load_feature_module(path)
    features, logits = loaded(x)  # a batch size other than the example's
    expected_features, expected_logits = extractor(x)
    torch.testing.assert_close(features, expected_features)
    torch.testing.assert_close(logits, expected_logits)
    assert meta == {"num_classes": 3, "input_shape": [1, 28, 28]}


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"data_shape": (28, 28)}, "(C, H, W)"),
        ({"data_shape": (1, 2, 2)}, "too small"),
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 3, "class_names": ["a", "b"]}, "2 class_names"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, needle):
    with pytest.raises(ValueError) as exc:
        ImageClassifier(**kwargs)
    assert needle in str(exc.value)


# ---- multi-label mode (CelebA attributes) ------------------------------------------------

ATTRS = ["Eyeglasses", "Male", "Smiling"]


def multilabel_model(**kwargs) -> ImageClassifier:
    return ImageClassifier(data_shape=(3, 16, 16), multilabel=True, attribute_names=ATTRS, width=4, feature_dim=8,
                           **kwargs)


def test_multilabel_has_one_logit_per_attribute_and_no_classes():
    model = multilabel_model().eval()
    assert model.multilabel and model.attribute_names == tuple(ATTRS)
    assert model.num_classes is None and model.class_names is None
    assert "num_classes" not in model.hparams and "class_names" not in model.hparams  # nothing reads 10 classes
    assert model.hparams["multilabel"] is True and list(model.hparams["attribute_names"]) == ATTRS
    x = torch.rand(5, 3, 16, 16) * 2 - 1
    features, logits = model.extractor()(x)
    assert features.shape == (5, 8) and logits.shape == (5, 3) and model(x).shape == (5, 3)


def test_multilabel_step_uses_binary_cross_entropy_and_changes_every_parameter():
    torch.manual_seed(0)
    model = multilabel_model(lr_schedule="constant", dropout=0.0)
    one_step_changes_every_parameter(model, torch.rand(8, 3, 16, 16) * 2 - 1, (torch.rand(8, 3) > 0.5).float())
    assert model.train_acc.update_count == 1  # per-attribute accuracy accumulates for the epoch end


def test_multilabel_loss_is_mean_binary_cross_entropy():
    model = multilabel_model()
    logits = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 0.0, 1.0]])
    y = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    p = torch.sigmoid(logits)
    expected = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    torch.testing.assert_close(model._loss(logits, y), expected)


def test_multilabel_accuracy_per_attribute_and_mean():
    model = multilabel_model()
    logged = {}
    model.log = lambda key, value, **kw: logged.__setitem__(key, float(value))  # no trainer here
    logits = torch.tensor([[1.0, -1.0, 2.0], [-1.0, -1.0, 1.0], [1.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])
    y = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    model.val_acc.update(logits, y)
    model.on_validation_epoch_end()
    # present when logit > 0: Eyeglasses 3/4 right, Male 3/4, Smiling 2/4
    assert logged == {"val/acc": pytest.approx(8 / 12), "val/acc_Eyeglasses": 0.75, "val/acc_Male": 0.75,
                      "val/acc_Smiling": 0.5}
    assert model.val_acc.update_count == 0  # reset for the next epoch


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"multilabel": True}, "multilabel needs attribute_names"),
        ({"multilabel": True, "attribute_names": ["Male", "Male"]}, "each named once"),
        ({"attribute_names": ["Male"]}, "set multilabel=True"),
        ({"num_classes": None}, "num_classes must be >= 2"),
    ],
)
def test_bad_multilabel_arguments_say_what_is_wrong(kwargs, needle):
    with pytest.raises(ValueError) as exc:
        ImageClassifier(**kwargs)
    assert needle in str(exc.value)
