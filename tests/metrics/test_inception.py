"""Inception: offline without weights -> a clear error; with a weights file -> features."""

from __future__ import annotations

from unittest import mock

import pytest
import torch
from torch import nn

from lit_gan.metrics import inception
from lit_gan.metrics.extractors import load_extractor
from lit_gan.metrics.inception import WEIGHTS_FILE, InceptionWeightsMissing, find_inception_weights


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty torch hub and a download URL that refuses at once (no network here anyway)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(inception.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setattr(inception, "WEIGHTS_URL", "http://127.0.0.1:9/" + WEIGHTS_FILE)
    return tmp_path / "torch" / "hub" / "checkpoints" / WEIGHTS_FILE


def test_offline_without_weights_names_file_url_and_place(offline):
    with pytest.raises(InceptionWeightsMissing) as err:
        find_inception_weights()
    message = str(err.value)
    assert WEIGHTS_FILE in message and "http://127.0.0.1:9/" in message and str(offline) in message
    assert "train-classifier" in message  # the way around it
    assert not offline.exists()


def test_a_given_path_that_does_not_exist_is_reported(tmp_path):
    with pytest.raises(InceptionWeightsMissing, match="does-not-exist.pth does not exist"):
        find_inception_weights(tmp_path / "does-not-exist.pth")


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    """A weights file with Inception's keys and random values (the real one cannot be fetched here)."""
    from torchmetrics.image.fid import NoTrainInceptionV3

    with mock.patch.object(nn.Module, "load_state_dict", lambda self, *a, **k: None), \
            mock.patch("torch_fidelity.feature_extractor_inceptionv3.torch.load", lambda *a, **k: {}):
        net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"], feature_extractor_weights_path="-")
    path = tmp_path_factory.mktemp("inception") / WEIGHTS_FILE
    torch.save(net.state_dict(), path)
    return path


def test_weights_in_the_hub_folder_are_found(offline, random_weights):
    offline.parent.mkdir(parents=True)
    offline.symlink_to(random_weights)
    assert find_inception_weights() == offline


def test_the_environment_variable_names_the_file(offline, random_weights, monkeypatch):
    monkeypatch.setenv(inception.WEIGHTS_ENV, str(random_weights))
    assert find_inception_weights() == random_weights
    monkeypatch.setenv(inception.WEIGHTS_ENV, str(offline.parent / "elsewhere.pth"))
    with pytest.raises(InceptionWeightsMissing, match="elsewhere.pth does not exist"):
        find_inception_weights()


def test_inception_extractor_gives_pool_features_and_logits(random_weights):
    extractor = load_extractor("inception", inception_weights=str(random_weights))
    grey = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    features = extractor(grey)  # grey is repeated to 3 channels, resized to 299 TF-style
    assert features.pool.shape == (2, 2048) and features.logits.shape == (2, 1008)
    assert torch.allclose(extractor(grey.expand(-1, 3, -1, -1).contiguous()).pool, features.pool)
    assert "antialias=False" in extractor.resize_note((1, 28, 28))
    assert extractor.card()["sha256"] == inception.sha256_of(random_weights)
