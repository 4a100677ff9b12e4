"""lit_gan.data.contract: every shipped datamodule keeps it, on tiny fixtures in the real layouts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

import lit_gan.data
from lit_gan.data import (
    CelebADataModule,
    MNISTDataModule,
    PairedImageDataModule,
    Toy2DDataModule,
    UnpairedImageDataModule,
)
from lit_gan.data.contract import DataModule, Labelled, Mixture2D, Paired, Unpaired, labelled, problems, require_labels
from lit_gan.errors import UserError
from tests.conftest import write_tiny_mnist
from tests.data.test_celeba import write_torchvision_layout
from tests.data.test_paired import make_dataset as write_paired
from tests.data.test_unpaired import make_dataset as write_unpaired


def mnist(root: Path) -> MNISTDataModule:
    return MNISTDataModule(str(write_tiny_mnist(root / "mnist")), val_size=64, batch_size=8)


def fashion(root: Path) -> MNISTDataModule:
    return MNISTDataModule(str(write_tiny_mnist(root / "fashion")), variant="fashion", val_size=0, batch_size=8)


def celeba(root: Path) -> CelebADataModule:  # 10 images: 8 train, 1 val, 1 test by the partition file
    return CelebADataModule(str(write_torchvision_layout(root / "celeba", n=10)), image_size=16)


def paired(root: Path) -> PairedImageDataModule:
    write_paired(root / "paired")
    return PairedImageDataModule(str(root / "paired"), dataset="tiny", load_size=36, crop_size=32, seed=0)


def unpaired(root: Path) -> UnpairedImageDataModule:
    write_unpaired(root / "unpaired")
    return UnpairedImageDataModule(str(root / "unpaired"), dataset="tiny", load_size=20, crop_size=16, seed=0)


def toy(root: Path) -> Toy2DDataModule:
    return Toy2DDataModule("grid25", num_train=64, num_val=16, batch_size=8)


# every shipped datamodule, in each of its kinds; (factory, num_classes, extra protocols it keeps)
SHIPPED = {
    "mnist": (mnist, 10, (Labelled,)),
    "fashion": (fashion, 10, (Labelled,)),
    "celeba": (celeba, None, ()),
    "paired": (paired, None, (Paired,)),
    "unpaired": (unpaired, None, (Unpaired,)),
    "toy": (toy, None, (Mixture2D,)),
}
OPTIONAL = (Labelled, Paired, Unpaired, Mixture2D)


def test_every_shipped_datamodule_is_checked_here():
    checked = {factory.__annotations__["return"] for factory, _, _ in SHIPPED.values()}  # class names (PEP 563)
    assert checked == set(lit_gan.data.__all__)


@pytest.mark.parametrize("kind", sorted(SHIPPED))
def test_shipped_datamodules_keep_the_contract(tmp_path, kind):
    factory, num_classes, protocols = SHIPPED[kind]
    dm = factory(tmp_path)
    assert isinstance(dm, DataModule)
    assert labelled(dm) == num_classes
    for protocol in OPTIONAL:  # exactly the optional parts it declares
        assert isinstance(dm, protocol) == (protocol in protocols), protocol.__name__
    assert problems(dm) == []
    assert all(getattr(dm, f"{split}_set") is not None for split in ("train", "test"))


def test_unlabelled_data_for_a_conditional_model_is_one_line_naming_what_to_use(tmp_path):
    with pytest.raises(UserError) as exc:
        require_labels(CelebADataModule(str(tmp_path)), "ConditionalDCGAN")
    message = str(exc.value)
    assert message.startswith("ConditionalDCGAN needs labelled data: CelebADataModule has no num_classes. "
                              "Use MNISTDataModule (--data lit_gan.data.MNISTDataModule")
    assert "\n" not in message and "lit_gan.data.contract" in message
    with pytest.raises(UserError, match="CGAN needs labelled data: no datamodule was given"):
        require_labels(None, "CGAN")
    assert require_labels(MNISTDataModule(str(tmp_path)), "CGAN") == 10


class Unchecked(MNISTDataModule):
    """An MNIST whose num_classes and items can be broken from the outside."""

    def __init__(self, root: str, num_classes=10, scale: float = 1.0, **kwargs) -> None:
        super().__init__(root, **kwargs)
        self._num_classes, self.scale = num_classes, scale

    @property
    def num_classes(self):
        return self._num_classes

    def setup(self, stage=None) -> None:
        if isinstance(self.train_set, TensorDataset):  # broken already
            return
        super().setup(stage)
        x, y = self.train_set.images.float() / 127.5 - 1, self.train_set.labels
        self.train_set = TensorDataset(x * self.scale, y + 5)  # labels 5..14 for 10 classes


@pytest.mark.parametrize("bad", [0, -1, "10", True, 2.0])
def test_a_bad_num_classes_is_the_datamodule_authors_bug(tiny_mnist, bad):
    with pytest.raises(ValueError, match="num_classes must be a positive int or None"):
        labelled(Unchecked(str(tiny_mnist), num_classes=bad))


def test_problems_names_what_is_wrong(tiny_mnist):
    found = problems(Unchecked(str(tiny_mnist), scale=2.0, val_size=64))
    assert any("train_set[0]: image values span" in p and "expected [-1, 1]" in p for p in found), found
    found = problems(Unchecked(str(tiny_mnist), num_classes=11, val_size=64))
    assert any("num_classes=11 but class_names" in p for p in found), found
    found = problems(Unchecked(str(tiny_mnist), val_size=64))
    assert any("train_set[" in p and "is not an int in [0, 10)" in p for p in found), found
    assert not any("val_set" in p or "test_set" in p for p in found), found  # those are untouched MNIST


def test_toy_split_sets_appear_with_setup():
    dm = Toy2DDataModule("ring8", num_train=32, num_val=8, batch_size=8)
    assert dm.train_set is dm.val_set is dm.test_set is None
    dm.setup("fit")
    assert len(dm.train_set) == 32 and len(dm.val_set) == len(dm.test_set) == 8
    assert dm.train_set is dm.train_dataloader().dataset  # the loaders read the same datasets
    assert torch.equal(dm.val_set.tensors[0], next(iter(dm.val_dataloader()))[0])
