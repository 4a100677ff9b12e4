"""lit_gan.errors: which exceptions get the short form, and what it says."""

from __future__ import annotations

import pytest

from lit_gan.data import MNISTDataModule
from lit_gan.download import DownloadError
from lit_gan.errors import UserError, short_report, user_facing, verbose
from lit_gan.models import DCGAN, GAN, WGAN
from lit_gan.models.cyclegan import CycleGAN
from lit_gan.models.pix2pix import Pix2Pix


def raised(fn) -> BaseException:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the point is to keep whatever was raised
        return exc
    raise AssertionError("nothing raised")


def test_missing_data_from_a_datamodule_is_user_facing(tmp_path):
    exc = raised(lambda: MNISTDataModule(str(tmp_path / "none"), download=False).setup("fit"))
    assert isinstance(exc, FileNotFoundError) and user_facing(exc) is exc


def test_a_datamodule_setting_is_user_facing():
    exc = raised(lambda: MNISTDataModule("data", batch_size=0))
    assert isinstance(exc, ValueError) and user_facing(exc) is exc


def test_a_lit_gan_constructor_refusing_a_setting_is_user_facing():
    from lit_gan.models import WGAN

    exc = raised(lambda: WGAN(data_shape=(2,), generator="mlp", discriminator="mlp", n_critic=0))
    assert isinstance(exc, ValueError) and "n_critic" in str(exc) and user_facing(exc) is exc


@pytest.mark.parametrize("build, setting", [
    (lambda: DCGAN(lr_g=-1.0), "lr_g=-1.0"),
    (lambda: WGAN(data_shape=(2,), generator="mlp", discriminator="mlp", lr_d=-1e-4), "lr_d=-0.0001"),
    (lambda: GAN(optimizer="adam", betas=(1.5, 0.9)), "betas=(1.5, 0.9)"),
    (lambda: Pix2Pix(lr=-1.0), "lr=-1.0"),
    (lambda: CycleGAN(lr=-1.0), "lr=-1.0"),
])
def test_an_optimizer_setting_torch_refuses_is_refused_by_the_constructor(build, setting):
    """torch's optimizer refused it only at fit start (configure_optimizers), in a traceback."""
    exc = raised(build)
    assert isinstance(exc, ValueError) and setting in str(exc) and user_facing(exc) is exc


def test_download_and_user_errors_are_user_facing_wherever_raised():
    for error in (DownloadError("every mirror failed"), UserError("pass --trainer.devices 2")):
        def throw(error=error):
            raise error

        assert user_facing(raised(throw)) is error


def test_other_errors_keep_their_traceback():
    def from_here():
        raise ValueError("not raised by lit_gan's data or CLI code")

    assert user_facing(raised(from_here)) is None
    assert user_facing(raised(lambda: {}["key"])) is None
    # a programming error inside the data layer is not a user error either
    dm = MNISTDataModule("data")
    assert user_facing(raised(dm.train_dataloader)) is None  # "Call datamodule.setup() ..." (RuntimeError)


def test_short_report_names_the_rank_under_several_processes(monkeypatch):
    for name in ("RANK", "SLURM_PROCID", "LOCAL_RANK", "WORLD_SIZE", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    assert short_report(ValueError("bad"), "lit-gan").splitlines()[0] == "error: bad"
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    monkeypatch.setattr(rank_zero_only, "rank", 1)  # a rank Lightning's own DDP launcher started
    assert short_report(ValueError("bad"), "lit-gan").splitlines()[0] == "error (rank 1): bad"
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    report = short_report(ValueError("bad"), "lit-gan")
    assert report.splitlines() == ["error (rank 1 of 2): bad",
                                   "(LIT_GAN_VERBOSE=1 or `lit-gan --verbose <command> ...` shows the traceback)"]


@pytest.mark.parametrize(("value", "expected"), [("", False), ("0", False), ("false", False), ("1", True), ("yes", True)])
def test_verbose_env(monkeypatch, value, expected):
    monkeypatch.setenv("LIT_GAN_VERBOSE", value)
    assert verbose() is expected
