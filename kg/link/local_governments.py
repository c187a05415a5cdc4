"""Local government corporations (法人種別 201, number ``…000020`` + 全国地方公共団体コード) ↔ their
municipality or prefecture (``kg:localGovernmentArea`` / ``kg:localGovernment``)."""

from __future__ import annotations

from kg.rdf import DCTERMS, IRI, RDF, ROV, nquad
from kg.rdf.iri import Minter
from kg.store.interface import WriteStore


def link_local_governments(store: WriteStore, m: Minter) -> int:
    """Kind-201 corporations numbered 000020 + lg_code ↔ the municipality or prefecture of that code."""
    links = m.graph("links")
    area_p, gov_p = m.term("localGovernmentArea"), m.term("localGovernment")
    # removed as quads, not by a DELETE update: the change feed sees which subjects lose links
    store.remove([*store.quads(None, area_p, None, links), *store.quads(None, gov_p, None, links)])
    q = f"""SELECT ?c ?n WHERE {{ GRAPH <{m.graph('houjin')}> {{
        ?c a <{ROV.RegisteredOrganization}> ; <{ROV.orgType}> <{m.code('corporation-kind', '201')}> ;
           <{DCTERMS.identifier}> ?n FILTER(SUBSTR(?n, 2, 6) = "000020") }} }}"""
    abr = m.graph("abr")
    lines = []
    for s in store.query(q):
        lg = s["n"].value[7:]
        for area in (m.municipality(lg), m.prefecture(lg)):
            if store.has(area, str(RDF.type), None, abr):
                lines.append(nquad(s["c"].value, area_p, area, links))
                lines.append(nquad(area, gov_p, IRI(s["c"].value), links))
                break
    if lines:
        store.add(text="".join(lines), fmt="nquads")
    return len(lines) // 2
