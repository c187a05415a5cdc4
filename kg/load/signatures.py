"""Proof of issuer (発行元証明) for input files: a source's detached OpenPGP signature, checked
before anything of it is parsed, under ``KG_SIGNATURE_POLICY``; where a publisher offers only
checksums (the ABR catalogue lists each download's SHA-256), they are compared the same way.

The NTA ships ``X.csv`` with ``X.csv.asc`` in one zip; a plain file's signature lies beside it.
``ignore`` checks nothing; ``warn`` checks what it can and loads whatever the verdict (recorded
as verified or not, with the reason); ``require`` refuses a file that is not verified, with a
one-line reason, before a line of it is read. A loader declares ``signed = True`` when its
publisher signs every file (houjin): then a missing signature counts against it; a signature
that comes with any other source is checked all the same. A published SHA-256 is read from
``SHA256SUMS`` (``sha256sum`` format) in the file's directory or from ``X.sha256`` beside it; it is
the checksum of the downloaded file (the zip, for a zip member): ``checksum-match`` or
``checksum-mismatch``, which ``require`` refuses like a bad signature.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

from kg.errors import InputError, LoadError
from kg.load.sources import SourceFile, sha256_of
from kg.trust.openpgp import Verdict, tool, verify_detached

POLICIES = ("ignore", "warn", "require")
#: verdicts that say the file is not what its publisher published: refused under ``require``
FAILED = frozenset({"bad", "unknown-key", "checksum-mismatch"})
SUMS = "SHA256SUMS"


def published_checksum(path: Path) -> tuple[str, str] | None:
    """(SHA-256, where it was read) that the publisher gives for the downloaded file ``path``."""
    beside = path.with_name(path.name + ".sha256")
    candidates = [(beside, None), (path.with_name(SUMS), path.name)]
    for listing, name in candidates:
        if not listing.is_file():
            continue
        for line in listing.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if parts and len(parts[0]) == 64 and (name is None or len(parts) > 1 and parts[-1].lstrip("*") == name):
                return parts[0].lower(), listing.name
    return None


def check_policy(policy: str, keyring: str | None) -> None:
    """A setting that cannot work is refused before a load starts."""
    if policy not in POLICIES:
        raise LoadError(f"KG_SIGNATURE_POLICY={policy!r}: one of {', '.join(POLICIES)}")
    if policy == "require" and not keyring:
        raise LoadError("KG_SIGNATURE_POLICY=require needs KG_NTA_KEYRING (the publisher's public key file)")
    if policy == "require" and not Path(keyring).expanduser().is_file():
        raise LoadError(f"KG_NTA_KEYRING={keyring}: no such keyring file")
    if policy == "require" and tool("gpgv") is None:
        raise LoadError("KG_SIGNATURE_POLICY=require needs gpgv (Debian: apt-get install gpgv)")


def check_source(source: SourceFile, *, policy: str, keyring: str | None, signed: bool) -> tuple[str, Verdict]:
    """(SHA-256 of the file, the signature's verdict), reading the file once.

    Raises :class:`InputError` (naming the file and the reason) when ``require`` refuses it.
    """
    digest = hashlib.sha256()
    fed = []

    def feed(pipe: IO[bytes] | None) -> None:
        with source.open() as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                if pipe is not None:
                    try:
                        pipe.write(chunk)
                    except BrokenPipeError:  # gpgv gave up (a malformed signature): hash the rest
                        pipe = None
        fed.append(True)

    signature = None if policy == "ignore" else source.companion(".asc")
    if policy == "ignore":
        verdict = Verdict("unchecked", reason="KG_SIGNATURE_POLICY=ignore")
    elif signature is None:
        verdict = Verdict("missing", reason="no signature file (.asc) was published with it")
    elif not keyring:
        verdict = Verdict("unchecked", reason="no keyring to check it against (KG_NTA_KEYRING)")
    else:
        verdict = verify_detached(signature, feed, Path(keyring).expanduser())
    if not fed:  # gpgv never read it (not installed, no keyring): hash it alone
        feed(None)
    if signature is None and policy != "ignore":
        published = published_checksum(source.path)
        if published is not None:
            actual = digest.hexdigest() if source.member is None else sha256_of(SourceFile(source.path.name, source.path))
            verdict = (Verdict("checksum-match", reason=f"SHA-256 as published in {published[1]}")
                       if actual == published[0] else
                       Verdict("checksum-mismatch", reason=f"SHA-256 {actual[:16]}… differs from {published[0][:16]}… "
                                                          f"published in {published[1]}"))
    refused = verdict.status in FAILED or (signed or signature is not None) and not verdict.verified
    if policy == "require" and refused:
        what = "checksum" if verdict.status.startswith("checksum") else "signature"
        status = verdict.status.removeprefix("checksum-")
        raise InputError(f"{source.name}: {what} {status}: {verdict.reason} (KG_SIGNATURE_POLICY=require)")
    return digest.hexdigest(), verdict
