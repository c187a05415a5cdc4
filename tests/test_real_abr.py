"""The ABR loader against the REAL published files in ../shared/data/real/abr and abr_legacy_ja (skipped when absent)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.rdf.iri import Minter
from kg.load.pipeline import run_load
from kg.load.report import read_report
from support import current_store, raw_current, run_query
from kg.settings import load_settings

from support import BASE

M = Minter(BASE)
CRS = "http://www.opengis.net/def/crs/EPSG/0/"

pytestmark = [pytest.mark.real, pytest.mark.engines]


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def abr_files(real: Path) -> list[Path]:
    """Every real file, in the order their references need (AbrLoader.order: base files first)."""
    from kg.loaders.abr import AbrLoader
    from kg.load.sources import SourceFile

    named = sorted((real / "abr").glob("mt_*.csv")) + sorted((real / "abr_legacy_ja").glob("*.csv"))
    return [s.path for s in AbrLoader.order([SourceFile(p.name, p) for p in named])]


def town_keys(real: Path) -> tuple[set, set]:
    """(keys of mt_town_pref30 with one row, keys with two rows that disagree: rejected)."""
    counts = Counter((r["lg_code"], r["machiaza_id"]) for r in rows(real / "abr" / "mt_town_pref30.csv"))
    return {k for k, n in counts.items() if n == 1}, {k for k, n in counts.items() if n > 1}


@pytest.fixture(scope="module")
def abr_load(tmp_path_factory, module_backend):
    """(result, settings) of every real ABR file loaded once for the module (embedded or into its engine)."""
    from support import REAL

    if not (REAL / "abr" / "mt_town_pref30.csv").exists():
        pytest.skip("../shared/data/real is not present")
    settings = load_settings({}, data_dir=str(tmp_path_factory.mktemp("real-abr") / "d"), base_uri=BASE,
                             **(module_backend.overrides() if module_backend else {}))
    return run_load(settings, "abr", abr_files(REAL)), settings


@pytest.fixture(scope="module")
def loaded(abr_load):
    from support import REAL

    result, settings = abr_load
    return result, current_store(settings), REAL


def count(store, where: str) -> int:
    return int(next(iter(run_query(store, f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}", M)))["n"].value)


def test_every_real_file_loads_and_what_is_rejected_is_what_the_files_contradict(loaded):
    result, store, real = loaded
    expected = sum(len(rows(f)) for f in abr_files(real))
    towns, conflicting = town_keys(real)
    points = rows(real / "abr" / "mt_town_pos_pref30.csv")
    orphans = [p for p in points if (p["lg_code"], p["machiaza_id"]) not in towns]
    assert len(conflicting) == 19 and len({(p["lg_code"], p["machiaza_id"]) for p in orphans}) == 1516 + 19
    rejected = 2 * len(conflicting) + len(orphans)
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (expected, expected - rejected, rejected)
    report = read_report(result.report_path)
    assert Counter((r["source"], r["constraint"]) for r in report) == {
        ("mt_town_pref30.csv", "conflict"): 38,   # 19 towns with a row for each 住居表示フラグ: neither loads
        # points of towns the town file lacks (or rejected), one report row for copies of one row
        ("mt_town_pos_pref30.csv", "reference"): 1516 + 19}
    assert len(result.stats.sources) == 18


def test_what_the_real_load_accepts_kg_validate_accepts(abr_load):
    from kg.store import open_home
    from kg.validation.integrity import dangling
    from kg.validation.revalidate import revalidate

    _, settings = abr_load
    ours = open_home(settings, create=False).open_current()
    checked, violations = revalidate(ours, "abr", M)
    assert checked > 20_000 and violations == []
    assert dangling(ours, "abr", M) == []


def test_prefectures_and_municipalities_match_the_files(loaded):
    _, store, real = loaded
    cities = rows(real / "abr" / "mt_city_all.csv")
    assert count(store, "?x a kg:Prefecture") == len(rows(real / "abr" / "mt_pref_all.csv")) == 47
    assert count(store, "?x a kg:Municipality") == len(cities) == 1918
    assert count(store, "?x a kg:Ward") == sum(1 for r in cities if r["ward"]) == 171
    # every municipality is part of its prefecture or its 政令市; every one has its point in the CRS of its row
    assert count(store, "?x a kg:Municipality ; dcterms:isPartOf ?p . ?p a ?c FILTER(?c IN (kg:Prefecture, kg:Municipality))") == 1918
    assert count(store, "?x a kg:Municipality ; geo:hasGeometry/geo:asWKT ?w") == 1918
    labels = {s["x"].value.rsplit("/", 1)[-1]: s["l"].value for s in run_query(
        store, "SELECT ?x ?l WHERE { ?x a kg:Municipality ; rdfs:label ?l FILTER(lang(?l) = 'ja') }", M)}
    assert labels == {r["lg_code"]: r["city"] + r["ward"] for r in cities}
    assert labels["011011"] == "札幌市中央区" and labels["182079"] == "鯖江市"
    parent = run_query(store, "SELECT ?p WHERE { muni:271284 dcterms:isPartOf ?p }", M)
    assert [s["p"].value for s in parent] == [M.municipality("271004")]   # 大阪市中央区 → 大阪市


def test_every_wakayama_town_has_its_point_in_its_own_crs(loaded):
    _, store, real = loaded
    points = rows(real / "abr" / "mt_town_pos_pref30.csv")
    keys, conflicting = town_keys(real)
    assert len(keys) == 3525 - 19          # 19 towns have a row for each 住居表示 flag: rejected, not merged
    found = {tuple(s["t"].value.rsplit("/", 1)[-1].split("-")) for s in run_query(
        store, "SELECT ?t WHERE { ?t a kg:Town ; kg:prefecture pref:300004 }", M)}
    assert found == keys
    both = count(store, f"?x a kg:Town ; kg:residentialAddressIndication <{M.code('rsdt-addr-flag', '0')}>, <{M.code('rsdt-addr-flag', '1')}>")
    assert both == 0
    expected = {(r["lg_code"], r["machiaza_id"]): f"<{CRS}{r['rep_srid'].split(':')[1]}> POINT({r['rep_lon']} {r['rep_lat']})"
                for r in points if (r["lg_code"], r["machiaza_id"]) in keys}
    wkt = {tuple(s["t"].value.rsplit("/", 1)[-1].split("-")): s["w"].value for s in run_query(
        store, "SELECT ?t ?w WHERE { ?t geo:hasGeometry/geo:asWKT ?w FILTER(STRSTARTS(STR(?t), STR(kgid:)) "
               "&& CONTAINS(STR(?t), '/town/30')) }", M)}
    assert wkt == expected                                   # every point, with the CRS its row names
    with_points = keys & set(expected)
    assert count(store, "?x a kg:Town ; kg:prefecture pref:300004 ; geo:hasGeometry ?g") == len(with_points) == 1919 - 19
    crs = Counter(w.split(">")[0].rsplit("/", 1)[-1] for w in wkt.values())
    assert crs == Counter(r["rep_srid"].split(":")[1] for k, r in {(p["lg_code"], p["machiaza_id"]): p for p in points}.items()
                          if k in keys)
    assert set(crs) == {"6668", "4612"}


def test_municipality_to_its_towns_coordinates(loaded):
    _, store, real = loaded
    q = """SELECT ?town ?name ?wkt WHERE {
        ?m rdfs:label "和歌山市"@ja .
        ?town dcterms:isPartOf ?m ; rdfs:label ?name ; geo:hasGeometry/geo:asWKT ?wkt FILTER(lang(?name) = "ja") }"""
    result = {s["name"].value: s["wkt"].value for s in run_query(store, q, M)}
    towns = {mid for lg, mid in town_keys(real)[0] if lg == "302015"}
    points = {r["machiaza_id"] for r in rows(real / "abr" / "mt_town_pos_pref30.csv") if r["lg_code"] == "302015"}
    assert len(result) == len(towns & points) == 660
    assert result["葵町"] == f"<{CRS}4612> POINT(135.163085 34.21348)"


def test_residences_blocks_and_parcels_of_the_subsets(loaded):
    _, store, real = loaded
    rsdt = rows(real / "abr" / "mt_rsdtdsp_rsdt_pref13__subset_131059_0001001_0001003.csv") + \
        rows(real / "abr" / "mt_rsdtdsp_rsdt_pref30__subset_302015_0001000_0023001.csv")
    assert count(store, "?x a kg:Residence") == len(rsdt) == 1291
    assert count(store, "?x a kg:Residence ; geo:hasGeometry/geo:asWKT ?w") == 1291
    blocks = {(r["lg_code"], r["machiaza_id"], r["blk_id"]) for r in rsdt}
    assert count(store, "?x a kg:Block ; kg:blockNumber ?n ; dcterms:isPartOf/a kg:Town") == len(blocks)
    parcels = rows(real / "abr" / "mt_parcel_city465054__subset_0000122.csv")
    assert count(store, f"?x a kg:Parcel ; geo:hasGeometry/geo:asWKT ?w ; dcterms:isPartOf <{M.town('465054', '0000122')}>") \
        == len(parcels) == 2285
    label = run_query(store, "SELECT ?l WHERE { ?r kg:residenceId '001' ; kg:blockId '001' ; "
                             f"dcterms:isPartOf/dcterms:isPartOf <{M.town('131059', '0001001')}> ; rdfs:label ?l }}", M)
    assert [s["l"].value for s in label] == ["白山１丁目1番1号"]


def test_trimmed_legacy_town_file_takes_lg_code_from_its_name(loaded):
    _, store, real = loaded
    legacy = rows(real / "abr_legacy_ja" / "town_182079_sabae__lg_pref_city_columns_removed.csv")
    assert count(store, "?x a kg:Town ; dcterms:isPartOf muni:182079") == len(legacy) == 3253
    assert count(store, f"?x a kg:Town ; dcterms:isPartOf muni:182079 ; kg:confirmationStatus <{M.code('status-flag', '0')}>") == 3253


def test_pos_file_in_name_order_is_reported_then_loads_after_its_towns(loaded, tmp_path, module_backend):
    """By name mt_town_pos_pref30 comes before mt_town_pref30: its points name towns not loaded yet.
    Loaded embedded in that order, the towns come out as the module's load wrote them."""
    if module_backend is not None:
        pytest.skip("four embedded loads of their own, whatever the backend: once is enough")
    _, store, real = loaded
    settings = load_settings({}, data_dir=str(tmp_path / "d"), base_uri=BASE)
    pos = real / "abr" / "mt_town_pos_pref30.csv"
    run_load(settings, "abr", [real / "abr" / "mt_city_all.csv"])
    early = run_load(settings, "abr", [pos])  # alone, before its towns: every point names nothing loaded
    run_load(settings, "abr", [real / "abr" / "mt_town_pref30.csv"])
    assert early.stats.rejected == len(rows(pos))
    assert {r["constraint"] for r in read_report(early.report_path) if r["source"] == pos.name} == {"reference"}
    other = raw_current(settings.data_path)
    assert not run_query(other, "ASK { ?t geo:hasGeometry ?g }", M)
    run_load(settings, "abr", [pos])
    other = raw_current(settings.data_path)
    graph = ox.NamedNode(M.graph("abr"))

    def towns(s):
        prefix = f"<{M.id}town/30"
        return sorted(l for l in s.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph).decode().splitlines()
                      if l.startswith(prefix))

    mine = towns(other)
    assert len(mine) > 50_000
    assert mine == towns(store)
