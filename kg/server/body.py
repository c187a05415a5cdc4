"""One body-size rule for every way a body arrives: with a Content-Length, chunked, or a form.

A body over ``KG_MAX_BODY`` is refused whole (413) before anything runs: a chunked body is read
up to one byte past the limit, never cut at it and executed.
"""

from __future__ import annotations

from kg.errors import KGError, ProtocolError


class BodyTooLarge(KGError):
    status = 413


def read_body(environ: dict, max_body: int) -> bytes:
    """The request body, or :class:`BodyTooLarge` when it is larger than ``max_body`` bytes."""
    stream = environ.get("wsgi.input")
    raw_length = environ.get("CONTENT_LENGTH") or ""
    if raw_length.strip():
        try:
            length = int(raw_length)
        except ValueError:
            raise ProtocolError(400, "malformed Content-Length") from None
        if length < 0:
            raise ProtocolError(400, "malformed Content-Length")
        if length > max_body:
            raise BodyTooLarge(too_large(max_body))
        return stream.read(length) if length and stream is not None else b""
    if stream is None:
        return b""
    parts, size = [], 0
    while True:  # chunked (or no length at all): read until the end, but never past the limit
        chunk = stream.read(min(64 << 10, max_body + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if size > max_body:
            raise BodyTooLarge(too_large(max_body))
    return b"".join(parts)


def too_large(max_body: int) -> str:
    """The one message for a body over the limit, whichever path refused it."""
    return f"request body larger than {max_body} bytes (KG_MAX_BODY)"
