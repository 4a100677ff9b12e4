"""`python -m lit_gan prepare` end to end on tiny MNIST-format fixtures."""

from __future__ import annotations

import pytest

from lit_gan.__main__ import main as lit_gan_main
from lit_gan.commands.prepare import main
from tests.data.test_derived import write_source


def test_builds_then_finds_it_cached(tmp_path, capsys):
    source, root = write_source(tmp_path / "source"), tmp_path / "data"
    args = ["edges2fashion", "--root", str(root), "--also-look-in", str(tmp_path / "empty"), str(source)]
    assert main([*args, "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == f"edges2fashion: 18 images in {root / 'edges2fashion'} (built)\n"
    assert len(list((root / "edges2fashion" / "train").iterdir())) == 12
    assert main(args) == 0
    assert capsys.readouterr().err == f"edges2fashion: 18 images in {root / 'edges2fashion'} (cached)\n"


def test_through_python_m_lit_gan(tmp_path, capsys):
    source = write_source(tmp_path / "source")
    with pytest.raises(SystemExit) as stop:
        lit_gan_main(["prepare", "fashion_mnist_7to9", "--root", str(tmp_path), "--also-look-in", str(source),
                      "--no-progress"])
    assert stop.value.code == 0
    assert capsys.readouterr().err.endswith("fashion_mnist_7to9: 12 images in "
                                            f"{tmp_path / 'fashion_mnist_7to9'} (built)\n")


def test_list_prints_names_and_the_pattern(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in ("edges2fashion", "edges2fashion64", "edges2mnist", "sneaker2boot", "tshirt2shirt",
                 "fashion_mnist_<a>to<b>", "mnist_<a>to<b>"):
        assert name in out
    assert "7 Sneaker" in out and "9 Ankle boot" in out


@pytest.mark.parametrize("name, words", [
    ("edges2cats", "unknown derived dataset 'edges2cats'"),
    ("fashion_mnist_3to11", "class 11 is out of range"),
    ("mnist_4to4", "same class (4)"),
])
def test_bad_names_exit_2_with_one_line(tmp_path, capsys, name, words):
    source = write_source(tmp_path / "source")
    assert main([name, "--root", str(tmp_path / "data"), "--also-look-in", str(source)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and err.count("\n") == 1
    assert not (tmp_path / "data").exists()


def test_missing_source_exits_2_and_leaves_no_folder(tmp_path, capsys):
    assert main(["sneaker2boot", "--root", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: sneaker2boot is made from Fashion-MNIST")
    assert "apt-get install dataset-fashion-mnist" in err and str(tmp_path / "data" / "FashionMNIST" / "raw") in err
    assert not (tmp_path / "data" / "sneaker2boot").exists()


def test_no_name_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main([])
    assert stop.value.code == 2 and "--list" in capsys.readouterr().err
