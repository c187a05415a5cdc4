"""Virtuoso's own bulk loading for a big load: ``TTLP_MT`` of files, then ``checkpoint``.

OpenLink documents its bulk loader (``ld_dir`` + ``rdf_loader_run()``, which runs ``TTLP_MT`` on
each file without the transaction log) as the way to load large data into Virtuoso 7
(https://vos.openlinksw.com/owiki/wiki/VOS/VirtBulkRDFLoader). Its Graph Store endpoint runs one
request at a time on one core: 5.3M corporations took 1,627 s as 32 MB POSTs, 2.50x the loader
of the same quads, and two or three POSTs in flight were no faster (bench/README.md, Session 16).

A load's N-Triples go into files of ``file_bytes`` in ``directory``, which the server reads (it
must be listed in ``DirsAllowed``, at the same path on both sides). Each file is loaded as soon as
it is complete, while the next one is written, by ``isql`` (the SQL client Virtuoso ships) in a
thread of its own: ``TTLP_MT`` as the loader calls it, but strict, so that a bad line fails the
load instead of being skipped. It writes without Virtuoso's transaction log, so the load ends with a
``checkpoint``: the generation switch after it (a logged Update) never names a graph a crash of
the server could lose.

What is loaded is always a build's fresh graph, which the generation journal names before the
first file is written: a failed or killed load leaves only debris that :meth:`sweep` and the next
start remove. The SQL password goes to ``isql`` on its command line, the only way it takes one:
other users of the machine that runs the load can see it in the process list while ``isql`` runs.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Iterable

from kg.errors import StoreError

_OURS = re.compile(r"^kg-(\d+)-[0-9a-f]{8}-\d{5}\.nt$")
#: isql is started through util-linux's setpriv, which has the kernel kill it when the thread that
#: started it dies (PR_SET_PDEATHSIG): a killed load's isql closes its connection, and Virtuoso
#: stops loading for it. (A preexec_fn would do the same, but is not safe in a process with threads.)
_DIE_WITH_US = ("setpriv", "--pdeathsig", "KILL", "--") if shutil.which("setpriv") else ()


class VirtuosoLoader:
    """Loads N-Triples into one graph through Virtuoso's bulk loader, run by ``isql``.

    >>> VirtuosoLoader(sql="127.0.0.1:1111", user="dba", password="secret", directory=Path("/srv/load"))
    VirtuosoLoader('127.0.0.1:1111', '/srv/load')
    """

    def __init__(self, *, sql: str, user: str, password: str | None, directory: Path, isql: str = "isql-vt",
                 file_bytes: int = 256 << 20, timeout: float = 3600.0):
        self.sql, self.user, self.directory = sql, user, Path(directory).absolute()
        self._password = password or ""
        self.isql, self.file_bytes, self.timeout = isql, file_bytes, timeout

    def __repr__(self) -> str:  # never the password
        return f"VirtuosoLoader({self.sql!r}, {str(self.directory)!r})"

    def load(self, graph: str, slices: Iterable[bytes]) -> None:
        """Every slice (whole N-Triples lines) into ``graph``, then a checkpoint."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = f"kg-{os.getpid()}-{secrets.token_hex(4)}"
        ready: queue.Queue[Path | None] = queue.Queue(maxsize=1)  # one file waits while one loads
        failed: list[BaseException] = []
        loader = threading.Thread(target=self._load_each, args=(graph, ready, failed), name="kg-virtuoso-loader",
                                  daemon=True)
        loader.start()
        try:
            written, number, out, path = 0, 0, None, None
            for piece in slices:
                if failed:
                    break
                if out is None:
                    path = self.directory / f"{stem}-{number:05d}.nt"
                    out, written, number = open(path, "wb"), 0, number + 1
                out.write(piece)
                written += len(piece)
                if written >= self.file_bytes:
                    out.close()
                    out = None
                    ready.put(path)
            if out is not None:
                out.close()
                ready.put(path)
        finally:
            if out is not None and not out.closed:
                out.close()
            ready.put(None)  # the loader takes every item, even after an error
            loader.join()
            for leftover in self.directory.glob(f"{stem}-*.nt"):
                leftover.unlink(missing_ok=True)
        if failed:
            raise failed[0]
        self.run("checkpoint;")

    def sweep(self) -> bool:
        """Remove the files of loads whose process is gone; True if there were any. Their
        ``isql`` died with them, and Virtuoso stops loading for a client that is gone (a killed
        ``isql`` 1.5 s into a file: the graph grew for less than 1.2 s more), but not at once: the
        caller waits for the debris graphs to stop growing before it drops them."""
        if not self.directory.exists():
            return False
        stale = [p for p in self.directory.iterdir() if (m := _OURS.match(p.name)) and not _alive(int(m.group(1)))]
        for path in stale:
            path.unlink(missing_ok=True)
        return bool(stale)

    def run(self, statements: str) -> str:
        """What ``isql`` printed for ``statements``; an error it reports is a :class:`StoreError`."""
        try:
            done = subprocess.run([*_DIE_WITH_US, self.isql, self.sql, self.user, self._password], input=statements,
                                  capture_output=True, text=True, timeout=self.timeout)
        except FileNotFoundError:
            raise StoreError(f"KG_VIRTUOSO_SQL is set but {self.isql} is not installed (Debian: "
                             "virtuoso-opensource; or set KG_VIRTUOSO_ISQL)") from None
        except subprocess.TimeoutExpired:
            raise StoreError(f"Virtuoso at {self.sql} did not finish within {self.timeout:g} s "
                             "(KG_SPARQL_WRITE_TIMEOUT)") from None
        said = re.search(r"\*\*\* Error ([^\n]*)", done.stderr + done.stdout)
        if said or done.returncode != 0:
            reason = said.group(1).strip() if said else (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            raise StoreError(f"Virtuoso's SQL server at {self.sql} answered: {reason}")
        return done.stdout

    # -- the loader thread --

    def _load_each(self, graph: str, ready: "queue.Queue[Path | None]", failed: list) -> None:
        while (path := ready.get()) is not None:
            if failed:
                continue  # the files after an error are only taken off the queue
            try:
                self._load_file(graph, path)
            except BaseException as exc:  # noqa: BLE001 - handed to the loading thread
                failed.append(exc)

    def _load_file(self, graph: str, path: Path) -> None:
        # flags 0: strict N-Triples (the loader's usual 255 skips a bad line in silence); log
        # mode 2: autocommit without the transaction log, as rdf_loader_run() loads
        try:
            self.run(f"log_enable(2, 1);\nDB.DBA.TTLP_MT(file_to_string_output({_quoted(str(path))}), '', "
                     f"{_quoted(graph)}, 0, 2);\n")
        except StoreError as exc:
            said = re.sub(r"\[(?:Virtuoso|Vectorized)[^\]]*\]\s*", "", str(exc).split(" answered: ", 1)[-1])
            hint = f" (is {self.directory} in its DirsAllowed?)" if "FA0" in said else ""
            raise StoreError(f"Virtuoso's bulk loader refused {path}: {said}{hint}") from None
        finally:
            path.unlink(missing_ok=True)


def _quoted(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def isql_binary(name: str | None) -> str:
    """``name`` or the first of Debian's ``isql-vt`` and OpenLink's ``isql`` on PATH."""
    return name or shutil.which("isql-vt") or "isql"
