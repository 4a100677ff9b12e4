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
        split_set = translation_sets(dm, "test", direction)
        source, field, real = split_set.inputs, split_set.field, split_set.real
        target = dm.domain_set("test", target_domain)
        assert len(source) == len(dm.domain_set("test", source_domain)) and real.shape == (len(target), 3, 32, 32)
        assert torch.equal(real[0], to_uint8(target[0][0]))
        fakes = torch.cat(list(translated_batches(Negate(), source, field, direction, 4)(range(len(source)))))
        assert torch.equal(fakes[0], to_uint8(-source[0][field]))


def test_paired_uses_inputs_and_targets_and_checks_the_direction(tmp_path):
    root = write_inverted_pairs(tmp_path, counts=(("train", 2), ("val", 1), ("test", 3)))
    dm = PairedImageDataModule(root=str(root), direction="AtoB", load_size=36, crop_size=32)
    dm.setup("test")
    split_set = translation_sets(dm, "test", "AtoB")
    field, real = split_set.field, split_set.real
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
    inputs = translation_sets(paired, "test", "AtoB").inputs
    labels, classes = translation_labels(paired, inputs, "AtoB")
    assert labels.tolist() == TEST_LABELS and classes == 10
    unpaired = UnpairedImageDataModule(str(tmp_path), dataset="sneaker2boot", load_size=32, crop_size=32,
                                       also_look_in=[str(source)])
    unpaired.prepare_data()
    unpaired.setup("test")
    for direction, target_class in (("AtoB", 9), ("BtoA", 7)):
        inputs = translation_sets(unpaired, "test", direction).inputs
        labels, classes = translation_labels(unpaired, inputs, direction)
        assert labels.tolist() == [target_class] * 2 and classes == 10
        translations = TranslationSource(_Translator(), unpaired, "test", direction)
        assert translations.label_classes == 10 and translations.labels(range(1, 2)).tolist() == [target_class]
        assert translations.card()["labels"]["num_classes"] == 10
    facades = PairedImageDataModule(root=str(write_inverted_pairs(tmp_path / "f", counts=(("train", 1), ("test", 2)))),
                                    direction="AtoB", load_size=36, crop_size=32)
    facades.setup("test")
    assert translation_labels(facades, translation_sets(facades, "test", "AtoB").inputs, "AtoB") is None


class _Translator(Negate):
    """Enough of a Translator for TranslationSource."""

    directions = ("AtoB", "BtoA")
    default_direction = "AtoB"
    data_shape = (3, 32, 32)


def _count_reads(monkeypatch, cls) -> list[int]:
    reads = [0]
    original = cls.__getitem__

    def counted(self, index):
        reads[0] += 1
        return original(self, index)

    monkeypatch.setattr(cls, "__getitem__", counted)
    return reads


@pytest.mark.parametrize("paired", [True, False])
def test_an_evaluation_decodes_each_item_of_the_split_once(tmp_path, monkeypatch, paired):
    """The real targets and the translation pass (with each input's partner, as `paired` reads
    them) come from one read of the split; the translations are those of the items as read."""
    from lit_gan.data.unpaired import ImageFolderDataset
    from lit_gan.data.paired import PairedImageDataset
    from lit_gan.evaluation.sources import TranslationSource

    if paired:
        dm = PairedImageDataModule(root=str(write_inverted_pairs(tmp_path, counts=(("train", 1), ("test", 5)))),
                                   direction="AtoB", load_size=36, crop_size=32)
        dm.setup("test")
        reads, n = _count_reads(monkeypatch, PairedImageDataset), len(dm.test_set)
        expected_inputs = [dm.test_set[i][1] for i in range(n)]
    else:
        dm = UnpairedImageDataModule(root=str(write_unpaired(tmp_path)), dataset="tiny", load_size=36, crop_size=32)
        reads = _count_reads(monkeypatch, ImageFolderDataset)
        n = len(dm.domain_set("test", "A")) + len(dm.domain_set("test", "B"))
        expected_inputs = [dm.domain_set("test", "A")[i][0] for i in range(len(dm.domain_set("test", "A")))]
    reads[0] = 0
    source = TranslationSource(_Translator(), dm, "test", "AtoB")
    items = list(source.translated(range(source.num), 2, partners=True))
    assert reads[0] <= n + 1  # + the first item, read to size the split (each item twice before)
    assert torch.equal(torch.cat([i.translations for i in items]), -torch.stack(expected_inputs))
    assert torch.equal(to_uint8(torch.cat([i.partners for i in items]))[: len(source.targets)], source.targets)


def test_a_split_too_large_to_keep_is_read_again_with_the_same_result(tmp_path, monkeypatch):
    from lit_gan.evaluation import translation

    dm = PairedImageDataModule(root=str(write_inverted_pairs(tmp_path, counts=(("train", 1), ("test", 3)))),
                               direction="AtoB", load_size=36, crop_size=32)
    dm.setup("test")
    kept = translation.translation_sets(dm, "test", "AtoB")
    monkeypatch.setattr(translation, "KEEP_BYTES", 0)
    streamed = translation.translation_sets(dm, "test", "AtoB")
    assert streamed.inputs is dm.test_set and kept.inputs is not dm.test_set
    assert torch.equal(kept.real, streamed.real)
    for i in range(3):
        assert torch.equal(kept.inputs[i][1], streamed.inputs[i][1]) and kept.inputs.names[i] == dm.test_set.names[i]
