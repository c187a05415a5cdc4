"""Local government corporations (法人種別 201, number ``…000020`` + 全国地方公共団体コード) ↔ their
municipality or prefecture (``kg:localGovernmentArea`` / ``kg:localGovernment``)."""

from __future__ import annotations

from collections import Counter

from kg.rdf import DCTERMS, IRI, RDF, ROV, nquad
from kg.rdf.iri import Minter
from kg.store.interface import ReadStore, WriteStore


def link_local_governments(store: WriteStore, m: Minter, refs: Counter | None = None) -> int:
    """Kind-201 corporations numbered 000020 + lg_code ↔ the municipality or prefecture of that code.

    Asked through the store's pattern reads (a few thousand kind-201 corporations, in batches), so
    that a remote engine answers them through a load's pending changes instead of copying graphs.
    ``refs`` counts the (predicate, object) references removed (-1) and added (+1), for the hub
    counts (:mod:`kg.store.hubs`).
    """
    links, houjin, abr = m.graph("links"), m.graph("houjin"), m.graph("abr")
    area_p, gov_p = m.term("localGovernmentArea"), m.term("localGovernment")
    old = list(dict.fromkeys([*store.quads(None, area_p, None, links), *store.quads(None, gov_p, None, links)]))
    store.remove(old)
    if refs is not None:
        for q in old:
            refs[(str(q.predicate), str(q.object))] -= 1
    kind = m.code("corporation-kind", "201")
    candidates = sorted({str(q.subject) for q in store.quads(None, str(ROV.orgType), kind, houjin)})
    corporations = {str(q.subject) for q in store.quads_of(candidates, [str(RDF.type)], houjin)
                    if q.object == ROV.RegisteredOrganization}
    codes = {}
    for q in store.quads_of(sorted(corporations), [str(DCTERMS.identifier)], houjin):
        if (code := _code_in(q.object.value)) is not None:
            codes[str(q.subject)] = code
    areas = {a: (m.municipality(lg), m.prefecture(lg)) for a, lg in codes.items()}
    typed = {str(q.subject) for q in store.quads_of(sorted({x for pair in areas.values() for x in pair}),
                                                    [str(RDF.type)], abr)}
    lines = area_lines(m, codes, typed, refs, graph=links)
    if lines:
        store.add(text="".join(lines), fmt="nquads", bulk=True)  # a build's (not served): see kg.load.pipeline
    return len(lines) // 2


def typed_areas(store: ReadStore, m: Minter) -> set[str]:
    """The prefectures and municipalities graph/abr describes (a few thousand IRIs)."""
    q = f"""SELECT ?a WHERE {{ GRAPH <{m.graph('abr')}> {{ VALUES ?c {{ <{m.term('Prefecture')}> <{m.term('Municipality')}> }}
        ?a a ?c }} }}"""
    return {s["a"].value for s in store.query(q)}


def local_government_code(m: Minter, corporation: str, kind: str) -> str | None:
    """The 全国地方公共団体コード of a local government corporation (kind 201, its number
    ``…000020`` + the code), from its IRI and kind; None for any other corporation."""
    return _code_in(corporation.rsplit("/", 1)[-1]) if kind == str(m.code("corporation-kind", "201")) else None


def _code_in(number: str) -> str | None:
    """The 団体コード a local government's corporate number ends with (``…000020`` + code)."""
    return number[7:] if len(number) == 13 and number[1:7] == "000020" else None


def area_lines(m: Minter, codes: dict[str, str], typed: set[str], refs: Counter | None = None, *,
               graph: str | None = None) -> list[str]:
    """The lines linking each corporation of ``codes`` (corporation → 団体コード) and its
    municipality or prefecture (the first of them that ``typed`` holds), both ways: N-Quads in
    ``graph``, else N-Triples."""
    area_p, gov_p = m.term("localGovernmentArea"), m.term("localGovernment")
    lines = []
    for corp, lg in sorted(codes.items()):
        for area in (m.municipality(lg), m.prefecture(lg)):
            if area in typed:
                lines.append(nquad(corp, area_p, area, graph))
                lines.append(nquad(area, gov_p, IRI(corp), graph))
                if refs is not None:
                    refs[(str(area_p), str(area))] += 1
                    refs[(str(gov_p), corp)] += 1
                break
    return lines
