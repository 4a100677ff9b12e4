"""Saved feature extractors: both formats round-trip; bad files give clear errors."""

from __future__ import annotations

import pytest
import torch

from lit_gan.metrics.extractors import load_extractor
from lit_gan.metrics.feature_module import FeatureModuleError, load_feature_module, save_feature_module
from tests.metrics.helpers import TinyClassifier


@pytest.mark.parametrize("suffix", [".pt2", ".pt"])
@pytest.mark.filterwarnings("ignore::FutureWarning")  # TorchScript is deprecated in torch 2.9+, still loadable
def test_round_trip_keeps_outputs_and_metadata(tmp_path, suffix):
    module = TinyClassifier().eval()
    path = save_feature_module(module, tmp_path / f"f{suffix}", torch.randn(3, 1, 28, 28), {"num_classes": 10})
    loaded, meta = load_feature_module(path)
    x = torch.rand(5, 1, 28, 28) * 2 - 1  # another batch size than the example: the batch stays dynamic
    for a, b in zip(loaded(x), module(x)):
        torch.testing.assert_close(a, b)
    assert meta == {"num_classes": 10, "input_shape": [1, 28, 28]}


def test_extractor_converts_uint8_and_resizes(tmp_path):
    path = save_feature_module(TinyClassifier(), tmp_path / "f.pt2", torch.randn(2, 1, 28, 28))
    extractor = load_extractor(str(path))
    images = torch.randint(0, 256, (3, 1, 32, 32), dtype=torch.uint8)
    features = extractor(images)
    assert features.pool.shape == (3, 16) and features.logits.shape == (3, 10)
    assert features.pool.dtype == torch.float64
    assert extractor.resize_note((1, 32, 32)) == "32x32 -> 28x28, bilinear"
    assert extractor.resize_note((1, 28, 28)) == "none"
    with pytest.raises(TypeError, match="uint8"):
        extractor(images.float())
    # gray images stored as RGB (the translation datasets) are read back as the gray image they hold
    rgb = images.expand(-1, 3, -1, -1)
    torch.testing.assert_close(extractor(rgb).logits, features.logits)
    colour = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8)
    luma = (0.299 * colour[:, 0:1].double() + 0.587 * colour[:, 1:2] + 0.114 * colour[:, 2:3]).round().to(torch.uint8)
    torch.testing.assert_close(extractor(colour).logits, extractor(luma).logits, atol=0.05, rtol=0)
    assert extractor.resize_note((3, 32, 32)) == "32x32 -> 28x28, bilinear; RGB -> gray, BT.601 luma"
    with pytest.raises(ValueError, match="1-channel"):
        extractor(torch.zeros(2, 2, 28, 28, dtype=torch.uint8))


def test_bad_files_are_reported(tmp_path):
    with pytest.raises(FeatureModuleError, match=r"TorchScript file \(.pt\) or a torch.export archive"):
        load_feature_module(tmp_path / "f.onnx")
    with pytest.raises(FeatureModuleError, match="not found.*train-classifier"):
        load_feature_module(tmp_path / "missing.pt2")
    (tmp_path / "junk.pt2").write_bytes(b"not a zip")
    with pytest.raises(FeatureModuleError, match="not a readable torch.export file"):
        load_feature_module(tmp_path / "junk.pt2")
    with pytest.raises(ValueError, match="at least 2"):
        save_feature_module(TinyClassifier(), tmp_path / "one.pt2", torch.randn(1, 1, 28, 28))
