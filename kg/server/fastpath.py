"""Plain SPARQL queries answered straight from the WSGI environ, before Flask.

A one-entity SELECT takes pyoxigraph about 0.13 ms; Flask's request context, routing, response
object and after-request hooks took longer than that. This middleware answers ``/sparql``
requests that carry a query through :func:`kg.server.protocol.answer_query` (the same code the
Flask view uses) and hands everything else -- the UI, the service description, updates,
``OPTIONS`` -- to Flask, with the body it had to read put back.
"""

from __future__ import annotations

import io
from http import HTTPStatus
from typing import Callable, Iterable

from kg.errors import KGError, ProtocolError
from kg.server.body import read_body
from kg.server.errors import internal_error_text
from kg.server.headers import CORS_HEADERS, SECURITY_HEADERS
from kg.server.protocol import FORM, QUERY_BODY, answer_query, endpoint_iri, media_type, parse_request, text_answer

class SparqlFastPath:
    def __init__(self, app: Callable, *, executor, max_body: int, retry_after: int = 5):
        self.app = app
        self.retry_after = retry_after
        self.executor = executor
        self.max_body = max_body
        self.extra = [*SECURITY_HEADERS.items(), *CORS_HEADERS.items()]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/sparql":
            return self.app(environ, start_response)
        try:
            return self._sparql(environ, start_response)
        except Exception as exc:  # our bug: a 500 that says so, with an id to find it in the log
            request_id, text = internal_error_text(exc)
            return self._respond(start_response, 500, {"Content-Type": "text/plain; charset=utf-8",
                                                       "X-Request-Id": request_id}, text.encode())

    def _sparql(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        body = b""
        if method == "GET":
            if "query=" not in environ.get("QUERY_STRING", ""):
                return self.app(environ, start_response)
        elif method == "POST":
            if media_type(environ.get("CONTENT_TYPE"))[0] not in (FORM, QUERY_BODY):
                return self.app(environ, start_response)
            try:
                body = read_body(environ, self.max_body)
            except KGError as exc:
                return self._respond(start_response, *text_answer(exc.status, str(exc)))
            # whatever Flask gets next reads the body from here, with its true length
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        else:
            return self.app(environ, start_response)
        try:
            req = parse_request(method, environ.get("QUERY_STRING", ""), environ.get("CONTENT_TYPE"), body)
        except ProtocolError as p:
            return self._respond(start_response, *text_answer(p.status, str(p)))
        if req.query is None:  # an update or nothing: Flask's view says what to do
            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        base_iri = endpoint_iri(environ.get("wsgi.url_scheme", "http"), host, environ.get("SCRIPT_NAME", ""))
        return self._respond(start_response, *answer_query(self.executor, req, environ.get("HTTP_ACCEPT"), base_iri,
                                                                  retry_after=self.retry_after))

    def _respond(self, start_response: Callable, status: int, headers: dict[str, str], body: bytes) -> list[bytes]:
        out = [*headers.items(), ("Content-Length", str(len(body)))]
        out += [(k, v) for k, v in self.extra if k not in headers]
        start_response(f"{status} {HTTPStatus(status).phrase}", out)
        return [body]
