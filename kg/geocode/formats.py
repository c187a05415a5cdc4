"""Batches in and answers out: CSV, JSON lines or plain lines in; GeoJSON or CSV out.

Input (the HTTP POST body and ``kg geocode``'s file or stdin):

* CSV (``text/csv``, ``.csv``): a header with a column ``address`` (or ``住所``); a column ``id``
  is echoed back;
* JSON lines (``application/x-ndjson``, ``application/jsonl``, ``.jsonl``/``.ndjson``): each line a
  JSON string, or an object with ``address`` (and ``id``);
* a JSON array (``application/json``) of such strings or objects;
* plain text (``text/plain``, anything else on the command line): one address a line.

A malformed batch is one :class:`BatchError` naming the line and what is wrong.

Output: a GeoJSON ``Feature`` per address (``FeatureCollection`` for a batch; RFC 7946 has no CRS
member, so the point's CRS IRI is the ``crs`` property: ABR points are JGD2011 EPSG:6668 or
JGD2000 EPSG:4612 longitude/latitude, kept as published), or CSV with one row per address.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable

from kg.errors import KGError
from kg.geocode.matcher import Geocoded

#: the CSV answer's columns, in order
COLUMNS = ("id", "input", "level", "prefecture", "prefecture_code", "municipality", "municipality_code", "town",
           "machiaza_id", "block", "residence", "lon", "lat", "crs", "point_level", "postcode", "remainder",
           "skipped", "iri", "error")

MEDIA_TYPES = {"geojson": "application/geo+json", "json": "application/geo+json", "csv": "text/csv",
               "jsonl": "application/x-ndjson"}


class BatchError(KGError):
    """A batch that cannot be read (400): names the line and the reason."""

    status = 400


class BatchTooLarge(BatchError):
    """More addresses than one batch may hold (KG_GEOCODE_MAX_BATCH)."""

    status = 413


def read_batch(data: str, kind: str, *, max_batch: int, source: str = "body") -> list[tuple[str | None, str]]:
    """(id or None, address) of every address in a batch; ``kind`` is csv, jsonl, json or lines."""
    if kind == "csv":
        items = _csv(data, source)
    elif kind == "jsonl":
        items = _jsonl(data, source)
    elif kind == "json":
        items = _json_array(data, source)
    else:
        items = [(None, line.strip()) for line in data.splitlines() if line.strip()]
    if not items:
        raise BatchError(f"{source}: no address in the batch")
    if len(items) > max_batch:
        raise BatchTooLarge(f"{source}: {len(items):,} addresses, more than the {max_batch:,} a batch may hold "
                            "(KG_GEOCODE_MAX_BATCH)")
    return items


def kind_of(media_type: str | None, name: str | None = None) -> str:
    """The batch kind of a Content-Type or a file name."""
    media = (media_type or "").split(";")[0].strip().lower()
    if media in ("text/csv", "application/csv") or (name or "").lower().endswith(".csv"):
        return "csv"
    if media in ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines",
                 "application/jsonlines") or (name or "").lower().endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if media == "application/json" or (name or "").lower().endswith(".json"):
        return "json"
    return "lines"


def _csv(data: str, source: str) -> list[tuple[str | None, str]]:
    rows = csv.reader(io.StringIO(data.lstrip("\ufeff")))
    try:
        header = next(rows)
    except StopIteration:
        return []
    except csv.Error as exc:
        raise BatchError(f"{source}: line 1: not CSV ({exc})") from None
    names = [h.strip().lower() for h in header]
    column = next((names.index(n) for n in ("address", "住所") if n in names), None)
    if column is None:
        raise BatchError(f"{source}: line 1: the CSV header has no column 'address' (or '住所'); it has: "
                         + ", ".join(h.strip() for h in header[:8]))
    ident = names.index("id") if "id" in names else None
    out = []
    try:
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= column:
                raise BatchError(f"{source}: line {rows.line_num}: {len(row)} columns, the address is column "
                                 f"{column + 1}")
            out.append((row[ident] if ident is not None and ident < len(row) else None, row[column]))
    except csv.Error as exc:
        raise BatchError(f"{source}: line {rows.line_num}: not CSV ({exc})") from None
    return out


def _item(value, where: str) -> tuple[str | None, str]:
    if isinstance(value, str):
        return None, value
    if isinstance(value, dict) and isinstance(value.get("address"), str):
        ident = value.get("id")
        return (None if ident is None else str(ident)), value["address"]
    raise BatchError(f"{where}: expected a string or an object with a string \"address\"")


def _jsonl(data: str, source: str) -> list[tuple[str | None, str]]:
    out = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise BatchError(f"{source}: line {number}: not JSON ({exc.args[0] if exc.args else exc})") from None
        out.append(_item(value, f"{source}: line {number}"))
    return out


def _json_array(data: str, source: str) -> list[tuple[str | None, str]]:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise BatchError(f"{source}: not JSON ({exc.args[0] if exc.args else exc})") from None
    if not isinstance(value, list):
        raise BatchError(f"{source}: expected a JSON array of addresses (or send JSON lines)")
    return [_item(v, f"{source}: item {i}") for i, v in enumerate(value, 1)]


# ---- answers ----------------------------------------------------------------------------------

def properties(g: Geocoded) -> dict:
    """The answer as flat properties (GeoJSON ``properties``; the CSV row)."""
    pref, muni = g.prefecture, g.municipality
    return {
        "id": g.id, "input": g.input, "level": g.level,
        "prefecture": pref.name if pref else None, "prefecture_code": pref.code if pref else None,
        "prefecture_iri": pref.iri if pref else None, "prefecture_inferred": g.prefecture_inferred,
        "municipality": muni.name if muni else None, "municipality_code": muni.code if muni else None,
        "municipality_iri": muni.iri if muni else None,
        "town": g.town_label or None, "machiaza_id": g.machiaza_id or None, "town_iri": g.town,
        "block": g.block.number if g.block else None, "block_iri": g.block.iri if g.block else None,
        "residence": g.residence[0] if g.residence else None,
        "residence_iri": g.residence[1].iri if g.residence else None,
        "lon": g.point.lon if g.point else None, "lat": g.point.lat if g.point else None,
        "crs": g.point.crs if g.point else None, "point_level": g.point_level,
        "postcode": g.postcode, "remainder": g.remainder, "skipped": g.skipped or None,
        "iri": g.iri, "error": g.error,
        "candidates": [{"municipality": c.name, "municipality_code": c.code, "iri": c.iri} for c in g.candidates]
        or None,
    }


def feature(g: Geocoded) -> dict:
    geometry = {"type": "Point", "coordinates": [g.point.lon, g.point.lat]} if g.point else None
    return {"type": "Feature", "geometry": geometry, "properties": properties(g)}


def to_geojson(answers: Iterable[Geocoded], *, single: bool = False) -> bytes:
    answers = list(answers)
    value = feature(answers[0]) if single else {"type": "FeatureCollection", "features": [feature(a) for a in answers]}
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def to_jsonl(answers: Iterable[Geocoded]) -> bytes:
    return "".join(json.dumps(feature(a), ensure_ascii=False) + "\n" for a in answers).encode("utf-8")


def to_csv(answers: Iterable[Geocoded]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for a in answers:
        p = properties(a)
        writer.writerow(["" if p[c] is None else p[c] for c in COLUMNS])
    return out.getvalue().encode("utf-8")


def serialize(answers: list[Geocoded], fmt: str, *, single: bool = False) -> bytes:
    if fmt == "csv":
        return to_csv(answers)
    if fmt == "jsonl":
        return to_jsonl(answers)
    return to_geojson(answers, single=single)
