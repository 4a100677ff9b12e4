"""Image-to-image evaluation sets: inputs of one domain, real images of the other."""

from __future__ import annotations

import pytest
import torch

from lit_gan.data.paired import PairedImageDataModule
from lit_gan.data.unpaired import UnpairedImageDataModule
from lit_gan.metrics.conversion import to_uint8
from lit_gan.evaluation.translation import translated_batches, translation_sets
from tests.models.translation_fixtures import write_inverted_pairs, write_unpaired


class Negate:
    def translate(self, x, direction):
        return -x


def test_unpaired_directions_pick_the_domains(tmp_path):
    dm = UnpairedImageDataModule(root=str(write_unpaired(tmp_path)), dataset="tiny", load_size=36, crop_size=32)
    for direction, source_domain, target_domain in (("AtoB", "A", "B"), ("BtoA", "B", "A")):
        source, field, real = translation_sets(dm, "test", direction)
        target = dm.domain_set("test", target_domain)
        assert len(source) == len(dm.domain_set("test", source_domain)) and real.shape == (len(target), 3, 32, 32)
        assert torch.equal(real[0], to_uint8(target[0][0]))
        fakes = torch.cat(list(translated_batches(Negate(), source, field, direction, 4)(range(len(source)))))
        assert torch.equal(fakes[0], to_uint8(-source[0][field]))


def test_paired_uses_inputs_and_targets_and_checks_the_direction(tmp_path):
    root = write_inverted_pairs(tmp_path, counts=(("train", 2), ("val", 1), ("test", 3)))
    dm = PairedImageDataModule(root=str(root), direction="AtoB", load_size=36, crop_size=32)
    dm.setup("test")
    source, field, real = translation_sets(dm, "test", "AtoB")
    assert field == 1 and torch.equal(real[1], to_uint8(dm.test_set[1][0]))
    with pytest.raises(ValueError, match="--direction AtoB"):
        translation_sets(dm, "test", "BtoA")
