"""The files a load reads: plain files, directories and zip members, with their checksums."""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Sequence

from kg.errors import InputError


@dataclass
class SourceFile:
    """One input: a plain file or a member of a zip. ``name`` is what reports show."""

    name: str
    path: Path
    member: str | None = None

    def open(self) -> IO[bytes]:
        if self.member is None:
            return open(self.path, "rb")
        try:
            return _archive(self.path).open(self.member)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputError(f"{self.path}: not a readable zip ({exc})") from None

    def companion(self, suffix: str) -> bytes | None:
        """The bytes of the file published with this one as ``name + suffix`` (a detached
        signature ``X.csv.asc``): beside a plain file, or in the same zip; None if there is none."""
        if self.member is None:
            path = self.path.with_name(self.path.name + suffix)
            return path.read_bytes() if path.is_file() else None
        try:
            return _archive(self.path).read(self.member + suffix)
        except KeyError:
            return None
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"{self.path}: not a readable zip ({exc})") from None

    @property
    def size(self) -> int:
        if self.member is None:
            return self.path.stat().st_size
        return _archive(self.path).getinfo(self.member).file_size


_ARCHIVES: dict[tuple, zipfile.ZipFile] = {}


def _archive(path: Path) -> zipfile.ZipFile:
    """An open zip, shared by its members: the e-Gov bulk zip has ~10k members, and reading the
    central directory once per member made a load quadratic. Keyed by process (a forked child
    opens its own handle) and by size and mtime (a rewritten file is opened afresh)."""
    st = os.stat(path)
    key = (str(path), os.getpid(), st.st_size, st.st_mtime_ns)
    archive = _ARCHIVES.get(key)
    if archive is None:
        archive = zipfile.ZipFile(path)
        if len(_ARCHIVES) >= 4:
            for old in _ARCHIVES.values():
                old.close()
            _ARCHIVES.clear()
        _ARCHIVES[key] = archive
    return archive


def expand_inputs(paths: Sequence[str | os.PathLike[str]], suffixes: tuple[str, ...]) -> list[SourceFile]:
    """Files, directories (recursively) and zips → the source files to read, in a stable order."""
    out: list[SourceFile] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        if path.is_dir():
            children = sorted(p for p in path.rglob("*") if p.is_file())
            for child in children:
                if child.name.lower().endswith(suffixes) or zipfile.is_zipfile(child) and child.suffix.lower() == ".zip":
                    out.extend(expand_inputs([child], suffixes))
            continue
        if path.suffix.lower() == ".zip":
            out.extend(_zip_members(path, suffixes))
            continue
        out.append(SourceFile(path.name, path))
    return out


def _zip_members(path: Path, suffixes: tuple[str, ...]) -> list[SourceFile]:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise InputError(f"{path}: zip member {bad} is corrupt (CRC mismatch)")
            members = [i.filename for i in archive.infolist()
                       if not i.is_dir() and i.filename.lower().endswith(suffixes)]
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path}: not a readable zip file ({exc}; truncated download?)") from None
    except (EOFError, OSError) as exc:
        raise InputError(f"{path}: zip file is truncated or unreadable ({exc})") from None
    if not members:
        raise InputError(f"{path}: the zip holds no {'/'.join(suffixes)} file")
    return [SourceFile(f"{path.name}!{m}", path, m) for m in members]


def sha256_of(source: SourceFile) -> str:
    digest = hashlib.sha256()
    with source.open() as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
