"""The change feed, ``/changes/``: what each generation added and removed, as Activity Streams 2.0.

* ``/changes/`` -- an ``OrderedCollection`` of every kept change, oldest first;
* ``/changes/page/{n}`` -- an ``OrderedCollectionPage`` of generations ``(n-1)*size+1 … n*size``
  (``KG_CHANGES_PAGE_SIZE``), so a page's address does not move when old changes are pruned;
* ``/changes/gen-000007`` -- one change, an ``Update`` activity: time, dataset, counts per graph,
  the entities touched, and ``Link``\\ s to ``added.nq.gz``, ``removed.nq.gz``, ``entities.txt.gz``;
* ``/changes/activitystreams.jsonld`` -- the AS2 context, served here so nothing is fetched from
  the internet to read the feed as JSON-LD.

A client holding generation N removes ``removed`` and adds ``added`` of N+1 … current, in order,
and holds the current content. A change recorded as ``recorded: false`` (a SPARQL Update) cannot be
replayed: the client starts again from a dump (``/dumps/``).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request, send_from_directory

from kg.errors import ChangeGone, ChangeNotFound
from kg.resources import package_dir
from kg.store import open_home
from kg.store.changelog import ENTITIES, ChangeLog, generation_number

bp = Blueprint("changes", __name__)

AS2 = "https://www.w3.org/ns/activitystreams"
MEDIA_TYPE = f'application/ld+json; profile="{AS2}"'
FILES = {"added.nq.gz": "application/n-quads", "removed.nq.gz": "application/n-quads",
         ENTITIES: "text/plain; charset=utf-8"}


def _context() -> list:
    """AS2 plus our few terms (``{base}def/``)."""
    kg = current_app.config["KG_MINTER"].def_
    count = {"@type": "xsd:nonNegativeInteger"}
    return [AS2, {
        "kg": kg,
        "generation": "kg:generation", "previousGeneration": "kg:previousGeneration",
        "currentGeneration": "kg:currentGeneration", "oldestGeneration": "kg:oldestGeneration",
        "recorded": {"@id": "kg:changeRecorded", "@type": "xsd:boolean"},
        "dataset": {"@id": "kg:changedDataset", "@type": "@id"},
        "load": {"@id": "kg:changedBy", "@type": "@id"},
        "quadsAdded": {"@id": "kg:quadsAdded", **count}, "quadsRemoved": {"@id": "kg:quadsRemoved", **count},
        "entitiesTouched": {"@id": "kg:entitiesTouched", **count},
        "entity": {"@id": "kg:entityTouched", "@type": "@id"},
        "graphChanges": {"@id": "kg:graphChange"}, "GraphChange": "kg:GraphChange",
        "graph": {"@id": "kg:graph", "@type": "@id"},
        "retention": {"@id": "kg:retainedGenerations", **count},
    }]


def _state() -> tuple[ChangeLog, str | None, list[str]]:
    settings = current_app.config["KG_SETTINGS"]
    current = open_home(settings.data_path, create=False).current_name()
    log = ChangeLog(settings.data_path)
    return log, current, log.generations(current)


def _json(doc: dict) -> Response:
    body = json.dumps(doc, ensure_ascii=False, indent=1)
    return Response(body, 200, content_type=MEDIA_TYPE, headers={"Cache-Control": "no-cache"})


def _page_of(name: str) -> int:
    return (generation_number(name) - 1) // current_app.config["KG_SETTINGS"].changes_page_size + 1  # type: ignore[operator]


def _root() -> str:
    return request.url_root + "changes/"


@bp.get("/changes/")
def collection() -> Response:
    settings = current_app.config["KG_SETTINGS"]
    _, current, generations = _state()
    doc = {"@context": _context(), "id": _root(), "type": "OrderedCollection",
           "name": "変更フィード / Change feed",
           "summary": "What each generation of the graph added and removed, oldest first. Holding generation N, "
                      "apply the changes after N in order (remove removed.nq.gz, add added.nq.gz) to hold the current "
                      "one; a change with recorded=false cannot be replayed: start again from a dump.",
           "totalItems": len(generations), "retention": settings.changes_retention}
    if current:
        doc["currentGeneration"] = current
    if generations:
        doc.update(oldestGeneration=generations[0], first=f"{_root()}page/{_page_of(generations[0])}",
                   last=f"{_root()}page/{_page_of(generations[-1])}", current=f"{_root()}page/{_page_of(generations[-1])}")
    return _json(doc)


@bp.get("/changes/page/<int:number>")
def page(number: int) -> Response:
    size = current_app.config["KG_SETTINGS"].changes_page_size
    log, current, generations = _state()
    if not generations or number < 1 or number > _page_of(generations[-1]):
        raise ChangeNotFound(f"no page {number} in the change feed (it has {_page_of(generations[-1]) if generations else 0})")
    first, last = _page_of(generations[0]), _page_of(generations[-1])
    if number < first:
        raise ChangeGone(f"page {number} of the change feed was pruned (KG_CHANGES_RETENTION); the oldest is page "
                         f"{first}: start again from a dump")
    low, high = (number - 1) * size + 1, number * size
    names = [g for g in generations if low <= generation_number(g) <= high]  # type: ignore[operator]
    start = generations.index(names[0]) if names else 0
    doc = {"@context": _context(), "id": f"{_root()}page/{number}", "type": "OrderedCollectionPage",
           "partOf": _root(), "startIndex": start,
           "orderedItems": [_activity(log, log.record(g, current) or {}, entities=False) for g in names]}
    if number > first:
        doc["prev"] = f"{_root()}page/{number - 1}"
    if number < last:
        doc["next"] = f"{_root()}page/{number + 1}"
    return _json(doc)


@bp.get("/changes/activitystreams.jsonld")
def as2_context() -> Response:
    return send_from_directory(package_dir("web") / "static", "activitystreams.jsonld", mimetype="application/ld+json")


def _record(name: str) -> tuple[ChangeLog, dict]:
    log, current, generations = _state()
    number = generation_number(name)
    if number is None:
        raise ChangeNotFound(f"{name!r} is not a generation (gen- and six digits, e.g. gen-000007)")
    record = log.record(name, current)
    if record is None:
        if generations and number < generation_number(generations[0]):  # type: ignore[operator]
            raise ChangeGone(f"the change of {name} was pruned (KG_CHANGES_RETENTION); the oldest kept is "
                             f"{generations[0]}: start again from a dump")
        raise ChangeNotFound(f"no change recorded for {name} (current generation: {current or 'none'})")
    return log, record


@bp.get("/changes/<name>")
def change(name: str) -> Response:
    log, record = _record(name)
    doc = _activity(log, record, entities=True)
    doc["@context"] = _context()
    return _json(dict(sorted(doc.items(), key=lambda kv: kv[0] != "@context")))


@bp.get("/changes/<name>/<filename>")
def change_file(name: str, filename: str) -> Response:
    log, record = _record(name)
    if filename not in FILES or not log.file(name, filename).exists():
        raise ChangeNotFound(f"{name} has no file {filename!r} (its files: {', '.join(FILES) if record['recorded'] else 'none'})")
    response = send_from_directory(log.file(name, filename).parent, filename, mimetype=FILES[filename])
    response.headers["Content-Encoding"] = "gzip"
    return response


def _activity(log: ChangeLog, record: dict, *, entities: bool) -> dict:
    """One generation's change as an AS2 ``Update`` (with the entities it touched when ``entities``)."""
    name = record["generation"]
    url = f"{_root()}{name}"
    out: dict = {"id": url, "type": "Update", "published": record["published"], "generation": name,
                 "recorded": record["recorded"]}
    if record.get("previous"):
        out["previousGeneration"] = record["previous"]
    if record.get("dataset"):
        out["dataset"] = record["dataset"]
    if record.get("load"):
        out["load"] = record["load"]
    if not record["recorded"]:
        out["summary"] = (f"{name}: made by a {record['kind']}, whose difference is not recorded: a client holding an "
                          f"older generation starts again from a dump")
        return out
    graphs = record["graphs"]
    out.update(
        summary=f"{name}: {record['kind']} of {(record.get('dataset') or '').rsplit('/', 1)[-1] or 'the graph'}: "
                f"{record['added']:,} quads added, {record['removed']:,} removed, {record['entities']:,} entities",
        object=sorted(graphs), quadsAdded=record["added"], quadsRemoved=record["removed"],
        entitiesTouched=record["entities"],
        graphChanges=[{"type": "GraphChange", "graph": g, "quadsAdded": c["added"], "quadsRemoved": c["removed"]}
                      for g, c in sorted(graphs.items())],
        url=[{"type": "Link", "href": f"{url}/{f}", "rel": f.split(".", 1)[0], "mediaType": FILES[f].split(";")[0]}
             for f in FILES])
    if entities:
        out["entity"] = log.entities(name, current_app.config["KG_SETTINGS"].changes_entities)
    return out


def last_change_link(iri: str, current: str | None) -> dict | None:
    """The feed's newest change of an entity, for its page (None if no kept change touched it)."""
    settings = current_app.config["KG_SETTINGS"]
    if settings.changes_retention <= 0:
        return None
    log = ChangeLog(settings.data_path)
    name = log.last_change(iri, current)
    if name is None:
        return None
    record = log.record(name, current) or {}
    return {"href": f"/changes/{name}", "generation": name, "published": record.get("published", "")}

