"""The bridge between uvicorn's ASGI interface and our WSGI app: a request's body before the app.

Why a bridge and not a WSGI server (measured here, granian 2.8's WSGI interface): a WSGI app
reads its body in a blocking thread, so 16 clients that promise ``Content-Length: 1000`` and send
5 bytes held every thread of both workers and every other client timed out. Here the body is
read by the event loop, where a slow client holds a coroutine, not a thread:

* the body must arrive within ``KG_BODY_TIMEOUT`` seconds (else 408) and stay under
  ``KG_MAX_BODY`` (else 413, decided from Content-Length before reading, or as a chunked body
  passes the limit);
* one client address may have at most ``KG_CLIENT_REQUESTS`` requests in progress at once (else
  503 with Retry-After), so no single client can hold every worker thread;
* only then does the WSGI app run, in a thread pool of ``KG_QUERY_THREADS`` threads.

What a connection may cost before its request's headers are in (idle time, header time and size,
connections per address) is :mod:`kg.server.connections`'.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import io
import sys
import threading
from collections import Counter
from typing import Callable

from kg.errors import ProtocolError
from kg.server.body import too_large
from kg.server.headers import CORS_HEADERS, SECURITY_HEADERS
from kg.server.protocol import FORM, QUERY_BODY, answer_query_async, endpoint_iri, media_type, parse_request


#: the security and CORS headers of every answer, encoded once (keyed by their lower-case name)
_FIXED_HEADERS = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                  for k, v in {**SECURITY_HEADERS, **CORS_HEADERS}.items()]


class WsgiBridge:
    """An ASGI application that serves a WSGI application under the limits above."""

    def __init__(self, wsgi_app: Callable, *, max_body: int, body_timeout: float, client_requests: int,
                 threads: int, retry_after: int, stack_size: int | None = None, executor=None):
        self.app = wsgi_app
        self.executor = executor
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.client_requests = client_requests
        self.retry_after = retry_after
        if stack_size:
            threading.stack_size(stack_size)
        self.pool = cf.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kg-wsgi")
        self.active: Counter[str] = Counter()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        client = (scope.get("client") or ("?", 0))[0]
        if self.active[client] >= self.client_requests:
            await _plain(send, 503, f"too many requests in progress from {client} (KG_CLIENT_REQUESTS)",
                         {"Retry-After": str(self.retry_after)})
            return
        self.active[client] += 1
        try:
            body = await self._body(scope, receive, send)
            if body is None:
                return
            if self.executor is not None and scope["path"] == "/sparql" and await self._query(scope, body, send):
                return
            loop = asyncio.get_running_loop()
            status, headers, chunks = await loop.run_in_executor(self.pool, self._call, scope, body)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b"".join(chunks)})
        finally:
            self.active[client] -= 1
            if not self.active[client]:
                del self.active[client]

    async def _body(self, scope: dict, receive: Callable, send: Callable) -> bytes | None:
        """The whole body, or None when a 408/413 was already sent."""
        length = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    await _plain(send, 400, "malformed Content-Length")
                    return None
        if length is not None and length > self.max_body:
            await _plain(send, 413, too_large(self.max_body))
            return None
        if length == 0 or (length is None and scope["method"] in ("GET", "HEAD", "OPTIONS")):
            return b""  # nothing to wait for
        parts, size = [], 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body:
                        await _plain(send, 413, too_large(self.max_body))
                        return None
                    parts.append(chunk)
                    if not message.get("more_body"):
                        break
        except TimeoutError:
            await _plain(send, 408, f"the request body did not arrive within {self.body_timeout:g} s (KG_BODY_TIMEOUT)",
                         {"Connection": "close"})
            return None
        return b"".join(parts)

    async def _query(self, scope: dict, body: bytes, send: Callable) -> bool:
        """Answer a plain protocol query on the event loop (the query itself runs in the
        executor's threads: one hop, where Flask would add a second); False for anything else
        (the UI, the service description, updates), which goes to the WSGI app."""
        method = scope["method"]
        query_string = scope.get("query_string", b"").decode("latin-1")
        content_type = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"content-type"), None)
        if method == "GET":
            if "query=" not in query_string:
                return False
        elif method != "POST" or media_type(content_type)[0] not in (FORM, QUERY_BODY):
            return False
        try:
            req = parse_request(method, query_string, content_type, body)
        except ProtocolError as exc:
            await _plain(send, exc.status, str(exc))
            return True
        if req.query is None:
            return False
        headers = dict(scope.get("headers", ()))
        accept = headers.get(b"accept", b"").decode("latin-1") or None
        base_iri = endpoint_iri(scope.get("scheme", "http"), headers.get(b"host", b"localhost").decode("latin-1"),
                                scope.get("root_path", ""))
        status, answer_headers, payload = await answer_query_async(self.executor, req, accept, base_iri,
                                                                   retry_after=self.retry_after)
        own = [(k.lower().encode("latin-1"), v.encode("latin-1"))
               for k, v in {**answer_headers, "Content-Length": str(len(payload))}.items()]
        names = {k for k, _ in own}  # an answer's own header wins over a fixed one of that name
        await send({"type": "http.response.start", "status": status,
                    "headers": [*(h for h in _FIXED_HEADERS if h[0] not in names), *own]})
        await send({"type": "http.response.body", "body": payload})
        return True

    def _call(self, scope: dict, body: bytes) -> tuple[int, list, list[bytes]]:
        """Run the WSGI app on one request (in a pool thread)."""
        environ = _environ(scope, body)
        started: list = []

        def start_response(status: str, headers: list, exc_info=None):
            started[:] = [int(status.split(" ", 1)[0]), headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        result = self.app(environ, start_response)
        try:
            for data in result:
                if data:
                    chunks.append(data)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        return status, [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers], chunks


def _environ(scope: dict, body: bytes) -> dict:
    """The WSGI environ of an ASGI HTTP scope (PEP 3333 from the ASGI HTTP spec)."""
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "REMOTE_ADDR": str(client[0]),
        "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope.get("headers", ()):
        key = name.decode("latin-1").upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value.decode("latin-1")
        elif key != "CONTENT_LENGTH":
            key = "HTTP_" + key
            text = value.decode("latin-1")
            environ[key] = f"{environ[key]},{text}" if key in environ else text
    return environ


async def _plain(send: Callable, status: int, message: str, extra: dict[str, str] | None = None) -> None:
    body = (message + "\n").encode("utf-8")
    headers = {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body)),
               **SECURITY_HEADERS, **CORS_HEADERS, **(extra or {})}
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]})
    await send({"type": "http.response.body", "body": body})


__all__ = ["WsgiBridge"]
