"""Image-to-image evaluation sets: inputs of one domain, real images of the other."""

from __future__ import annotations

import pytest
import torch

from lit_gan.conversion import to_uint8
from lit_gan.data.paired import PairedImageDataModule
from lit_gan.data.unpaired import UnpairedImageDataModule
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


def test_derived_datasets_give_each_translation_its_target_class(tmp_path):
    """edges2fashion: the class of the item the edges were drawn from; sneaker2boot: class B
    (ankle boot, 9) for A -> B and class A (sneaker, 7) for B -> A. facades: no classes."""
    from lit_gan.evaluation.sources import TranslationSource
    from lit_gan.evaluation.translation import translation_labels
    from tests.data.test_derived import TEST_LABELS, write_source

    source = write_source(tmp_path / "source")
    paired = PairedImageDataModule(str(tmp_path), dataset="edges2fashion", direction="AtoB", load_size=32,
                                   crop_size=32, also_look_in=[str(source)])
    paired.prepare_data()
    paired.setup("test")
    inputs, _, _ = translation_sets(paired, "test", "AtoB")
    labels, classes = translation_labels(paired, inputs, "AtoB")
    assert labels.tolist() == TEST_LABELS and classes == 10
    unpaired = UnpairedImageDataModule(str(tmp_path), dataset="sneaker2boot", load_size=32, crop_size=32,
                                       also_look_in=[str(source)])
    unpaired.prepare_data()
    unpaired.setup("test")
    for direction, target_class in (("AtoB", 9), ("BtoA", 7)):
        inputs, _, _ = translation_sets(unpaired, "test", direction)
        labels, classes = translation_labels(unpaired, inputs, direction)
        assert labels.tolist() == [target_class] * 2 and classes == 10
        translations = TranslationSource(_Translator(), unpaired, "test", direction)
        assert translations.label_classes == 10 and translations.labels(range(1, 2)).tolist() == [target_class]
        assert translations.card()["labels"]["num_classes"] == 10
    facades = PairedImageDataModule(root=str(write_inverted_pairs(tmp_path / "f", counts=(("train", 1), ("test", 2)))),
                                    direction="AtoB", load_size=36, crop_size=32)
    facades.setup("test")
    assert translation_labels(facades, translation_sets(facades, "test", "AtoB")[0], "AtoB") is None


class _Translator(Negate):
    """Enough of a Translator for TranslationSource."""

    directions = ("AtoB", "BtoA")
    default_direction = "AtoB"
    data_shape = (3, 32, 32)
