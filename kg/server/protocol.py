"""The SPARQL 1.1 Protocol's query operation, free of any web framework.

One implementation serves both the Flask view (``/sparql`` with its UI, service description and
update) and :mod:`kg.server.fastpath`, which answers plain queries straight from the WSGI environ:
at thousands of requests per second, Flask's request and response objects cost more than the
query itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from kg.errors import KGError, ProtocolError
from kg.server.formats import with_charset

FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"
DOWNLOAD_SUFFIXES = ("csv", "tsv", "json", "xml", "ttl", "nt", "jsonld", "rdf")


@dataclass
class SparqlRequest:
    params: dict[str, list[str]] = field(default_factory=dict)
    query: str | None = None
    update: str | None = None

    def first(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """``'text/plain; charset=UTF-8'`` → ``('text/plain', {'charset': 'UTF-8'})``."""
    if not content_type:
        return "", {}
    main, *rest = content_type.split(";")
    params = {}
    for item in rest:
        name, _, value = item.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return main.strip().lower(), params


_RAW = re.compile(rb"[\x80-\xff]")


def _form(data: bytes, where: str) -> dict[str, list[str]]:
    """``application/x-www-form-urlencoded`` data, decoded as strict UTF-8 (raw bytes and
    percent-escapes alike): a query with bytes that are not UTF-8 is refused, not run with
    U+FFFD in it.

    >>> _form(b"query=%E5%9B%BD&x", "q")
    {'query': ['国'], 'x': ['']}
    """
    text = _RAW.sub(lambda m: b"%%%02X" % m.group()[0], data).decode("ascii")
    try:
        return parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ProtocolError(400, f"{where} is not valid UTF-8 (percent-encode the query's UTF-8 bytes)") from None


def parse_request(method: str, query_string: str, content_type: str | None, body: bytes) -> SparqlRequest:
    """The parameters, query and update of a protocol request (URL, form body or direct body)."""
    params = _form(query_string.encode("latin-1", "replace"), "the URL's query string") if query_string else {}
    query = update = None
    if method == "POST":
        ctype, ctype_params = media_type(content_type)
        charset = (ctype_params.get("charset") or "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise ProtocolError(415, f"request bodies must be UTF-8, not {charset}")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(400, "request body is not valid UTF-8") from None
        if ctype == FORM:
            for k, v in _form(body, "the form body").items():
                params.setdefault(k, []).extend(v)
        elif ctype == QUERY_BODY:
            query = text
        elif ctype == UPDATE_BODY:
            update = text
        else:
            raise ProtocolError(415, f"unsupported content type {ctype!r}: use {FORM}, {QUERY_BODY} or {UPDATE_BODY}")
    for name in ("query", "update"):
        if len(params.get(name, [])) > 1:
            raise ProtocolError(400, f"more than one {name!r} parameter")
    if params.get("query"):
        if query is not None or update is not None:
            raise ProtocolError(400, "a query given both as a parameter and as the body")
        query = params["query"][0]
    if params.get("update"):
        if method != "POST":
            raise ProtocolError(400, "updates must be sent with POST")
        if update is not None or query is not None:
            raise ProtocolError(400, "both a query and an update in one request")
        update = params["update"][0]
    if query is not None and update is not None:
        raise ProtocolError(400, "both a query and an update in one request")
    return SparqlRequest(params, query, update)


def text_answer(status: int, message: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "text/plain; charset=utf-8", **headers}, (message.rstrip("\n") + "\n").encode("utf-8")


def error_answer(exc: KGError, retry_after: int) -> tuple[int, dict[str, str], bytes]:
    """A project error as plain text with its one status (the same the Flask handler gives)."""
    message = str(exc)
    if exc.status == 400 and not isinstance(exc, ProtocolError):
        message = f"malformed or unsupported query: {message}"
    headers = {"Retry-After": str(retry_after)} if exc.status == 503 else {}
    return text_answer(exc.status, message, **headers)


def endpoint_iri(scheme: str, host: str, root: str = "") -> str:
    """The base IRI that relative IRIs in a query resolve against: this request's endpoint."""
    return f"{scheme}://{host}{root}/sparql"


def query_request(req: SparqlRequest, accept: str | None, base_iri: str) -> dict:
    """The request a :class:`~kg.server.handler.RequestHandler` answers for a protocol query."""
    return {"kind": "query", "query": req.query, "accept": accept, "format": req.first("format") or req.first("output"),
            "base_iri": base_iri, "default_graphs": req.params.get("default-graph-uri", []),
            "named_graphs": req.params.get("named-graph-uri", [])}


def query_response(req: SparqlRequest, answer) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a query's answer."""
    fmt = req.first("format") or req.first("output")
    headers = {"Content-Type": with_charset(answer.media_type), **answer.headers, "Vary": "Accept"}
    if fmt in DOWNLOAD_SUFFIXES and req.params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="results.{fmt}"'
    return 200, headers, answer.body


def answer_query(executor, req: SparqlRequest, accept: str | None, base_iri: str, *,
                 retry_after: int = 5) -> tuple[int, dict[str, str], bytes]:
    """Run a protocol query; (status, headers, body), errors included as plain-text answers."""
    try:
        answer = executor.run(query_request(req, accept, base_iri))
    except KGError as exc:
        return error_answer(exc, retry_after)
    return query_response(req, answer)


async def answer_query_async(executor, req: SparqlRequest, accept: str | None, base_iri: str, *,
                             retry_after: int = 5) -> tuple[int, dict[str, str], bytes]:
    """:func:`answer_query` for an event loop: the query runs in the executor's threads."""
    try:
        answer = await executor.run_async(query_request(req, accept, base_iri))
    except KGError as exc:
        return error_answer(exc, retry_after)
    return query_response(req, answer)
