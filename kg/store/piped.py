"""Bulk-load N-Triples while they are being written, instead of after.

A step that computes a graph in Python (the address links of a million corporations) and then
bulk-loads it leaves the engine idle while it computes and itself idle while the engine loads.
Written into a pipe that the store reads as a stream, the two run side by side: the engine's
parser (pyoxigraph releases the GIL; a remote engine is another process) takes each line as the
writing thread makes it.
"""

from __future__ import annotations

import os
import threading
from typing import IO, Callable

from kg.store.interface import WriteStore


def load_as_written(store: WriteStore, graph: str, write: Callable[[IO[str]], None], *,
                    buffering: int = 1 << 20) -> bool:
    """Bulk-load into ``graph`` the N-Triples ``write(out)`` writes to ``out`` (a text stream),
    while it writes them; returns whether it wrote anything (nothing written: nothing loaded).

    ``write`` runs in a thread of its own; its error is raised here, or the store's if the
    store failed first (the writer then meets a closed pipe).

    >>> from kg.store.oxigraph import OxStore
    >>> store = OxStore.memory()
    >>> load_as_written(store, "http://x/g", lambda out: out.write('<http://x/s> <http://x/p> "1" .\\n'))
    True
    >>> store.count("http://x/g"), load_as_written(store, "http://x/h", lambda out: None)
    (1, False)
    """
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_fd, "w", encoding="utf-8", buffering=buffering) as out:
                write(out)
        except BaseException as exc:  # raised in the caller's thread below
            failure.append(exc)

    writer = threading.Thread(target=produce, name="kg-load-as-written", daemon=True)
    writer.start()
    wrote = False
    try:
        with os.fdopen(read_fd, "rb", buffering=buffering) as stream:
            if stream.peek(1):  # waits for the first line or the end
                wrote = True
                store.add(stream=stream, fmt="ntriples", graph=graph, bulk=True)
    finally:  # the pipe is closed: a writer still writing meets BrokenPipeError and ends
        writer.join()
    if failure:
        raise failure[0]
    return wrote
