"""/geocode: free-text Japanese addresses → ABR 町字 (and 街区/住居) with a representative point.

GET ``?address=…`` answers one address (a GeoJSON Feature, or CSV); POST a batch (CSV with an
``address`` column, JSON lines, a JSON array, or one address a line) for a FeatureCollection or
CSV. The work runs in the query path (:meth:`kg.server.handler.RequestHandler.geocode`), whose
index is built once per served generation. Every limit is a setting: ``KG_GEOCODE_MAX_BATCH``,
``KG_GEOCODE_MAX_LENGTH``, ``KG_GEOCODE_TIMEOUT``, and ``KG_MAX_BODY`` for the body.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, render_template, request

from kg.errors import KGError, NotAcceptable
from kg.geocode.formats import BatchError, kind_of, read_batch

bp = Blueprint("geocode", __name__)

_FORMATS = {"geojson": "geojson", "json": "geojson", "csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "html": "html"}
_BY_MEDIA = [("application/geo+json", "geojson"), ("application/json", "geojson"), ("text/csv", "csv"),
             ("application/x-ndjson", "jsonl"), ("text/html", "html")]


def _format(single: bool) -> str:
    """The answer's format: ``format`` parameter, else Accept (GeoJSON when anything goes)."""
    wanted = request.args.get("format")
    if wanted:
        if wanted not in _FORMATS:
            raise KGError(f"unknown format {wanted!r}; one of: geojson, csv, jsonl" + (", html" if single else ""))
        return _FORMATS[wanted]
    accept = request.accept_mimetypes
    if not accept or accept.best in (None, "*/*"):
        return "geojson"
    offered = [m for m, f in _BY_MEDIA if single or f != "html"]
    best = accept.best_match(offered)
    if best is None:
        raise NotAcceptable("none of the requested types is available; offered: " + ", ".join(offered))
    return dict(_BY_MEDIA)[best]


def _run(addresses: list[tuple[str | None, str]], fmt: str, single: bool):
    settings = current_app.config["KG_SETTINGS"]
    executor = current_app.extensions["kg_executor"]
    return executor.run({"kind": "geocode", "addresses": addresses, "format": fmt, "single": single},
                        timeout=settings.geocode_timeout)


def _response(answer, single: bool) -> Response:
    status = 404 if single and answer.headers.get("X-KG-Not-Loaded") else 200
    headers = {"Vary": "Accept"}
    if answer.headers.get("X-KG-Generation"):
        headers["X-KG-Generation"] = answer.headers["X-KG-Generation"]
    content_type = answer.media_type + ("; charset=utf-8" if answer.media_type.startswith("text/") else "")
    return Response(answer.body, status, content_type=content_type, headers=headers)


@bp.get("/geocode")
def geocode_one() -> Response:
    settings = current_app.config["KG_SETTINGS"]
    address = request.args.get("address")
    fmt = _format(single=True)
    if address is None or not address.strip():
        if fmt == "html":
            return Response(render_template("geocode.html", address="", result=None,
                                            max_batch=settings.geocode_max_batch), 200, mimetype="text/html")
        raise BatchError("give an address: /geocode?address=東京都文京区白山1-1-1 (or POST a batch)")
    if len(address) > settings.geocode_max_length:
        raise BatchError(f"address longer than {settings.geocode_max_length} characters (KG_GEOCODE_MAX_LENGTH)")
    if fmt == "html":
        answer = _run([(None, address)], "geojson", True)
        result = json.loads(answer.body)
        minter = current_app.config["KG_MINTER"]
        for key, value in list(result["properties"].items()):   # links to this server's pages
            if key.endswith("_iri") and value:
                result["properties"][key] = minter.local_path(value) or value
        return Response(render_template("geocode.html", address=address, result=result,
                                        max_batch=settings.geocode_max_batch),
                        404 if answer.headers.get("X-KG-Not-Loaded") else 200, mimetype="text/html")
    return _response(_run([(None, address)], fmt, True), True)


@bp.post("/geocode")
def geocode_batch() -> Response:
    settings = current_app.config["KG_SETTINGS"]
    fmt = _format(single=False)
    try:
        text = request.get_data(cache=False).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BatchError(f"body: not UTF-8 (byte {exc.start})") from None
    addresses = read_batch(text, kind_of(request.content_type), max_batch=settings.geocode_max_batch)
    return _response(_run(addresses, fmt, False), False)
