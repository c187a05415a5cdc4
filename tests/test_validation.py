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

pytestmark = pytest.mark.engines

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


# ---- referential integrity (kg validate; kg.validation.integrity) ------------------------------

def _abr_files(tmp_path):
    from support import abr_rows as A

    return [A.write(tmp_path / "mt_pref_all.csv", A.PREF, A.PREF_ROWS),
            A.write(tmp_path / "mt_city_all.csv", A.CITY, A.CITY_ROWS),
            A.write(tmp_path / "mt_town_all.csv", A.TOWN, [A.AOI, A.KOSHIMA]),
            A.write(tmp_path / "mt_parcel_city465054.csv", A.PARCEL, A.PARCEL_ROWS)]


def test_validate_reports_objects_that_name_no_entity_per_dataset_and_property(cli, tmp_path, settings):
    from kg.store import open_home

    for path in _abr_files(tmp_path):
        assert cli("load", "abr", str(path)).exit_code == 0
    clean = cli("validate")
    assert clean.exit_code == 0, clean.output
    assert "abr: 14 entities checked, 0 violations, 0 references to no entity" in clean.output
    koshima = M.town("465054", "0000122")
    corp = M.corporation(number("000011000013"))
    with open_home(settings).build() as b:  # a town removed behind the loader's back; a link to nothing
        b.store.update(f"DELETE WHERE {{ GRAPH ?g {{ <{koshima}> ?p ?o }} }}")
        b.store.update(f"INSERT DATA {{ GRAPH <{M.graph('links')}> {{ <{corp}> <{M.term('town')}> <{koshima}> }} }}")
    result = cli("validate")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (f"abr: dcterms:isPartOf: 1 object names no entity (no rdf:type in any graph), e.g. <{koshima}>") in lines
    assert f"links: kg:town: 1 object names no entity (no rdf:type in any graph), e.g. <{koshima}>" in lines
    assert "abr: 13 entities checked, 0 violations, 1 references to no entity" in lines
    assert "links: 1 references to no entity" in lines
    only = cli("validate", "abr")
    assert only.exit_code == 1 and "links:" not in only.output


def test_many_objects_are_checked_inside_the_engine_with_the_same_answer(settings, tmp_path, monkeypatch):
    from kg.load.pipeline import run_load
    from kg.store import open_home
    import kg.validation.integrity as integrity

    for path in _abr_files(tmp_path)[1:]:   # no prefecture file: every municipality's parent is missing
        run_load(settings, "abr", [path])
    store = open_home(settings).open_current()
    few = integrity.dangling(store, "abr", M)
    monkeypatch.setattr(integrity, "FEW", 1)
    assert integrity.dangling(store, "abr", M) == few
    found = {integrity.short(d.predicate, M): (d.count, d.example) for d in few}
    assert found["dcterms:isPartOf"] == (4, M.prefecture("010006"))   # 札幌市 (and 中央区 is part of it), 東京都, …
    assert found["kg:prefecture"][0] == 4


def test_references_into_a_registry_not_loaded_are_noted_then_checked_once_it_is(cli, tmp_path):
    from support import abr_rows as A, write_csv

    cli("load", "houjin", str(write_csv(tmp_path / "a.csv", [nta_row(1, "7000012050002", name="国税庁")])))
    alone = cli("validate")
    assert alone.exit_code == 0, alone.output
    assert (f"houjin: kg:municipality: 1 object names an entity of abr, which is not loaded (not checked), "
            f"e.g. <{M.municipality('131059')}>") in alone.output.splitlines()
    assert "houjin: 1 entities checked, 0 violations, 0 references to no entity" in alone.output
    # ABR loaded, but without 文京区: the corporation's municipality is now a reference to nothing
    cli("load", "abr", str(A.write(tmp_path / "mt_pref_all.csv", A.PREF, A.PREF_ROWS)))
    cli("load", "abr", str(A.write(tmp_path / "mt_city_all.csv", A.CITY, [r for r in A.CITY_ROWS if r["lg_code"] != "131059"])))
    partial = cli("validate", "houjin")
    assert partial.exit_code == 1
    assert (f"houjin: kg:municipality: 1 object names no entity (no rdf:type in any graph), "
            f"e.g. <{M.municipality('131059')}>") in partial.output.splitlines()
