"""The dataset catalogue: /datasets for people, /.well-known/void for machines, /dumps/ files,
and what makes them checkable: the load journal (/journal.jsonl), the signatures (``.asc``) and
the signing key's public half (/.well-known/kg-signing-key.asc)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request, send_from_directory

from kg.errors import KGError
from kg.rdf import DCAT, DCTERMS, IRI, RDF, VOID, XSD, Literal, integer
from kg.server.formats import PAGE_RDF, by_name, negotiate, with_charset
from kg.server.present import japanese_datetime
from kg.store import parse, serialize
from kg.trust.journal import NAME as JOURNAL, Journal, JournalError, check_chain
from kg.trust.openpgp import public_key, sign_bytes
from kg.trust.publish import MANIFEST, PUBLIC_KEY, SUMS

bp = Blueprint("catalog", __name__)

#: the catalogue in RDF, in the server's order (Turtle first); /datasets offers HTML before them
RDF_OFFER = [by_name(n) for n in PAGE_RDF]


def _dumps_dir():
    return current_app.config["KG_SETTINGS"].data_path / "dumps"


def _meta_triples() -> list:
    """The metadata graph, with a ``void:dataDump`` for each dataset whose dump exists."""
    minter = current_app.config["KG_MINTER"]
    q = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{minter.graph('meta')}> {{ ?s ?p ?o }} }}"
    answer = current_app.extensions["kg_executor"].run({"kind": "query", "query": q, "accept": "application/n-triples"},
                                                       timeout=current_app.config["KG_SETTINGS"].page_timeout)
    triples = [(q.subject, q.predicate, q.object) for q in parse(answer.body, "ntriples")]
    dumps = _dumps_dir()
    base = request.url_root
    for s, p, _ in list(triples):
        if p == VOID.triples and isinstance(s, IRI):
            name = s.rstrip("/").rsplit("/", 1)[-1]
            if (dumps / f"{name}.nq.gz").exists():
                triples.append((s, VOID.dataDump, IRI(f"{base}dumps/{name}.nq.gz")))
    return triples + _journal_triples(base)


def _settings():
    return current_app.config["KG_SETTINGS"]


def _journal_triples(base: str) -> list:
    """The load journal in the catalogue: where it is, how long, its head, its signature."""
    minter = current_app.config["KG_MINTER"]
    head = Journal.of(_settings().data_path).head()
    if head is None:
        return []
    node = IRI(f"{base}{JOURNAL}")
    t = [(node, RDF.type, DCAT.Distribution),
         (node, DCTERMS.title, Literal("読込ジャーナル / load journal (hash-chained JSON lines)", None, "ja")),
         (node, DCAT.downloadURL, node), (node, DCAT.mediaType, Literal("application/jsonl")),
         (node, minter.term("journalEntries"), integer(head[0])),
         (node, minter.term("journalHead"), Literal(head[1], XSD.hexBinary))]
    if (_settings().data_path / (JOURNAL + ".asc")).is_file():
        t.append((node, minter.term("signature"), IRI(f"{base}{JOURNAL}.asc")))
    return t


def _void_body(fmt) -> bytes:
    return serialize(_meta_triples(), fmt.name, current_app.config["KG_MINTER"].prefixes())


@bp.get("/.well-known/void")
def void() -> Response:
    fmt = negotiate(request.headers.get("Accept"), RDF_OFFER) or RDF_OFFER[0]
    headers = {"Vary": "Accept"}
    if _settings().signing_key:
        headers["Link"] = '</.well-known/void.asc>; rel="signature"; type="application/pgp-signature"'
    return Response(_void_body(fmt), 200, content_type=with_charset(fmt.media_type), headers=headers)


@bp.get("/.well-known/void.asc")
def void_signature() -> Response:
    """A detached signature of the catalogue's Turtle (what /.well-known/void answers for
    ``Accept: text/turtle``), made on demand with KG_SIGNING_KEY and kept per content."""
    settings = _settings()
    if not settings.signing_key:
        abort(404, description="the catalogue is not signed: no KG_SIGNING_KEY is configured")
    body = _void_body(RDF_OFFER[0])
    cache = current_app.extensions.setdefault("kg_signatures", {})
    key = hashlib.sha256(body).hexdigest()
    if key not in cache:
        try:
            signature = sign_bytes(body, Path(settings.signing_key).expanduser())
        except KGError:
            current_app.logger.exception("signing the catalogue failed")
            abort(503, description="the catalogue could not be signed (see the server log)")
        if len(cache) > 16:
            cache.clear()
        cache[key] = signature
    return Response(cache[key], 200, content_type="application/pgp-signature")


def _public_key() -> bytes | None:
    settings = _settings()
    if settings.signing_key:
        cache = current_app.extensions.setdefault("kg_public_key", {})
        if "key" not in cache:
            try:
                cache["key"] = public_key(Path(settings.signing_key).expanduser())
            except KGError:
                current_app.logger.exception("exporting the signing key's public half failed")
                return None
        return cache["key"]
    path = settings.data_path / PUBLIC_KEY
    return path.read_bytes() if path.is_file() else None


@bp.get("/.well-known/kg-signing-key.asc")
def signing_key() -> Response:
    key = _public_key()
    if key is None:
        abort(404, description="nothing here is signed: no KG_SIGNING_KEY is configured")
    return Response(key, 200, content_type="application/pgp-keys")


@bp.get("/journal.jsonl")
@bp.get("/journal.jsonl.asc")
def journal_file() -> Response:
    name = request.path.lstrip("/")
    path = _settings().data_path / name
    if not path.is_file():
        abort(404, description="no journal yet (nothing was loaded)" if name == JOURNAL else "the journal is not signed")
    mimetype = "application/jsonl" if name == JOURNAL else "application/pgp-signature"
    return send_from_directory(_settings().data_path, name, mimetype=mimetype)


CATALOG_QUERY = """SELECT ?ds ?title ?triples ?modified ?attribution ?licence ?licenceName ?publisherName WHERE {{
  GRAPH <{meta}> {{
    ?ds a <http://www.w3.org/ns/dcat#Dataset> ; <http://purl.org/dc/terms/title> ?title ;
        <http://rdfs.org/ns/void#triples> ?triples ; <http://purl.org/dc/terms/modified> ?modified .
    OPTIONAL {{ ?ds <{attr}> ?attribution }}
    OPTIONAL {{ ?ds <http://purl.org/dc/terms/license> ?licence OPTIONAL {{ ?licence <http://purl.org/dc/terms/title> ?licenceName }} }}
    OPTIONAL {{ ?ds <http://purl.org/dc/terms/publisher>/<http://xmlns.com/foaf/0.1/name> ?publisherName }}
    FILTER(lang(?title) = "ja") }} }} ORDER BY ?ds"""

LOADS_QUERY = """SELECT ?ds ?load ?started ?mode ?read ?loaded ?rejected ?file ?size ?sha ?verdict ?note ?signer ?signed
  WHERE {{ GRAPH <{meta}> {{
    ?load <http://www.w3.org/ns/prov#generated> ?ds ; <http://www.w3.org/ns/prov#startedAtTime> ?started ;
          <{mode}> ?mode ; <{read}> ?read ; <{loaded}> ?loaded ; <{rejected}> ?rejected ;
          <http://www.w3.org/ns/prov#used> ?src .
    ?src <http://purl.org/dc/terms/title> ?file ; <http://www.w3.org/ns/dcat#byteSize> ?size ;
         <http://spdx.org/rdf/terms#checksum>/<http://spdx.org/rdf/terms#checksumValue> ?sha .
    OPTIONAL {{ ?src <{verdict}> ?verdict }} OPTIONAL {{ ?src <{note}> ?note }}
    OPTIONAL {{ ?src <{signer}> ?signer }} OPTIONAL {{ ?src <{signed}> ?signed }} }} }}
  ORDER BY ?ds DESC(?started) ?file"""

DIGEST_QUERY = """SELECT ?ds ?digest ?quads WHERE {{ GRAPH <{meta}> {{ ?ds <{digest}> ?digest ; <{quads}> ?quads ;
    a <http://www.w3.org/ns/dcat#Dataset> }} }}"""


@bp.get("/datasets")
def datasets() -> Response:
    minter = current_app.config["KG_MINTER"]
    executor = current_app.extensions["kg_executor"]
    wanted = negotiate(request.headers.get("Accept"), [by_name("html")] + RDF_OFFER)
    if wanted is not None and wanted.name != "html":
        return void()

    def select(q: str) -> list[dict]:
        answer = executor.run({"kind": "query", "query": q, "accept": "application/sparql-results+json"},
                              timeout=current_app.config["KG_SETTINGS"].page_timeout)
        return [{k: v["value"] for k, v in b.items()} for b in json.loads(answer.body)["results"]["bindings"]]

    sets = select(CATALOG_QUERY.format(meta=minter.graph("meta"), attr=minter.term("attributionText")))
    loads = select(LOADS_QUERY.format(meta=minter.graph("meta"), mode=minter.term("loadMode"),
                                      read=minter.term("recordsRead"), loaded=minter.term("recordsLoaded"),
                                      rejected=minter.term("recordsRejected"), verdict=minter.term("signatureVerdict"),
                                      note=minter.term("signatureNote"), signer=minter.term("signerFingerprint"),
                                      signed=minter.term("signedAt")))
    digests = {r["ds"]: r for r in select(DIGEST_QUERY.format(meta=minter.graph("meta"), digest=minter.term("contentDigest"),
                                                              quads=minter.term("contentQuads")))}
    dumps = _dumps_dir()
    for d in sets:
        name = d["ds"].rstrip("/").rsplit("/", 1)[-1]
        d["name"] = name
        d["triples"] = f"{int(d['triples']):,}"
        d["modified"] = japanese_datetime(d["modified"])
        d["dump"] = f"/dumps/{name}.nq.gz" if (dumps / f"{name}.nq.gz").exists() else None
        d["dump_signed"] = (dumps / f"{name}.nq.gz.asc").exists()
        d["loads"] = _by_load([row for row in loads if row["ds"] == d["ds"]])[:20]
        d["digest"] = digests.get(d["ds"])
    return Response(render_template("datasets.html", datasets=sets, trust=_trust()), 200, mimetype="text/html")


def _trust() -> dict:
    """The journal and the signing state, for /datasets."""
    settings = _settings()
    journal = Journal.of(settings.data_path)
    try:
        entries = journal.entries()
        problems = check_chain(journal.path) if entries else []
    except JournalError as exc:
        entries, problems = [], [str(exc)]
    head = journal.head()
    return {"entries": list(reversed(entries))[:20], "count": len(entries), "head": head[1] if head else None,
            "problems": [p.replace(str(settings.data_path) + "/", "") for p in problems],
            "signed": bool(settings.signing_key), "journal_signed": (settings.data_path / (JOURNAL + ".asc")).is_file(),
            "manifest": (_dumps_dir() / MANIFEST).is_file()}


_DUMP_FILES = (MANIFEST, SUMS, MANIFEST + ".asc", SUMS + ".asc")


def _by_load(rows: list[dict]) -> list[dict]:
    """One entry per load with its counts once, and the files it read beneath (the counts are the
    load's: the metadata records them per load, not per file)."""
    out: dict[str, dict] = {}
    for row in rows:
        load = out.setdefault(row["load"], {k: row[k] for k in ("started", "mode")} | {
            k: f"{int(row[k]):,}" for k in ("read", "loaded", "rejected")} | {"files": []})
        load["files"].append({"file": row["file"], "size": f"{int(row['size']):,}", "sha": row["sha"],
                              **{k: row.get(k) for k in ("verdict", "signer", "signed", "note")}})
    for load in out.values():
        load["started"] = japanese_datetime(load["started"])
    return list(out.values())


@bp.get("/dumps/")
def dump_list() -> Response:
    """The gzip N-Quads files ``kg dump`` wrote, one per graph."""
    folder = _dumps_dir()
    files = sorted(folder.glob("*.nq.gz")) if folder.is_dir() else []
    listed = [{"name": f.name, "size": f"{f.stat().st_size:,}",
               "modified": japanese_datetime(dt.datetime.fromtimestamp(f.stat().st_mtime, dt.timezone.utc).isoformat())}
              for f in files]
    return Response(render_template("dumps.html", files=listed), 200, mimetype="text/html")


@bp.get("/dumps/<name>")
def dump_file(name: str) -> Response:
    if "/" in name or not (name.endswith((".nq.gz", ".nq.gz.asc")) or name in _DUMP_FILES):
        abort(404)
    if name.endswith(".asc"):
        mimetype = "application/pgp-signature"
    elif name == MANIFEST:
        mimetype = "application/json"
    elif name == SUMS:
        mimetype = "text/plain"
    else:
        mimetype = "application/n-quads"
    return send_from_directory(_dumps_dir(), name, mimetype=mimetype, as_attachment=name.endswith(".nq.gz"))
