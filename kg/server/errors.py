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

TITLES = {400: "不正な要求 / Bad request", 404: "見つかりません / Not found", 406: "形式がありません / Not acceptable",
          503: "混雑しています / Service unavailable"}


def _wants_html() -> bool:
    return request.path.startswith(("/doc/", "/id/", "/def/")) and request.accept_mimetypes.accept_html


def error_response(exc: KGError) -> Response:
    status = exc.status
    headers = {"Retry-After": str(current_app.config["KG_SETTINGS"].retry_after)} if status == 503 else {}
    message = str(exc)
    if _wants_html():
        title = "不正な識別子 / Malformed identifier" if isinstance(exc, MalformedIdentifier) else TITLES.get(status, "Error")
        return Response(render_template("problem.html", title=title, message=message), status, headers=headers,
                        mimetype="text/html")
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
        return exc
    request_id, text = internal_error_text(exc)
    return Response(text, 500, mimetype="text/plain", headers={"X-Request-Id": request_id})


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(KGError, error_response)
    app.register_error_handler(Exception, bug_response)

    @app.errorhandler(413)
    def too_large(_error) -> Response:
        limit = current_app.config["KG_SETTINGS"].max_body
        return Response(too_large_message(limit) + "\n", 413, mimetype="text/plain")
