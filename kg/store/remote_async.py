"""Queries to the engine from an event loop: the requests :meth:`SparqlClient.query` makes,
awaited by the loop instead of a thread waiting on a socket.

Why: ``kg serve`` answers a one-entity SELECT over an engine with one HTTP round trip. Made from
a pool thread with :mod:`http.client`, that round trip cost our process more CPU than the engine
spent answering (the thread hand-off both ways, header parsing by :mod:`email`, the head and the
body in two sends; bench/README.md, session 15). Here the request goes out in one write on a
kept-alive connection and the answer is parsed by httptools (llhttp, what uvicorn parses requests
with). What an answer means, errors included, is :meth:`SparqlClient.answered`'s, as for every
other request: the two paths differ in transport only.

At most ``connections`` requests are in flight per loop (``KG_QUERY_THREADS``, the bound the
thread pool has); the others wait their turn.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.parse
from typing import Protocol

import httptools

from kg.errors import StoreError


class Client(Protocol):
    """What this module needs of :class:`kg.store.remote.SparqlClient` (which imports this one)."""

    query_url: str
    timeout: float
    authorization: str | None

    def answered(self, status: int, reason: str, media: str, body: bytes, url: str) -> tuple[str, bytes]: ...
    def no_answer(self, url: str) -> StoreError: ...
    def unreachable(self, url: str, exc: OSError) -> StoreError: ...
    def broke_off(self, url: str, exc: BaseException) -> StoreError: ...


class _Exchange(asyncio.Protocol):
    """One kept-alive connection to the engine, one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.heard = False  # any byte of the answer arrived
        self._reset()

    def _reset(self) -> None:
        self._reason, self._media, self._body, self._framed, self._headed = "", "", [], False, False

    # -- asyncio.Protocol --
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.heard = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(StoreError(f"the SPARQL engine's answer is not HTTP: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            if self._headed and not self._framed:
                self._complete(keep=False)  # an answer without a length ends with its connection
            else:
                self.waiter.set_exception(ConnectionResetError(str(exc or "the connection was closed")))

    # -- httptools callbacks --
    def on_status(self, reason: bytes) -> None:
        self._reason += reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-type":
            self._media = value.decode("latin-1").split(";")[0].strip().lower()
        elif name in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headed = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._complete(keep=self.parser.should_keep_alive())

    # --
    def _complete(self, *, keep: bool) -> None:
        answer = (self.parser.get_status_code(), self._reason, self._media, b"".join(self._body), keep)
        self._reset()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(answer)

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    async def send(self, request: bytes, timeout: float) -> tuple[int, str, str, bytes, bool]:
        """The answer to ``request``: (status, reason, media type, body, keep-alive); TimeoutError
        when it has not come whole within ``timeout`` seconds (a timer of the loop's: cheaper than
        :func:`asyncio.timeout` on every query)."""
        loop = asyncio.get_running_loop()
        self.waiter = waiter = loop.create_future()
        self.heard = False
        timer = loop.call_later(timeout, self._expire, waiter)
        try:
            self.transport.write(request)
            return await waiter
        finally:
            timer.cancel()

    def _expire(self, waiter: asyncio.Future) -> None:
        if not waiter.done():
            waiter.set_exception(TimeoutError())

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class LoopQueries:
    """The engine's query endpoint as one event loop uses it: kept-alive connections, at most
    ``connections`` of them busy at once."""

    def __init__(self, client: Client, *, connections: int):
        self.client = client
        self.loop = asyncio.get_running_loop()
        parts = urllib.parse.urlsplit(client.query_url)
        self._address = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self._host = parts.netloc.rpartition("@")[2]
        self._idle: list[_Exchange] = []
        self._slots = asyncio.Semaphore(connections)

    async def send(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[str, bytes]:
        """(media type, body) of a POST of ``body`` to ``url`` (the client's query URL)."""
        parts = urllib.parse.urlsplit(url)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        if self.client.authorization:
            headers = {**headers, "Authorization": self.client.authorization}
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (f"POST {target} HTTP/1.1\r\nHost: {self._host}\r\n{head}Content-Length: {len(body)}\r\n\r\n"
                   .encode("latin-1") + body)
        async with self._slots:
            for attempt in (0, 1):
                exchange = self._kept()
                kept, done = exchange is not None, False
                try:
                    if exchange is None:
                        exchange = await self._connect(url)
                    status, reason, media, answer, keep = await exchange.send(request, self.client.timeout)
                    done = True
                except TimeoutError:
                    raise self.client.no_answer(url) from None
                except ConnectionError as exc:
                    if kept and not exchange.heard and attempt == 0:
                        continue  # a kept-alive connection the engine had closed: once more, on a new one
                    raise self.client.broke_off(url, exc) from None
                finally:
                    if exchange is not None and not done:
                        exchange.close()  # cut, timed out or cancelled: it cannot carry the next request
                if keep and not exchange.closed:
                    self._idle.append(exchange)
                else:
                    exchange.close()
                return self.client.answered(status, reason, media, answer, url)
        raise AssertionError("unreachable")

    def _kept(self) -> _Exchange | None:
        """An idle connection the engine has not closed meanwhile, if there is one."""
        while self._idle:
            exchange = self._idle.pop()
            if not exchange.closed:
                return exchange
        return None

    async def _connect(self, url: str) -> _Exchange:
        try:
            async with asyncio.timeout(self.client.timeout):
                _, exchange = await asyncio.get_running_loop().create_connection(
                    _Exchange, *self._address, ssl=self._ssl)
        except TimeoutError:
            raise self.client.no_answer(url) from None
        except OSError as exc:
            raise self.client.unreachable(url, exc) from None
        return exchange


__all__ = ["LoopQueries"]
