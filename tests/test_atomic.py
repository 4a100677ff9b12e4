"""atomic_path: all or nothing, with an ordinary file mode."""

from __future__ import annotations

import os

import pytest

from lit_gan.atomic import atomic_path


def test_replaces_in_one_step_with_the_umask_mode(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    old = os.umask(0o022)
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("new")
            assert not target.exists()  # nothing visible until the block succeeds
    finally:
        os.umask(old)
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_a_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
