"""Connection discipline: what a connection may cost before it has sent a request.

uvicorn parses HTTP with httptools (llhttp, in C); this subclass of its protocol adds what a
public endpoint needs and neither uvicorn nor granian has (both measured here: 200 sockets that
never send a byte stayed open for good under each):

* ``KG_IDLE_TIMEOUT``: a connection that sends nothing, on arrival or between requests, is closed;
* ``KG_HEADER_TIMEOUT``: a request's headers must be complete this long after its first byte
  (else 408 and close; slowloris);
* ``KG_MAX_HEADER_BYTES``: and no larger than this (else 431 and close; llhttp has no limit);
* ``KG_CLIENT_CONNECTIONS``: connections one client address may hold open per worker process
  (else 503 and close), so one address cannot hold every connection;
* ``KG_MAX_CONNECTIONS``: connections a worker process holds at once (else 503 and close).

What a request may cost once its headers are in (body time and size, requests in progress per
address) is the bridge's (:mod:`kg.server.asgi`).

RFC 9110 §15.5.9 (408), RFC 6585 §5 (431) and §15.6.4 (503); RFC 9112 §9.3 (persistence).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kg.server.headers import SECURITY_HEADERS


@dataclass(kw_only=True)
class Limits:
    """The limits of one worker process, and the connections each address holds in it."""

    idle_timeout: float
    header_timeout: float
    max_header_bytes: int
    client_connections: int
    max_connections: int
    retry_after: int
    open: Counter[str] = field(default_factory=Counter)
    total: int = 0


def protocol_class(limits: Limits) -> type:
    """The uvicorn protocol class (``Config(http=...)``) that applies ``limits``."""
    return type("GuardedHttp", (GuardedHttp,), {"limits": limits})


class GuardedHttp(HttpToolsProtocol):
    limits: Limits

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_Coalescing(transport, self.loop))  # type: ignore[arg-type]
        limits = self.limits
        self._address = self.client[0] if self.client else "?"
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._counted = False
        if limits.total >= limits.max_connections:
            return self._refuse(503, "too many connections to this server (KG_MAX_CONNECTIONS)")
        if limits.open[self._address] >= limits.client_connections:
            return self._refuse(503, f"too many connections from {self._address} (KG_CLIENT_CONNECTIONS)")
        limits.total += 1
        limits.open[self._address] += 1
        self._counted = True
        # uvicorn arms its keep-alive timer only after a response: arm it for the first request too
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        if self._counted:
            self._counted = False
            limits = self.limits
            limits.total -= 1
            limits.open[self._address] -= 1
            if not limits.open[self._address]:
                del limits.open[self._address]
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers():
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(self.limits.header_timeout, self._headers_too_slow)
            self._header_bytes += len(data)
        super().data_received(data)
        # still counting: the headers did not end in what arrived (on_headers_complete resets it,
        # so a body that came with them does not count)
        if self._header_bytes > self.limits.max_header_bytes:
            self._refuse(431, f"request headers over {self.limits.max_header_bytes:,} bytes (KG_MAX_HEADER_BYTES)")

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        self._header_bytes = 0
        # the raw count above misses headers that end in the chunk that takes them over the limit
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_header_bytes:
            return self._refuse(431, f"request headers over {self.limits.max_header_bytes:,} bytes "
                                     "(KG_MAX_HEADER_BYTES)")
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self.transport.is_closing():  # refused: no request cycle to take it
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self.transport.is_closing():
            super().on_message_complete()

    def _awaiting_headers(self) -> bool:
        """True between requests and while a request's headers are arriving."""
        return (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing()

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        self._refuse(408, f"the request headers did not arrive within {self.limits.header_timeout:g} s "
                          "(KG_HEADER_TIMEOUT)")

    def _cancel_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with a one-line reason before any request, and close."""
        if self.transport.is_closing():
            return
        reason = {408: "Request Timeout", 431: "Request Header Fields Too Large", 503: "Service Unavailable"}[status]
        body = (message + "\n").encode("utf-8")
        lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: text/plain; charset=utf-8",
                 f"Content-Length: {len(body)}", "Connection: close",
                 *(f"{k}: {v}" for k, v in SECURITY_HEADERS.items())]
        if status == 503:
            lines.append(f"Retry-After: {self.limits.retry_after}")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        self.transport.close()


class _Coalescing:
    """A transport whose writes within one turn of the event loop leave as one send.

    uvicorn writes a response's status line and headers, then its body: two system calls and two
    TCP segments for an answer of a few hundred bytes (a quarter of a one-entity query's CPU in
    the worker, measured with py-spy). Joined, they are one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._parts:
            self._loop.call_soon(self._flush)
        self._parts.append(bytes(data))

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def _flush(self) -> None:
        parts, self._parts = self._parts, []
        if not parts or self._transport.is_closing():
            return
        if len(parts) > 1 and sum(map(len, parts)) > 1 << 16:  # a large answer: not copied to be joined
            self._transport.writelines(parts)
        else:
            self._transport.write(b"".join(parts))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._parts))

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


__all__ = ["GuardedHttp", "Limits", "protocol_class"]
