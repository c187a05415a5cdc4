"""The compiled validator against pySHACL on valid and invalid address entities (shapes/abr.ttl)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.rdf.iri import Minter
from kg.loaders.abr import AbrLoader
from kg.load.contract import Entity
from kg.load.sources import SourceFile
from kg.validation.shapes import validator_for
from kg.rdf import GEO, RDFS, XSD, Literal
from kg.resources import graph_of, reference_graph, shape_files
from kg.validation.reference import pyshacl_violations, triples_to_rdflib

from support import abr_rows as A
from support import BASE, assert_same_verdict_as_pyshacl

M = Minter(BASE)
T = M.term
A_CRS = "http://www.opengis.net/def/crs/EPSG/0/"


def mapped(tmp: Path, columns, rows) -> list[list]:
    """Each entity the loader makes from these rows, as the triples the pipeline validates."""
    path = A.write(tmp / "rows.csv", columns, rows)
    loader = AbrLoader()
    out = []
    for item in loader.entities(loader.records(SourceFile(path.name, path)), M):
        assert isinstance(item, Entity), item
        out.append(item.triples + item.extra)
    return out


def one(tmp, columns, rows):
    entities = mapped(tmp, columns, rows)
    assert len(entities) == 1
    return entities[0]


def replace(triples, predicate, new):
    return [(s, p, new if p == predicate else o) for s, p, o in triples]


def drop(triples, predicate):
    return [t for t in triples if t[1] != predicate]


def build_cases(tmp: Path) -> dict[str, list]:
    town = lambda **kw: one(tmp, A.TOWN, [{**A.AOI, **kw}])  # noqa: E731
    point = lambda **kw: one(tmp, A.TOWN_POS, [{**A.TOWN_POS_ROWS[1], **kw}])  # noqa: E731
    ward = one(tmp, A.CITY, [A.CITY_ROWS[1]])
    aoi = M.town("302015", "0001000")
    residences = mapped(tmp, A.RSDT, A.RSDT_ROWS)
    return {
        "valid-prefecture": one(tmp, A.PREF, [A.PREF_ROWS[1]]),
        "valid-municipality-in-county": one(tmp, A.CITY, [A.CITY_ROWS[5]]),
        "valid-ward": ward,
        "valid-town": town(),
        "valid-town-koaza": one(tmp, A.TOWN, [A.KOSHIMA]),
        "valid-town-fullset": one(tmp, A.TOWN_FULLSET, [{**A.AOI, "alias_oaza": "葵", "alias_oaza_kana": "アオイ",
                                                         "oaza_cho_uncmn_type": "00", "oaza_cho_uncmn_mj": "*_MJ000001"}]),
        "valid-block": one(tmp, A.BLK, [A.BLK_ROWS[0]]),
        "valid-residence-with-its-block": residences[0],
        "valid-residence-2": residences[3],
        "valid-parcel": one(tmp, A.PARCEL, [A.PARCEL_ROWS[0]]),
        "valid-town-point": point(),
        "valid-residence-point": one(tmp, A.RSDT_POS, [A.RSDT_POS_ROWS[0]]),
        "valid-parcel-point": one(tmp, A.PARCEL_POS, [A.PARCEL_POS_ROWS[0]]),
        "valid-block-point": one(tmp, A.BLK_POS, A.BLK_POS_ROWS),
        "prefecture-bad-check-digit": one(tmp, A.PREF, [{**A.PREF_ROWS[1], "lg_code": "130002"}]),
        "prefecture-code-of-a-city": one(tmp, A.PREF, [{**A.PREF_ROWS[1], "lg_code": "131016"}]),
        "prefecture-without-name": one(tmp, A.PREF, [{**A.PREF_ROWS[1], "pref": "", "pref_kana": "", "pref_roma": ""}]),
        "municipality-bad-check-digit": one(tmp, A.CITY, [{**A.CITY_ROWS[2], "lg_code": "131050"}]),
        "municipality-bad-date": one(tmp, A.CITY, [{**A.CITY_ROWS[2], "efct_date": "1947-4-17"}]),
        "ward-parent-bad-check-digit": replace(ward, "http://purl.org/dc/terms/isPartOf", M.municipality("011003")),
        "ward-without-parent": drop(ward, "http://purl.org/dc/terms/isPartOf"),
        "town-bad-lg-code": town(lg_code="302016"),
        "town-unknown-type": town(machiaza_type="6"),
        "town-missing-type": town(machiaza_type=""),
        "town-bad-date": town(efct_date="2021-02-30"),
        "town-bad-post-code": town(post_code="6408273;640-8274"),
        "town-bad-machiaza-id": town(machiaza_id="001000"),
        "town-unknown-source": town(src_code="5"),
        "town-bad-status": town(status_flg="9", wake_num_flg="3"),
        "town-chome-not-a-number": town(chome="１丁目", chome_number="一"),
        "town-three-flags": town() + [(aoi, T("residentialAddressIndication"), M.code("rsdt-addr-flag", "0")),
                                      (aoi, T("residentialAddressIndication"), M.code("rsdt-addr-flag", "2"))],
        "town-two-ja-labels": town() + [(aoi, RDFS.label, Literal("あおい町", None, "ja"))],
        "town-label-without-language": replace(town(), RDFS.label, Literal("葵町", XSD.string)),
        "block-bad-id": one(tmp, A.BLK, [{**A.BLK_ROWS[0], "blk_id": "01"}]),
        "block-bad-lg-code": one(tmp, A.BLK, [{**A.BLK_ROWS[0], "lg_code": "131050"}]),
        "residence-without-number": mapped(tmp, A.RSDT, [{**A.RSDT_ROWS[0], "rsdt_num": ""}])[0],
        "residence-bad-block-id": mapped(tmp, A.RSDT, [{**A.RSDT_ROWS[0], "blk_id": "1"}])[0],
        "residence-bad-division": mapped(tmp, A.RSDT, [{**A.RSDT_ROWS[0], "basic_rsdt_div": "2"}])[0],
        "parcel-bad-id": one(tmp, A.PARCEL, [{**A.PARCEL_ROWS[0], "prc_id": "1-1"}]),
        "parcel-without-number": one(tmp, A.PARCEL, [{**A.PARCEL_ROWS[0], "prc_num1": ""}]),
        "parcel-unknown-area": one(tmp, A.PARCEL, [{**A.PARCEL_ROWS[0], "prc_area_code": "4"}]),
        "point-wkt-without-crs": replace(point(), GEO.asWKT, Literal("POINT(135.163085 34.21348)", GEO.wktLiteral)),
        "point-wkt-as-plain-string": replace(point(), GEO.asWKT, Literal(f"<{A_CRS}4612> POINT(135.1 34.2)")),
        "point-unknown-source": point(rep_src_code="9"),
        "point-bad-map-level": point(rep_scale="25,000"),
        "point-bad-mlit-code": point(pos_oaza_cho_chome_code="30201-0001000"),
        "point-bad-gsi-date": one(tmp, A.RSDT_POS, [{**A.RSDT_POS_ROWS[0], "rsdt_addr_data_mnt_date": "2019/04/04"}]),
        "point-two-wkts": point() + [(aoi + "#point", GEO.asWKT, Literal(f"<{A_CRS}6668> POINT(135.1 34.2)", GEO.wktLiteral))],
    }


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return build_cases(tmp_path_factory.mktemp("abr-cases"))


@pytest.fixture(scope="module")
def compiled():
    return validator_for("abr", BASE)


@pytest.fixture(scope="module")
def shapes():
    return graph_of(shape_files("abr"), BASE)


NAMES = [
    "valid-prefecture", "valid-municipality-in-county", "valid-ward", "valid-town",
    "valid-town-koaza", "valid-town-fullset", "valid-block", "valid-residence-with-its-block", "valid-residence-2",
    "valid-parcel", "valid-town-point", "valid-residence-point", "valid-parcel-point", "valid-block-point",
    "prefecture-bad-check-digit", "prefecture-code-of-a-city", "prefecture-without-name", "municipality-bad-check-digit",
    "municipality-bad-date", "ward-parent-bad-check-digit", "ward-without-parent", "town-bad-lg-code",
    "town-unknown-type", "town-missing-type", "town-bad-date", "town-bad-post-code", "town-bad-machiaza-id",
    "town-unknown-source", "town-bad-status", "town-chome-not-a-number", "town-three-flags", "town-two-ja-labels",
    "town-label-without-language", "block-bad-id", "block-bad-lg-code", "residence-without-number",
    "residence-bad-block-id", "residence-bad-division", "parcel-bad-id", "parcel-without-number", "parcel-unknown-area",
    "point-wkt-without-crs", "point-wkt-as-plain-string", "point-unknown-source", "point-bad-map-level",
    "point-bad-mlit-code", "point-bad-gsi-date", "point-two-wkts",
]


def test_every_case_is_listed(cases):
    assert sorted(cases) == sorted(NAMES)


@pytest.mark.parametrize("case", NAMES)
def test_compiled_validator_agrees_with_pyshacl(case, cases):
    triples = list(dict.fromkeys(cases[case]))   # an RDF graph: no repeated triples
    found = assert_same_verdict_as_pyshacl("abr", case, triples)
    # each violation once, even for a ward, which is typed with def:Municipality and its subclass def:Ward
    assert len(found) == len({(v.focus, v.path, v.component, v.value, v.shape) for v in found})


def test_check_digit_violations_name_the_code(cases, compiled):
    messages = [v.message for v in compiled.check(cases["town-bad-lg-code"])]
    assert messages and all("302016" in m and "expected 5" in m for m in messages)
    assert {v.component for v in compiled.check(cases["town-bad-lg-code"])} == {"CheckDigitConstraintComponent"}
