"""write_atomically: the one atomic file writer (config, host config, fio job files, runs)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from virttui.core.common.atomic import write_atomically


def test_writes_private_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "a" / "f.txt"
    write_atomically(path, b"one")
    assert path.read_bytes() == b"one" and stat.S_IMODE(path.stat().st_mode) == 0o600
    write_atomically(path, b"two", 0o644)
    assert path.read_bytes() == b"two" and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(path.parent) == ["f.txt"]


def test_without_overwrite_an_existing_name_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_atomically(path, b"new", overwrite=False)
    assert path.read_bytes() == b"keep" and os.listdir(tmp_path) == ["f.csv"]
    fresh = tmp_path / "g.csv"
    write_atomically(fresh, b"new", overwrite=False)
    assert fresh.read_bytes() == b"new" and sorted(os.listdir(tmp_path)) == ["f.csv", "g.csv"]


def test_a_directory_is_refused_and_a_symlink_followed(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        write_atomically(tmp_path, b"x")
    real = tmp_path / "real.toml"
    real.write_bytes(b"old")
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    write_atomically(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
