"""One error handler per exception: a project error (:mod:`kg.errors`) has one status everywhere.

HTML pages get the styled problem page; everything else (the endpoint, JSON, RDF) a plain-text
line. 503s say when to come back (``KG_RETRY_AFTER``).
"""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from kg.errors import KGError, MalformedIdentifier, ProtocolError
from kg.server.body import too_large as too_large_message

log = logging.getLogger("kg.server")

TITLES = {400: ("不正な要求", "Bad request"), 404: ("見つかりません", "Not found"),
          405: ("この方法は使えません", "Method not allowed"), 406: ("その形式では返せません", "Not acceptable"),
          503: ("混雑しています", "Service unavailable")}
#: what each status means, in Japanese, above the message (which may be the parser's English)
EXPLAIN = {400: "要求の形式が正しくありません。下の説明を確かめてください。",
           404: "お探しのページやデータは見つかりませんでした。名前や番号で検索できます。",
           405: "このアドレスはその HTTP メソッドに応じません。",
           406: "要求された形式 (Accept) では返せません。次の形式があります。",
           503: "ただいま混み合っているか、処理に時間がかかりすぎました。しばらくしてからもう一度お試しください。"}
#: paths whose answers are data for programs: their errors stay one plain-text line
PROGRAM_PATHS = ("/sparql", "/search.json", "/.well-known/", "/healthz")


def _wants_html() -> bool:
    """A person's browser: an entity page asked for with HTML acceptable, or any other page whose
    client prefers HTML to plain text (curl's */* gets the one-line text)."""
    if request.path.startswith(PROGRAM_PATHS) or request.path.endswith(".json"):
        return False
    accept = request.accept_mimetypes
    if request.path.startswith(("/doc/", "/id/", "/def/")):
        return accept.accept_html
    named = any(value == "text/html" for value, _ in accept)
    return named and accept.quality("text/html") >= accept.quality("text/plain")


def problem_page(status: int, message: str, title: tuple[str, str] | None = None, headers: dict | None = None) -> Response:
    """The styled, bilingual error page with a search box."""
    ja, en = title or TITLES.get(status, ("エラー", "Error"))
    q = request.args.get("q", "") if request.path.startswith("/search") else ""
    body = render_template("problem.html", status=status, title_ja=ja, title_en=en, explain=EXPLAIN.get(status, ""),
                           message=message, q=q)
    return Response(body, status, headers=headers or {}, mimetype="text/html")


def error_response(exc: KGError) -> Response:
    status = exc.status
    headers = {"Retry-After": str(current_app.config["KG_SETTINGS"].retry_after)} if status == 503 else {}
    message = str(exc)
    if _wants_html():
        title = ("不正な識別子", "Malformed identifier") if isinstance(exc, MalformedIdentifier) else None
        return problem_page(status, message, title, headers)
    if status == 400 and not isinstance(exc, (ProtocolError, MalformedIdentifier)) and request.path == "/sparql":
        message = f"malformed or unsupported update: {message}"
    return Response(message.rstrip("\n") + "\n", status, headers=headers, mimetype="text/plain")


def internal_error_text(exc: BaseException) -> tuple[str, str]:
    """(request id, the line a client sees) for one of our bugs; the traceback goes to the log."""
    request_id = uuid.uuid4().hex[:12]
    log.error("request %s failed", request_id, exc_info=exc)
    return request_id, f"internal error (request id {request_id}); the server logged it\n"


def bug_response(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):  # werkzeug's own 404, 405, ...: their status, our words
        status = exc.code or 500
        message = {404: f"{request.path} というページはありません。 (No page at this address.)",
                   405: f"{request.method} は {request.path} では使えません。 (Method not allowed here.)"}.get(
                       status, exc.description or exc.name)
        headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
        if _wants_html():
            return problem_page(status, message, headers=headers)
        return Response(message + "\n", status, mimetype="text/plain", headers=headers)
    request_id, text = internal_error_text(exc)
    return Response(text, 500, mimetype="text/plain", headers={"X-Request-Id": request_id})


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(KGError, error_response)
    app.register_error_handler(Exception, bug_response)

    @app.errorhandler(413)
    def too_large(_error) -> Response:
        limit = current_app.config["KG_SETTINGS"].max_body
        return Response(too_large_message(limit) + "\n", 413, mimetype="text/plain")
