"""Atomic file writes: a reader sees the old file or the new one, never half of one."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike, data: bytes | Callable[[BinaryIO], object], *,
                 overwrite: bool = True) -> Path:
    """Write a file through a temporary file in the same folder, then move it into place.

    Parameters
    ----------
    path : path
        Target file; its folder is created if missing.
    data : bytes or callable
        The bytes to write, or ``data(f)`` that writes into the open binary file ``f``.
    overwrite : bool
        True: ``os.replace`` the target (atomic on POSIX and Windows). False: ``os.link`` the
        temporary file to the target, which fails if the target exists, so no concurrent
        writer can be overwritten (on a file system without hard links: check, then replace).

    Returns
    -------
    Path of the written file (mode 0644: files are meant to be shared).

    Raises
    ------
    FileExistsError
        ``overwrite`` is False and the target exists.
    OSError
        The folder is not writable or the disk is full; the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        with os.fdopen(fd, "wb") as f:
            data(f) if callable(data) else f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise FileExistsError(f"{path} already exists") from None
            except OSError:  # no hard links here: check, then replace
                if path.exists():
                    raise FileExistsError(f"{path} already exists") from None
                os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)  # gone after os.replace; left after os.link
    return path
