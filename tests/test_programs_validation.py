"""The compiled validator against pySHACL, the reference, on valid and invalid support programs."""

from __future__ import annotations

import datetime as dt

import pytest

from support import jgrants_rows as J
from kg.rdf.iri import Minter
from kg.load.contract import Entity, Record
from kg.loaders.jgrants import JgrantsItem, _drop_attachment_data, program_entity, response_level
from kg.validation.shapes import validator_for
from kg.rdf import CV, DCTERMS, IRI, RDFS, XSD, Literal

from support import BASE, assert_same_verdict_as_pyshacl

M = Minter(BASE)
pytestmark = pytest.mark.filterwarnings("ignore:Parsing weird boolean:UserWarning")  # rdflib, on the "yes" case
NOW = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)


def program(item: dict) -> list:
    record = Record("t.json", 1, item["id"], JgrantsItem("result[0]", response_level(item), _drop_attachment_data(item)))
    entity = program_entity(record, M, NOW)
    assert isinstance(entity, Entity), entity
    return entity.triples


def replace(triples, predicate, new):
    return [(s, p, new if p == predicate else o) for s, p, o in triples]


def drop(triples, predicate, subject_suffix: str = ""):
    return [t for t in triples if not (t[1] == predicate and t[0].endswith(subject_suffix))]


A = M.program(J.A)
DETAIL = program(J.detail())

CASES = {
    "valid-detail": DETAIL,
    "valid-detail-v2": program(J.detail_v2()),
    "valid-list": program(J.list_item(J.detail())),
    "valid-list-minimal": program({"id": "a0W1", "title": "最小限"}),
    "no-title": program(J.list_c(title=None)),
    "two-titles": DETAIL + [(A, DCTERMS.title, Literal("別名", None, "ja"))],
    "title-without-language": replace(DETAIL, DCTERMS.title, Literal("題名", XSD.string)),
    "bad-id": replace(DETAIL, DCTERMS.identifier, Literal("a0W-not/an_id")),
    "negative-amount": program(J.detail(subsidy_max_limit=-5)),
    "amount-not-a-decimal": replace(DETAIL, M.term("subsidyMaxLimit"), Literal("1,000", XSD.decimal)),
    "end-without-time-zone": replace(DETAIL, M.term("acceptanceEnd"), Literal("2025-12-26T17:00:00", XSD.dateTime)),
    "end-not-a-date-time": replace(DETAIL, M.term("acceptanceEnd"), Literal("2025-12-26", XSD.date)),
    "unknown-industry": DETAIL + [(A, CV.sector, M.code("industry", "Z"))],
    "purpose-not-a-concept": DETAIL + [(A, CV.thematicArea, Literal("新たな事業を行いたい", None, "ja"))],
    "area-not-a-prefecture": DETAIL + [(A, DCTERMS.spatial, IRI(M.id + "municipality/302015"))],
    "status-missing": drop(DETAIL, M.term("acceptanceStatus")),
    "two-statuses": DETAIL + [(A, M.term("acceptanceStatus"), M.code("program-status", "closed"))],
    "unknown-response": replace(DETAIL, M.term("sourceResponse"), M.code("jgrants-response", "9-other")),
    "no-portal-link": drop(DETAIL, RDFS.seeAlso),
    "criterion-without-class": drop(DETAIL, M.term("employeeClass")),
    "criterion-not-a-concept": replace(DETAIL, M.term("employeeClass"), Literal("20名以下", None, "ja")),
    "multiple-not-boolean": replace(DETAIL, M.term("multipleApplications"), Literal("yes", XSD.boolean)),
    "round-without-id": drop(program(J.detail_v2()), DCTERMS.identifier, "R001"),
    "round-end-without-zone": replace(program(J.detail_v2()), M.term("acceptanceEnd"),
                                      Literal("2024-03-29T17:00:00", XSD.dateTime)),
}




@pytest.mark.parametrize("case", sorted(CASES))
def test_compiled_validator_agrees_with_pyshacl(case):
    assert_same_verdict_as_pyshacl("programs", case, CASES[case])


def test_the_demo_programs_are_valid():
    from kg.loaders import get_loader

    compiled = validator_for("programs", BASE)
    from kg.load.sources import expand_inputs
    from kg.resources import package_dir

    loader = get_loader("programs")
    count = 0
    for source in expand_inputs([package_dir("samples") / "programs"], loader.suffixes):
        for entity in loader.entities(loader.records(source), M):
            assert isinstance(entity, Entity), entity
            assert compiled.check(entity.triples) == [], entity.key
            count += 1
    assert count == 9   # 5 list items + 4 details
