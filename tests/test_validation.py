"""The compiled validator against pySHACL, the reference, on valid and invalid corporations."""

from __future__ import annotations

import pytest

from kg.rdf.iri import Minter
from kg.validation.shapes import validator_for
from kg.rdf import IRI, Literal, XSD
from kg.resources import graph_of, reference_graph, shape_files
from kg.validation.compiler import compile_shapes
from kg.validation.reference import pyshacl_violations, triples_to_rdflib
from kg.loaders.houjin import corporation_triples, record_triples

from support import BASE, assert_same_verdict_as_pyshacl, number, nta_row

M = Minter(BASE)


def corp(row):
    c = M.corporation(row[1])
    return corporation_triples(c, row, M) + record_triples(c, row, M)


def replace(triples, predicate, new):
    return [(s, p, new if p == predicate else o) for s, p, o in triples]


def drop(triples, predicate):
    return [t for t in triples if t[1] != predicate]


GOOD = nta_row(1, "7000012050002", name="国税庁", kind="101", en="National Tax Agency", en_pref="Tokyo",
               en_city="3-1-1 Kasumigaseki", close="2021-01-01", cause="01", successor="5010401092060",
               change_cause="合併", outside="米国", en_outside="USA", hihyoji="1", correct="1")

CASES = {
    "valid": corp(GOOD),
    "valid-minimal": corp(nta_row(1, number("000011000013"), pref="", city="", street="", pref_code="",
                                  city_code="", post="", furigana="", assigned="", change="")),
    "bad-check-digit": corp(nta_row(1, "2000011000005")),
    "bad-pattern": corp(nta_row(1, "12345")),
    "no-name": corp(nta_row(1, number("000011000021"), name="", furigana="")),
    "unknown-kind": corp(nta_row(1, number("000011000039"), kind="123")),
    "bad-date": corp(nta_row(1, number("000011000047"), change="2021-13-01")),
    "not-a-date": corp(nta_row(1, number("000011000047"), update="yesterday")),
    "bad-close-cause": corp(nta_row(1, number("000011000055"), close="2021-01-01", cause="77")),
    "bad-successor": corp(nta_row(1, number("000011000063"), successor="1234567890123")),
    "bad-municipality": corp(nta_row(1, number("000011000071"), city_code="10")),
    "bad-post": corp(nta_row(1, number("000011000071"), post="113")),
    "two-kinds": corp(nta_row(1, number("000011000089"))) + [(M.corporation(number("000011000089")),
        "http://www.w3.org/ns/regorg#orgType", M.code("corporation-kind", "302"))],
    "two-ja-names": corp(nta_row(1, number("000011000097"))) + [(M.corporation(number("000011000097")),
        "http://www.w3.org/ns/regorg#legalName", Literal("別名", None, "ja"))],
    "name-without-language": replace(corp(nta_row(1, number("000011000100"))), "http://www.w3.org/ns/regorg#legalName", Literal("名前", XSD.string)),
    "no-registration": drop(corp(nta_row(1, number("000011000118"))), "http://www.w3.org/ns/regorg#registration"),
    "bad-registration": replace(corp(nta_row(1, number("000011000126"))), "http://www.w3.org/2004/02/skos/core#notation", Literal("12")),
    "status-missing": drop(corp(nta_row(1, number("000011000134"))), "http://www.w3.org/ns/regorg#orgStatus"),
    "sequence-not-integer": replace(corp(nta_row(1, number("000011000142"))), M.term("sequenceNumber"), Literal("x1", XSD.integer)),
}




@pytest.mark.parametrize("case", sorted(CASES))
def test_compiled_validator_agrees_with_pyshacl(case):
    assert_same_verdict_as_pyshacl("houjin", case, CASES[case])


def test_every_shape_compiles_and_unsupported_constraints_are_refused():
    import rdflib

    for path in shape_files():
        compile_shapes(graph_of([path], BASE), reference_graph(BASE), base=BASE)
    bad = rdflib.Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <http://x/S> a sh:NodeShape ; sh:targetClass <http://x/C> ;
            sh:property [ sh:path <http://x/p> ; sh:lessThan <http://x/q> ] .""", format="turtle")
    with pytest.raises(ValueError, match="unsupported"):
        compile_shapes(bad, base=BASE)
