"""read_checkpoint: the one reader of checkpoint files, and its one-line refusals."""

from __future__ import annotations

import argparse

import pytest
import torch

from lit_gan.errors import UserError
from lit_gan.training.checkpoint_file import CheckpointError, read_checkpoint


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message and isinstance(err.value, UserError)  # printed as `error: ...`, exit 2
    return message


def test_reads_weights_and_the_types_outside_torchs_allow_list(tmp_path):
    path = tmp_path / "a.ckpt"
    torch.save({"state_dict": {"w": torch.arange(3.0)}, "hyper_parameters": argparse.Namespace(lr=0.1)}, path)
    state = read_checkpoint(path)
    assert torch.equal(state["state_dict"]["w"], torch.arange(3.0)) and state["hyper_parameters"].lr == 0.1


def test_missing_file_names_the_flag_and_where_runs_save(tmp_path):
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(tmp_path / "nope.ckpt", option="--ckpt")
    assert one_line(err).startswith(f"--ckpt {tmp_path / 'nope.ckpt'}: no such checkpoint file")
    assert "last.ckpt" in str(err.value)


@pytest.mark.parametrize("content", [b"not a checkpoint\n", b"PK\x03\x04" + bytes(200), b""])
def test_damaged_file_is_one_line(tmp_path, content):
    path = tmp_path / "bad.ckpt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(path)
    message = one_line(err)
    assert message.startswith(f"{path} is not a readable checkpoint") and "--ckpt_path PATH" in message
    assert "weights_only" not in message


def test_truncated_checkpoint_is_one_line(tmp_path):
    path = tmp_path / "cut.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(path)
    assert one_line(err).startswith(f"{path} is not a readable checkpoint")


@pytest.mark.parametrize("content", [{"a": 1}, [1, 2]])
def test_foreign_torch_file_is_refused(tmp_path, content):
    path = tmp_path / "foreign.ckpt"
    torch.save(content, path)
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(path)
    assert one_line(err).startswith(f"{path} was not written by lit_gan") and "lit_gan fit" in str(err.value)
