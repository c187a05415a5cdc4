"""The data directory's own bookkeeping: the ``CURRENT`` file that names the served generation,
replaced atomically (write, fsync, rename, fsync the directory), so that a crash leaves either the
old name or the new one; and the ``tmp-*`` scratch files a killed build leaves beside it."""

from __future__ import annotations

import os
from pathlib import Path


def write_pointer(pointer: Path, name: str) -> None:
    tmp = pointer.with_name(pointer.name + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, pointer)
    dir_fd = os.open(pointer.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_scratch(root: Path) -> None:
    """Delete the ``tmp-*`` files and directories builds left in ``root`` (only with the writer's lock)."""
    import shutil

    for leftover in root.glob("tmp-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
