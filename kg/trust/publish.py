"""Signed publication: the journal, every dump and the catalogue carry detached OpenPGP
signatures made with ``KG_SIGNING_KEY``; its public key is written beside them.

Everything here is checkable with standard tools: ``gpg --verify X.asc X`` and
``sha256sum -c SHA256SUMS`` in the dumps directory.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from kg.trust.journal import NAME, Journal
from kg.trust.openpgp import public_key, signer

PUBLIC_KEY = "signing-key.asc"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def publish_key(settings) -> Path:
    """Write the signing key's public half to ``KG_DATA_DIR/signing-key.asc`` (what is served)."""
    path = settings.data_path / PUBLIC_KEY
    _write(path, public_key(Path(settings.signing_key).expanduser()))
    return path


def sign_journal(settings) -> Path:
    """Sign the journal as it is now (its head stands for every entry before it)."""
    publish_key(settings)
    with signer(Path(settings.signing_key).expanduser()) as sign:
        return sign(settings.data_path / NAME)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(settings, out_dir: Path, written: list[tuple[str, Path, int]], digests: dict[str, tuple[str, int]],
                   generation: str | None) -> list[Path]:
    """``manifest.json`` (per file: graph, quads, SHA-256, content digest; the journal head) and
    ``SHA256SUMS`` for the dumps in ``out_dir``; signs them and every dump when a key is set.
    Returns the files written."""
    head = Journal.of(settings.data_path).head()
    files: list[dict[str, Any]] = []
    for graph, path, quads in written:
        entry: dict[str, Any] = {"file": path.name, "graph": graph, "quads": quads, "sha256": sha256_file(path)}
        if graph in digests:
            entry["content_digest"] = digests[graph][0]
        files.append(entry)
    manifest = {"generation": generation, "journal": {"entries": head[0], "head": head[1]} if head else None,
                "files": files}
    out = [out_dir / MANIFEST, out_dir / SUMS]
    _write(out[0], json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n")
    _write(out[1], "".join(f"{f['sha256']}  {f['file']}\n" for f in files).encode())
    if settings.signing_key:
        publish_key(settings)
        with signer(Path(settings.signing_key).expanduser()) as sign:
            out += [sign(path) for _, path, _ in written]
            out += [sign(out[0]), sign(out[1])]
    return out
