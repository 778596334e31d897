"""One way to write a file so that a reader never sees half of it: `write_atomically`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(
    path: Path, data: bytes, mode: int = 0o600, *, overwrite: bool = True, fsync: bool = True
) -> None:
    """Write `data` to `path` through a temporary file in the same directory, then rename.

    The file has `mode` from its first byte (mkstemp creates it 0600). A symlink at `path` is
    followed: its target is replaced and the link stays. Without `overwrite` an existing name
    (also one that appears meanwhile: the rename is a hard link, which fails on a taken name)
    raises FileExistsError. A directory raises IsADirectoryError. Raises OSError; on failure
    the old file is untouched and no temporary file is left.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise FileExistsError(f"{path} exists")
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            if mode != 0o600:
                os.fchmod(tmp.fileno(), mode)
            tmp.write(data)
            tmp.flush()
            if fsync:
                os.fsync(tmp.fileno())
        if overwrite:
            os.replace(tmp_name, target)
            return
        try:
            os.link(tmp_name, target)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this filesystem
            if target.exists() or target.is_symlink():
                raise FileExistsError(f"{path} exists") from None
            os.replace(tmp_name, target)
            return
        os.unlink(tmp_name)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
