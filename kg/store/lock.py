"""The one writer's lock of a data directory, shared by the embedded and the remote generations:
an exclusive ``flock`` on ``{root}/.lock``, so that one load at a time builds a generation."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from kg.errors import StoreBusy


@contextmanager
def writer_lock(root: Path, *, wait: float = 0) -> Iterator[None]:
    """Hold the writer's lock of ``root``; ``wait`` seconds for another writer to finish (0: not
    at all), then :class:`StoreBusy`. The lock goes with the process (a killed load frees it)."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreBusy(f"another load is running on {root} (lock {root / '.lock'})") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
