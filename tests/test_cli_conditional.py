"""The CLI links the datamodule's num_classes into class-conditional models, and only into them."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
import yaml
from lightning.pytorch.cli import instantiate_module

from lit_gan.__main__ import main as entry
from lit_gan.cli import GANCLI
from lit_gan.errors import UserError
from lit_gan.models.gan import GAN


class TinyConditionalGAN(GAN):
    """The smallest class-conditional model the CLI can meet: a GAN with a required num_classes."""

    def __init__(self, num_classes: int, data_shape: Sequence[int] = (1, 28, 28), latent_dim: int = 4) -> None:
        super().__init__(data_shape=data_shape, latent_dim=latent_dim, generator="mlp", discriminator="mlp",
                         generator_options={"hidden": [8]}, discriminator_options={"hidden": [8]})
        if not isinstance(num_classes, int):
            raise TypeError(f"num_classes={num_classes!r} reached the model")
        self.num_classes = num_classes


TINY = f"{TinyConditionalGAN.__module__}.{TinyConditionalGAN.__qualname__}"


@pytest.fixture(autouse=True)
def no_pytest_argv(monkeypatch):
    """LightningCLI warns when it sees both pytest's sys.argv and `args`."""
    monkeypatch.setattr(sys, "argv", ["lit_gan"])


def mnist_args(root: Path, model: str) -> list[str]:
    return ["--data", "lit_gan.data.MNISTDataModule", "--data.init_args.root", str(root),
            "--data.init_args.val_size", "64", "--model", model, "--trainer.logger", "false"]


def reloads(model) -> bool:
    """What load_from_checkpoint does with the hparams LightningCLI recorded (the saved ones)."""
    hparams = dict(model.hparams)
    hparams.pop("_instantiator", None)
    return isinstance(instantiate_module(type(model), hparams), type(model))


@pytest.mark.parametrize("given", [[], ["--model.init_args.num_classes", "10"]])
def test_num_classes_is_linked_into_a_conditional_model(tmp_path, tiny_mnist, given):
    cli = GANCLI(args=[*mnist_args(tiny_mnist, TINY), *given], run=False)
    assert cli.datamodule.num_classes == 10
    assert cli.model.num_classes == 10 and cli.model.hparams["num_classes"] == 10
    assert reloads(cli.model)


def test_an_unconditional_model_gets_no_num_classes(tmp_path, tiny_mnist):
    cli = GANCLI(args=mnist_args(tiny_mnist, "lit_gan.models.DCGAN"), run=False)
    assert type(cli.model).__name__ == "DCGAN" and tuple(cli.model.data_shape) == (1, 28, 28)
    # a jsonargparse instantiation link would put num_classes: 10 here, and the checkpoint would not load
    assert "num_classes" not in cli.model.hparams
    assert reloads(cli.model)


def test_num_classes_for_an_unconditional_model_is_refused(tmp_path, tiny_mnist, capsys):
    with pytest.raises(SystemExit) as exc:
        GANCLI(args=[*mnist_args(tiny_mnist, "lit_gan.models.DCGAN"), "--model.init_args.num_classes", "10"], run=False)
    assert exc.value.code not in (0, None) and "num_classes" in capsys.readouterr().err


def test_print_config_leaves_num_classes_to_the_data(tmp_path, tiny_mnist, capsys):
    with pytest.raises(SystemExit) as exc:
        GANCLI(args=[*mnist_args(tiny_mnist, TINY), "--print_config"], run=False)
    assert exc.value.code in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["class_path"] == TINY and "num_classes" not in printed["model"]["init_args"]


def one_line_error(capsys, args: list[str], tmp_path: Path, monkeypatch) -> str:
    """`python -m lit_gan fit ...` in process: exit code 2 and the message of its one error line."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        entry(["fit", *args])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err, err
    lines = err.splitlines()
    assert lines[0].startswith("error: ") and lines[1].startswith("(LIT_GAN_VERBOSE=1"), err
    assert not (tmp_path / "runs").exists()
    return lines[0][len("error: "):]


def test_a_disagreeing_num_classes_is_one_line(tmp_path, tiny_mnist, capsys, monkeypatch):
    args = [*mnist_args(tiny_mnist, TINY), "--model.init_args.num_classes", "5"]
    assert one_line_error(capsys, args, tmp_path, monkeypatch) == (
        "--model.init_args.num_classes=5 disagrees with the data: MNISTDataModule has 10 classes; "
        "leave num_classes out (it is linked from the data) or set it to 10")
    with pytest.raises(UserError, match="num_classes=5 disagrees"):  # and in process, the error itself
        GANCLI(args=args, run=False)


@pytest.mark.parametrize("data", ["CelebADataModule", "PairedImageDataModule"])
def test_a_conditional_model_on_unlabelled_data_is_one_line(tmp_path, capsys, monkeypatch, data):
    args = ["--data", f"lit_gan.data.{data}", "--data.init_args.root", str(tmp_path / "nothing_needed"),
            "--model", TINY, "--trainer.logger", "false"]
    assert one_line_error(capsys, args, tmp_path, monkeypatch) == (
        f"TinyConditionalGAN needs labelled data: {data} has no num_classes. Use MNISTDataModule "
        "(--data lit_gan.data.MNISTDataModule; MNIST or Fashion-MNIST), or a datamodule with num_classes "
        "and class_names (see lit_gan.data.contract)")


def test_conditional_dcgan_trains_on_mnist_with_linked_classes(tmp_path, tiny_mnist, monkeypatch):
    from lit_gan.models import ConditionalDCGAN  # our own class: missing is a failure, not a skip

    monkeypatch.chdir(tmp_path)
    GANCLI(args=["fit", *mnist_args(tiny_mnist, "lit_gan.models.ConditionalDCGAN"),
                 "--data.init_args.batch_size", "16", "--model.init_args.latent_dim", "8",
                 "--model.init_args.generator_options", "{features: 8}",
                 "--model.init_args.discriminator_options", "{features: 8}",
                 "--trainer.logger", "{class_path: CSVLogger, init_args: {save_dir: runs, name: cdcgan}}",
                 "--max_iterations", "2", "--samples.every_n_iterations", "0",
                 "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"])
    run = tmp_path / "runs" / "cdcgan" / "version_0"
    assert "num_classes" not in yaml.safe_load((run / "config.yaml").read_text())["model"]["init_args"]
    model = ConditionalDCGAN.load_from_checkpoint(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert model.num_classes == 10
    labels = torch.arange(4)
    assert model.sample(4, labels=labels).shape == (4, 1, 28, 28)
