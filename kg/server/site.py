"""Home and health pages (the linked-data pages come with the pages issue)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

bp = Blueprint("site", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    from kg.server.executor import ServiceBusy

    executor = current_app.extensions["kg_executor"]
    try:
        answer = executor.run({"kind": "ping"}, timeout=5)
    except ServiceBusy as exc:
        return Response(f"busy: {exc}\n", 503, mimetype="text/plain")
    generation = answer.headers.get("X-KG-Generation") or "none (nothing loaded)"
    return Response(f"ok\ngeneration: {generation}\n", 200, mimetype="text/plain")


@bp.get("/")
def home():
    from kg.examples import EXAMPLES

    return render_template("home.html", examples=EXAMPLES[:6])
