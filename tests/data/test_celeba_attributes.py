"""CelebA attribute labels: both file formats, the datamodule's multi-hot labels, each error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lit_gan.data import CelebADataModule
from lit_gan.data.celeba_attributes import (CELEBA_ATTRIBUTES, attribute_labels, check_attributes,
                                            find_attribute_file, read_attribute_file)
from lit_gan.data.contract import problems
from tests.data.celeba_fixtures import (kaggle_attribute_csv, official_attribute_text, value,
                                        write_celeba_with_attributes)

WANTED = ["Eyeglasses", "Male", "Smiling"]
COLUMNS = [CELEBA_ATTRIBUTES.index(a) for a in WANTED]


def expected(i: int) -> list[float]:
    return [1.0 if value(i, j) > 0 else 0.0 for j in COLUMNS]


def test_forty_official_names():
    assert len(CELEBA_ATTRIBUTES) == len(set(CELEBA_ATTRIBUTES)) == 40
    assert CELEBA_ATTRIBUTES[0] == "5_o_Clock_Shadow" and CELEBA_ATTRIBUTES[-1] == "Young"


@pytest.mark.parametrize("name, text", [("list_attr_celeba.txt", official_attribute_text([1, 2, 3])),
                                        ("list_attr_celeba.csv", kaggle_attribute_csv([1, 2, 3]))])
def test_both_formats_parse_to_the_same_table(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    table = read_attribute_file(find_attribute_file(tmp_path))
    assert table.names == CELEBA_ATTRIBUTES
    assert table.images.tolist() == ["000001.jpg", "000002.jpg", "000003.jpg"]
    assert table.values.dtype == np.int8 and table.values.shape == (3, 40)
    assert table.values.tolist() == [[value(i, j) for j in range(40)] for i in (1, 2, 3)]
    labels = attribute_labels(table, np.array(["000003.jpg", "000001.jpg"]), WANTED)
    assert labels.dtype == np.float32 and labels.tolist() == [expected(3), expected(1)]


def test_official_text_layout_is_exact():
    text = official_attribute_text([1])
    lines = text.splitlines()
    assert lines[0] == "1" and lines[1].startswith("5_o_Clock_Shadow Arched_Eyebrows")
    assert lines[2].startswith("000001.jpg ") and "  1" in lines[2] and "-1" in lines[2]


@pytest.mark.parametrize("layout", ["torchvision", "kaggle"])
def test_datamodule_labels_are_multi_hot_floats(tmp_path, layout):
    write_celeba_with_attributes(tmp_path / "data", layout=layout)
    dm = CelebADataModule(root=str(tmp_path / "data"), image_size=16, crop=None, batch_size=4, attributes=WANTED)
    assert dm.attribute_names == tuple(WANTED) and dm.multilabel
    assert not hasattr(dm, "num_classes")  # not K-class data: conditional GANs still refuse it
    dm.setup("fit")
    assert (len(dm.train_set), len(dm.val_set), len(dm.test_set)) == (16, 2, 2)
    assert [str(n) for n in dm.test_set.names] == ["000010.jpg", "000020.jpg"]
    x, y = dm.test_set[1]
    assert x.shape == (3, 16, 16) and x.dtype == torch.float32
    assert y.dtype == torch.float32 and y.tolist() == expected(20)
    batch_x, batch_y = next(iter(dm.val_dataloader()))
    assert batch_x.shape == (2, 3, 16, 16) and batch_y.shape == (2, 3)
    assert batch_y.tolist() == [expected(5), expected(15)]
    assert problems(CelebADataModule(root=str(tmp_path / "data"), image_size=16, crop=None, attributes=WANTED)) == []


def test_prepared_arrays_carry_the_same_labels(tmp_path):
    write_celeba_with_attributes(tmp_path / "data")
    kwargs = dict(root=str(tmp_path / "data"), image_size=16, crop=None, attributes=WANTED, prepare_workers=0)
    plain, prepared = CelebADataModule(**kwargs), CelebADataModule(prepared=True, **kwargs)
    plain.setup()
    prepared.setup()
    for i in range(len(plain.train_set)):
        x0, y0 = plain.train_set[i]
        x1, y1 = prepared.train_set[i]
        assert torch.equal(x0, x1) and torch.equal(y0, y1)


def test_without_attributes_nothing_changes(tmp_path):
    write_celeba_with_attributes(tmp_path / "data")
    dm = CelebADataModule(root=str(tmp_path / "data"), image_size=16, crop=None)
    assert dm.attribute_names is None and not dm.multilabel
    assert "attributes" in dm.hparams and dm.hparams["attributes"] is None
    dm.setup()
    x, y = dm.train_set[0]
    assert y == 0 and type(dm.train_set).__name__ == "FaceFolderDataset"


def test_missing_attribute_file_says_which_files_and_where_to_get_them(tmp_path):
    meta = write_celeba_with_attributes(tmp_path / "data")
    (meta / "list_attr_celeba.txt").unlink()
    dm = CelebADataModule(root=str(tmp_path / "data"), image_size=16, crop=None, attributes=WANTED)
    with pytest.raises(FileNotFoundError) as err:
        dm.setup()
    message = str(err.value)
    assert "list_attr_celeba.txt" in message and "list_attr_celeba.csv" in message and str(meta) in message
    assert "kaggle.com" in message and "mmlab.ie.cuhk.edu.hk" in message and "\n" not in message
    # without attributes the same folder is fine
    CelebADataModule(root=str(tmp_path / "data"), image_size=16, crop=None).setup()


@pytest.mark.parametrize("attributes, needle", [
    (["Eyeglasses", "Glasses"], "unknown CelebA attribute 'Glasses'"),
    (["eyeglasses"], "did you mean 'Eyeglasses'"),
    (["Male", "Male"], "Male more than once"),
    ([], "attributes is empty"),
])
def test_bad_attribute_names_are_refused_at_construction(attributes, needle):
    with pytest.raises(ValueError, match=needle) as err:
        CelebADataModule(root="nowhere", attributes=attributes)
    assert "\n" not in str(err.value)
    if "unknown" in needle:
        assert "5_o_Clock_Shadow" in str(err.value) and "Young" in str(err.value)  # lists the 40


def test_check_attributes_keeps_order():
    assert check_attributes(["Smiling", "Male"]) == ("Smiling", "Male")


def test_image_without_a_row_is_an_error(tmp_path):
    meta = write_celeba_with_attributes(tmp_path / "data")
    (meta / "list_attr_celeba.txt").write_text(official_attribute_text([i for i in range(1, 21) if i != 7]))
    dm = CelebADataModule(root=str(tmp_path / "data"), image_size=16, crop=None, attributes=WANTED)
    with pytest.raises(ValueError, match=r"1 of 20 images have no row in .*list_attr_celeba.txt \(first: 000007.jpg\)"):
        dm.setup()


def with_row_2_value(text: str, replacement: str) -> str:
    lines = text.splitlines()
    lines[3] = lines[3].rsplit(" ", 1)[0] + " " + replacement  # image 2's last value (line 4)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, needle", [
    (official_attribute_text([1, 2, 3], count=5), "says it lists 5 images but holds 3 rows"),
    (with_row_2_value(official_attribute_text([1, 2]), "0"), "line 4: values must be 1 (present) or -1"),
    (with_row_2_value(official_attribute_text([1, 2]), "yes"), "line 4: values must be 1 (present) or -1"),
    (official_attribute_text([1, 2]) + "000003.jpg 1 -1\n", "line 5: expected an image name and 40 values"),
    ("000001.jpg 1 -1\n", "is not a CelebA attribute file"),
], ids=["count", "zero", "word", "short-row", "no-header"])
def test_damaged_attribute_file_names_the_problem(tmp_path, text, needle):
    (tmp_path / "list_attr_celeba.txt").write_text(text)
    with pytest.raises(ValueError) as err:
        read_attribute_file(tmp_path / "list_attr_celeba.txt")
    assert needle in str(err.value)


def test_a_file_without_an_asked_column(tmp_path):
    (tmp_path / "list_attr_celeba.csv").write_text("image_id,Male\n000001.jpg,1\n000002.jpg,-1\n")
    table = read_attribute_file(tmp_path / "list_attr_celeba.csv")
    assert attribute_labels(table, np.array(["000002.jpg", "000001.jpg"]), ["Male"]).tolist() == [[0.0], [1.0]]
    with pytest.raises(ValueError, match="has no column Eyeglasses; its columns are: Male"):
        attribute_labels(table, np.array(["000001.jpg"]), ["Eyeglasses", "Male"])
