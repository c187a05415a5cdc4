"""The metadata graph: PROV-O load activities, DCAT/VoID dataset descriptions, counts.

Counts that pages show are computed here, once per load, not per request (a typed count over
millions of entities costs seconds).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable

from kg.load.contract import DatasetInfo
from kg.load.digest import ALGORITHM, GraphDigest
from kg.trust.openpgp import Verdict
from kg.rdf.iri import Minter, fragment_prefix
from kg.store.interface import Quad, ReadStore
from kg.rdf import DCAT, DCTERMS, FOAF, IRI, PROV, RDF, SPDX, VOID, XSD, Literal, Triple, integer, nquad


@dataclass
class SourceRecord:
    name: str
    size: int
    sha256: str
    encoding: str | None = None
    #: the check of its detached OpenPGP signature (kg.trust.openpgp.Verdict), None if not checked
    signature: Verdict | None = None


@dataclass
class LoadStats:
    load_id: str
    dataset: str
    mode: str
    started: dt.datetime
    ended: dt.datetime | None = None
    sources: list[SourceRecord] = field(default_factory=list)
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    entities: int = 0
    #: foci written (kg.load.written.TouchedFile), when an upsert must re-index just those (else None)
    touched: object | None = None
    #: an entity may have been written twice (its foci stopped ascending): the last summary wins
    repeats: bool = False
    #: writer of what each written entity says (kg.load.written), for relinking and indexing
    summaries: object | None = None
    report: str | None = None
    #: why each refused source was refused (a load of several goes on without it)
    refused: list[str] = field(default_factory=list)
    #: the dataset graph's content digest, kept up to date by every write (kg.load.digest)
    digest: GraphDigest | None = None
    #: whether the digest had to be computed afresh from the store (a line written twice)
    digest_recomputed: bool = False
    #: whether the dataset's triple and class counts were carried forward by checked lines
    #: (kg.load.digest) instead of counted in the store
    counts_carried: bool = False
    #: cells of the load-time statistics as this load changes them (kg.load.statistics.Tally), or None
    tally: object | None = None
    #: graph → (content digest, quads) of every dataset once the load is done, for the journal
    state: dict[str, tuple[str, int]] = field(default_factory=dict)


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _ts(value: dt.datetime) -> Literal:
    return Literal(value.isoformat().replace("+00:00", "Z"), XSD.dateTime)


def load_triples(stats: LoadStats, info: DatasetInfo, m: Minter) -> list[Triple]:
    """The activity of one load and the files it used (these accumulate: the load history)."""
    act = m.load(stats.load_id)
    ds = m.graph(stats.dataset)
    t: list[Triple] = [
        (act, RDF.type, PROV.Activity),
        (act, DCTERMS.title, Literal(f"load {stats.dataset} ({stats.mode})")),
        (act, PROV.startedAtTime, _ts(stats.started)),
        (act, PROV.endedAtTime, _ts(stats.ended or now())),
        (act, m.term("loadMode"), Literal(stats.mode)),
        (act, m.term("recordsRead"), integer(stats.read)),
        (act, m.term("recordsLoaded"), integer(stats.loaded)),
        (act, m.term("recordsRejected"), integer(stats.rejected)),
        (act, PROV.generated, ds),
    ]
    if stats.report:
        t.append((act, m.term("report"), Literal(stats.report)))
    for i, src in enumerate(stats.sources, 1):
        node = m.load_source(stats.load_id, i)
        checksum = m.fragment(node, "sha256")
        t += [
            (act, PROV.used, node),
            (node, RDF.type, PROV.Entity),
            (node, RDF.type, DCAT.Distribution),
            (node, DCTERMS.title, Literal(src.name)),
            (node, DCAT.byteSize, Literal(str(src.size), XSD.nonNegativeInteger)),
            (node, SPDX.checksum, checksum),
            (checksum, RDF.type, SPDX.Checksum),
            (checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256),
            (checksum, SPDX.checksumValue, Literal(src.sha256, XSD.hexBinary)),
            (node, DCTERMS.publisher, IRI(info.publisher_url)),
            (node, DCTERMS.license, IRI(info.license_url)),
        ]
        if src.encoding:
            t.append((node, DCTERMS.format, Literal(f"text/csv; charset={src.encoding}")))
        sig = src.signature
        if sig is not None:
            t.append((node, m.term("signatureVerdict"), Literal(sig.status)))
            if sig.reason:
                t.append((node, m.term("signatureNote"), Literal(sig.reason)))
            if sig.fingerprint:
                t.append((node, m.term("signerFingerprint"), Literal(sig.fingerprint)))
            if sig.signed_at:
                t.append((node, m.term("signedAt"), _ts(sig.signed_at)))
    if stats.digest is not None:
        t += [(act, m.term("contentDigest"), Literal(stats.digest.hex, XSD.hexBinary)),
              (act, m.term("contentQuads"), integer(stats.digest.quads))]
    return t


def dataset_triples(info: DatasetInfo, m: Minter, *, store: ReadStore, last_load: str, modified: dt.datetime,
                    triples: int | None = None, digest: tuple[str, int] | None = None,
                    classes: dict[str, int] | None = None) -> list[Triple]:
    """The current description of a dataset graph, with counts computed now (or given: triples,
    entities per class), and its content digest (:mod:`kg.load.digest`)."""
    graph = m.graph(info.name)
    if triples is None:
        triples = store.count(graph)
    t: list[Triple] = [
        (graph, RDF.type, DCAT.Dataset),
        (graph, RDF.type, VOID.Dataset),
        (graph, DCTERMS.title, Literal(info.title_ja, None, "ja")),
        (graph, DCTERMS.title, Literal(info.title_en, None, "en")),
        (graph, DCTERMS.publisher, IRI(info.publisher_url)),
        (IRI(info.publisher_url), RDF.type, FOAF.Organization),
        (IRI(info.publisher_url), FOAF.name, Literal(info.publisher, None, "ja")),
        (graph, DCTERMS.license, IRI(info.license_url)),
        (IRI(info.license_url), DCTERMS.title, Literal(info.license_name, None, "ja")),
        (graph, m.term("attributionText"), Literal(info.attribution, None, "ja")),
        (graph, DCAT.landingPage, IRI(info.source_url)),
        (graph, DCTERMS.modified, _ts(modified)),
        (graph, VOID.uriSpace, Literal(m.id)),
        (graph, VOID.triples, integer(triples)),
        (graph, PROV.wasGeneratedBy, m.load(last_load)),
    ]
    if digest is not None:
        t += [(graph, m.term("contentDigest"), Literal(digest[0], XSD.hexBinary)),
              (graph, m.term("contentQuads"), integer(digest[1])),
              (graph, m.term("digestAlgorithm"), Literal(ALGORITHM))]
    if classes is None:
        query = f"SELECT ?c (COUNT(?s) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s a ?c }} }} GROUP BY ?c"
        classes = {str(s["c"]): int(s["n"].value) for s in store.query(query)}
    for i, (cls, n) in enumerate(sorted(classes.items()), 1):
        part = m.fragment(graph, f"class-{i}")
        t += [(graph, VOID.classPartition, part), (part, VOID["class"], IRI(cls)), (part, VOID.entities, integer(n))]
    return t


def dataset_summary_quads(store: ReadStore, graph: str, meta: str) -> list[Quad]:
    """The existing description of a dataset in the meta graph (to replace it)."""
    quads = list(store.quads(graph, None, None, meta))
    for q in list(quads):
        if isinstance(q.object, IRI) and q.object.startswith(fragment_prefix(graph) + "class-"):
            quads.extend(store.quads(q.object, None, None, meta))
    return quads


def recorded_digests(store: ReadStore, m: Minter) -> dict[str, tuple[str, int]]:
    """Graph → (content digest, quads) as the metadata graph records them, for every dataset."""
    meta, found = m.graph("meta"), {}
    quads = {str(q.subject): int(q.object.value) for q in store.quads(None, m.term("contentQuads"), None, meta)}
    for q in store.quads(None, m.term("contentDigest"), None, meta):
        subject = str(q.subject)
        if subject in quads and not subject.startswith(m.load("")):  # not a load activity's
            found[subject] = (q.object.value, quads[subject])
    return dict(sorted(found.items()))


def recorded_classes(store: ReadStore, m: Minter, graph: str) -> dict[str, int] | None:
    """Class → entities of a dataset as its last load recorded them (None: none recorded)."""
    q = (f"SELECT ?c ?n WHERE {{ GRAPH <{m.graph('meta')}> {{ <{graph}> <{VOID.classPartition}> ?p . "
         f"?p <{VOID['class']}> ?c ; <{VOID.entities}> ?n }} }}")
    found = {str(s["c"]): int(s["n"].value) for s in store.query(q)}
    return found or None


def write_quads(triples: Iterable[Triple], graph: str) -> str:
    return "".join(nquad(s, p, o, graph) for s, p, o in triples)
