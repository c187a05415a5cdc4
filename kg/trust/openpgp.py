"""Detached OpenPGP signatures with Debian's GnuPG: ``gpgv`` checks, ``gpg`` signs.

Checking needs only ``gpgv`` and a keyring file (the publisher's public key, binary or
ASCII-armoured); signing imports the key file into a throw-away ``GNUPGHOME`` that is deleted
afterwards, so no key lands in the user's keyring. GnuPG's own messages can name the key, so
none of its output is ever shown; errors say what failed in one line.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterator

from kg.errors import KGError

_TIMEOUT = 120


class SigningError(KGError):
    """The signing key could not be used (missing file, not a secret key, gpg absent)."""


@dataclass(frozen=True)
class Verdict:
    """What checking one detached signature found."""

    #: verified, bad (the data or signature was altered), unknown-key (signed by a key not in
    #: the keyring), missing (no signature), unchecked (policy ignore, or no keyring / gpgv)
    status: str
    fingerprint: str | None = None
    signed_at: dt.datetime | None = None
    reason: str = ""

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def tool(name: str) -> str | None:
    """The path of ``gpg`` or ``gpgv``, or None when GnuPG is not installed."""
    return shutil.which(name)


@contextmanager
def _home() -> Iterator[Path]:
    """A throw-away GNUPGHOME; the gpg-agent that signing starts for it is stopped with it."""
    home = Path(tempfile.mkdtemp(prefix="kg-gnupg-"))
    try:
        os.chmod(home, 0o700)
        yield home
    finally:
        stop_agent(home)
        shutil.rmtree(home, ignore_errors=True)


def stop_agent(home: Path) -> None:
    """Stop the gpg-agent of ``home`` if one runs (gpg starts it to use a secret key)."""
    gpgconf = tool("gpgconf")
    if gpgconf is not None and any(home.glob("S.gpg-agent*")):
        subprocess.run([gpgconf, "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, timeout=_TIMEOUT)


def _binary_keyring(keyring: Path, home: Path) -> Path:
    """gpgv reads binary keyrings only: an armoured key file is dearmoured into ``home``."""
    with open(keyring, "rb") as fh:
        head = fh.read(64)
    if not head.lstrip().startswith(b"-----BEGIN PGP"):
        return keyring
    out = home / "keyring.gpg"
    done = subprocess.run([tool("gpg") or "gpg", "--batch", "--homedir", str(home), "--dearmor", "--output", str(out),
                           str(keyring)], capture_output=True, timeout=_TIMEOUT)
    if done.returncode != 0:
        raise KGError(f"{keyring}: not an OpenPGP public key file")
    return out


def verify_detached(signature: bytes, data: Callable[[IO[bytes]], None], keyring: Path) -> Verdict:
    """Check ``signature`` over the bytes that ``data(pipe)`` writes, against ``keyring``.

    The data is streamed into gpgv's standard input, so a file of gigabytes is read once (the
    caller may hash it on the way).
    """
    gpgv = tool("gpgv")
    if gpgv is None:
        return Verdict("unchecked", reason="gpgv is not installed")
    if not keyring.is_file():
        return Verdict("unchecked", reason=f"keyring {keyring} does not exist")
    with _home() as home:
        ring = _binary_keyring(keyring, home)
        sig = home / "data.asc"
        sig.write_bytes(signature)
        status_r, status_w = os.pipe()
        proc = subprocess.Popen([gpgv, "--homedir", str(home), "--keyring", str(ring.resolve()),
                                 "--status-fd", str(status_w), str(sig), "-"],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                pass_fds=(status_w,))
        os.close(status_w)
        with os.fdopen(status_r, "rb") as status_fh:
            try:
                data(proc.stdin)
            except BrokenPipeError:
                pass
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
            status = status_fh.read().decode("utf-8", "replace")
        proc.wait(timeout=_TIMEOUT)
    return _verdict(status, proc.returncode)


def _verdict(status: str, returncode: int) -> Verdict:
    """Read gpgv's ``--status-fd`` lines (doc/DETAILS of GnuPG)."""
    fields = {line.split()[1]: line.split()[2:] for line in status.splitlines()
              if line.startswith("[GNUPG:] ") and len(line.split()) > 1}
    if "VALIDSIG" in fields and "GOODSIG" in fields and returncode == 0:
        valid = fields["VALIDSIG"]
        primary = valid[-1] if len(valid) >= 10 else valid[0]
        return Verdict("verified", primary, _time(valid[2]))
    if "BADSIG" in fields:
        return Verdict("bad", reason="the signature does not match the file (altered file or signature)")
    if "NO_PUBKEY" in fields or "ERRSIG" in fields and fields["ERRSIG"][5:6] == ["9"]:
        errsig = fields.get("ERRSIG", [])
        key = errsig[7] if len(errsig) > 7 and errsig[7] != "-" else (errsig or fields.get("NO_PUBKEY", ["?"]))[0]
        return Verdict("unknown-key", reason=f"signed by key {key}, which the keyring does not hold")
    if "NODATA" in fields:
        return Verdict("bad", reason="the signature file holds no OpenPGP signature")
    return Verdict("bad", reason=f"gpgv could not verify the signature (exit status {returncode})")


def _time(value: str) -> dt.datetime | None:
    if value.isdigit():
        return dt.datetime.fromtimestamp(int(value), dt.timezone.utc)
    try:  # ISO 8601 basic (with --fixed-list-mode off on some versions)
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def verify_file(path: Path, signature: Path, keyring: Path) -> Verdict:
    """Check a file against its detached signature file."""
    def feed(pipe: IO[bytes]) -> None:
        with open(path, "rb") as fh:
            shutil.copyfileobj(fh, pipe, 1 << 20)

    return verify_detached(signature.read_bytes(), feed, keyring)


# ---- signing -------------------------------------------------------------------------------------

@contextmanager
def signer(key_file: Path) -> Iterator[Callable[[Path], Path]]:
    """``sign(path)`` writes ``path.asc`` (armoured detached signature) with the secret key in
    ``key_file`` (an unprotected OpenPGP secret key, as ``gpg --export-secret-keys`` writes it)."""
    gpg = tool("gpg")
    if gpg is None:
        raise SigningError("KG_SIGNING_KEY is set but gpg is not installed (Debian: apt-get install gnupg)")
    if not key_file.is_file():
        raise SigningError(f"KG_SIGNING_KEY: {key_file} does not exist")
    with _home() as home:
        base = [gpg, "--batch", "--homedir", str(home), "--pinentry-mode", "loopback", "--passphrase", ""]
        done = subprocess.run(base + ["--import", str(key_file)], capture_output=True, timeout=_TIMEOUT)
        listed = subprocess.run(base + ["--with-colons", "--list-secret-keys"], capture_output=True, timeout=_TIMEOUT)
        if done.returncode != 0 or b"\nsec:" not in b"\n" + listed.stdout:
            raise SigningError(f"KG_SIGNING_KEY: {key_file} holds no usable OpenPGP secret key")

        def sign(path: Path) -> Path:
            out = path.with_name(path.name + ".asc")
            partial = out.with_name(out.name + ".part")
            signed = subprocess.run(base + ["--yes", "--armor", "--detach-sign", "--output", str(partial), str(path)],
                                    capture_output=True, timeout=_TIMEOUT)
            if signed.returncode != 0:
                partial.unlink(missing_ok=True)
                raise SigningError(f"signing {path.name} with KG_SIGNING_KEY failed (gpg exit status {signed.returncode})")
            os.replace(partial, out)
            return out

        yield sign


def sign_bytes(data: bytes, key_file: Path) -> bytes:
    """An armoured detached signature of ``data``."""
    with tempfile.TemporaryDirectory(prefix="kg-sign-") as scratch:
        path = Path(scratch) / "data"
        path.write_bytes(data)
        with signer(key_file) as sign:
            return sign(path).read_bytes()


def public_key(key_file: Path) -> bytes:
    """The armoured public key of the secret key in ``key_file`` (what users check against)."""
    gpg = tool("gpg")
    if gpg is None:
        raise SigningError("KG_SIGNING_KEY is set but gpg is not installed (Debian: apt-get install gnupg)")
    if not key_file.is_file():
        raise SigningError(f"KG_SIGNING_KEY: {key_file} does not exist")
    with _home() as home:
        base = [gpg, "--batch", "--homedir", str(home)]
        subprocess.run(base + ["--import", str(key_file)], capture_output=True, timeout=_TIMEOUT)
        out = subprocess.run(base + ["--armor", "--export"], capture_output=True, timeout=_TIMEOUT)
    if out.returncode != 0 or b"BEGIN PGP PUBLIC KEY" not in out.stdout:
        raise SigningError(f"KG_SIGNING_KEY: {key_file} holds no usable OpenPGP key")
    return out.stdout
