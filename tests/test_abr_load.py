"""The ABR loader through the whole pipeline, on CSV text in the published formats (tests/abr_rows.py)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.rdf.iri import Minter
from kg.load.pipeline import run_load
from kg.errors import LoadError
from support import current_store, run_query
from kg.load.report import read_report
from kg.settings import load_settings
from kg.store import open_home

from support import abr_rows as A
from support import BASE

M = Minter(BASE)
pytestmark = pytest.mark.engines
GEO = "http://www.opengis.net/ont/geosparql#"
DCT = "http://purl.org/dc/terms/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CRS = "http://www.opengis.net/def/crs/EPSG/0/"


current = current_store


def values(store, subject, predicate):
    out = []
    for s in run_query(store, f"SELECT ?o WHERE {{ <{subject}> <{predicate}> ?o }}", M):
        o = s["o"]
        out.append(f"{o.value}@{o.language}" if isinstance(o, ox.Literal) and o.language else o.value)
    return sorted(out)


def count(store, where):
    return int(next(iter(run_query(store, f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}", M)))["n"].value)


def dump(settings) -> list[str]:
    graph = ox.NamedNode(M.graph("abr"))
    return sorted(current(settings).dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph).decode().splitlines())


def fresh(tmp_path, name):
    return load_settings({}, data_dir=str(tmp_path / name), base_uri=BASE)


#: the fixture's towns with one row per key (市脇一丁目 with 住居表示フラグ 0 only); ICHIWAKI_1 conflicts
TOWNS = [r for r in A.TOWN_ROWS if r is not A.ICHIWAKI_1]


def write_clean(directory, names=None):
    """Every file of A.ALL (base files first), with one row per town key."""
    directory.mkdir(parents=True, exist_ok=True)
    return [A.write(directory / name, cols, TOWNS if rows is A.TOWN_ROWS else rows)
            for name, (cols, rows) in A.ALL.items() if names is None or name in names]


def load_base(settings, tmp_path, towns=False):
    """Load what the files under test refer to: prefectures, municipalities (and towns)."""
    names = ["mt_pref_all.csv", "mt_city_all.csv"] + (["mt_town_all.csv"] if towns else [])
    result = run_load(settings, "abr", write_clean(tmp_path / "base", names))
    assert result.stats.rejected == 0


def validates(cli):
    """`kg validate abr` finds nothing: no shape violation, no reference to a missing entity."""
    result = cli("validate", "abr")
    assert result.exit_code == 0, result.output
    assert " 0 violations, 0 references to no entity" in result.output
    return True


def report_of(result):
    return read_report(result.report_path) if result.report_path else []


def test_every_file_kind_loads(settings, tmp_path, cli):
    files = write_clean(tmp_path / "abr")
    result = run_load(settings, "abr", files)
    rows = sum(len(r) for _, r in A.ALL.values()) - 1
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (rows, rows, 0)
    assert validates(cli)
    store = current(settings)
    kg = M.def_
    assert {cls: count(store, f"?x a <{kg}{cls}>") for cls in
            ("Prefecture", "Municipality", "Ward", "Town", "Block", "Residence", "Parcel")} == \
        {"Prefecture": 4, "Municipality": 6, "Ward": 1, "Town": 5, "Block": 2, "Residence": 4, "Parcel": 2}
    assert count(store, f"?e <{GEO}hasGeometry> ?x . ?x a <{GEO}Geometry> ; <{GEO}asWKT> ?w") == 14
    # prefecture and (ward of a) municipality: labels in kanji, kana and romaji, e-Stat link, check digit ids
    tokyo = M.prefecture("130001")
    assert values(store, tokyo, RDFS + "label") == ["Tokyo@en", "トウキョウト@ja-hrkt", "東京都@ja"]
    chuo = M.municipality("011011")
    assert values(store, chuo, RDFS + "label") == ["Sapporo-shi Chuo-ku@en", "サッポロシチュウオウク@ja-hrkt", "札幌市中央区@ja"]
    assert "中央区@ja" in values(store, chuo, "http://www.w3.org/2004/02/skos/core#altLabel")
    assert values(store, chuo, RDFS + "seeAlso") == ["http://data.e-stat.go.jp/lod/sac/C01101"]
    assert values(store, chuo, DCT + "identifier") == ["011011"]
    yakushima = M.municipality("465054")
    assert values(store, yakushima, kg + "county") == ["Kumage-gun@en", "クマゲグン@ja-hrkt", "熊毛郡@ja"]
    assert "熊毛郡屋久島町@ja" in values(store, yakushima, "http://www.w3.org/2004/02/skos/core#altLabel")
    # towns: labels, parts, codes as SKOS concepts, dates as xsd:date
    aoi = M.town("302015", "0001000")
    assert values(store, aoi, RDFS + "label") == ["Aoicho@en", "アオイチョウ@ja-hrkt", "葵町@ja"]
    assert values(store, aoi, kg + "machiazaType") == [M.code("machiaza-type", "1")]
    labels = {s["l"].value for s in run_query(store, f"SELECT ?l WHERE {{ <{aoi}> kg:machiazaType/skos:prefLabel ?l }}", M)}
    assert labels == {"大字・町", "Oaza or machi"}
    dates = list(run_query(store, f"SELECT ?d WHERE {{ <{aoi}> kg:effectiveDate ?d }}", M))
    assert [(d["d"].value, d["d"].datatype.value) for d in dates] == [("1947-04-17", "http://www.w3.org/2001/XMLSchema#date")]
    hakusan = M.town("131059", "0001001")
    assert values(store, hakusan, RDFS + "label") == ["Hakusan 1-chome@en", "ハクサン１チョウメ@ja-hrkt", "白山１丁目@ja"]
    assert values(store, hakusan, kg + "chomeNumber") == ["1"]
    koshima = M.town("465054", "0000122")
    assert values(store, koshima, RDFS + "label") == ["Koshima@en", "コシマ@ja-hrkt", "小島@ja"]
    # blocks, residences (with a 住居2), parcels
    assert values(store, M.block("131059", "0001001", "002"), RDFS + "label") == ["白山１丁目2番@ja"]
    flat = M.residence("131059", "0001001", "002", "003", "00101")
    assert values(store, flat, RDFS + "label") == ["白山１丁目2番3-101号@ja"]
    assert values(store, flat, kg + "residence2Id") == ["00101"]
    assert values(store, flat, DCT + "identifier") == ["131059-0001001-002-003-00101"]
    lot = M.parcel("465054", "0000122", "000010000200000")
    assert values(store, lot, RDFS + "label") == ["小島1番2@ja"]
    assert values(store, lot, kg + "parcelRecordLevel") == [M.code("parcel-record-flag", "1")]
    assert values(store, lot, kg + "sourceMaterial") == [M.code("parcel-source", "1")]
    # the block's point carries the GSI address code as a link
    assert values(store, M.block("131059", "0001001", "001") + "#point", RDFS + "seeAlso") == \
        ["http://gi.gsi.go.jp/jusho/13105/HKS-1/1"]
    assert values(store, M.residence("131059", "0001001", "001", "001") + "#point", kg + "gsiDataDate") == ["2019-04-04"]


def test_hierarchy_up_to_the_prefecture(settings, tmp_path):
    run_load(settings, "abr", write_clean(tmp_path / "abr"))
    store = current(settings)

    def ancestors(iri):
        return {s["p"].value for s in run_query(store, f"SELECT ?p WHERE {{ <{iri}> dcterms:isPartOf+ ?p }}", M)}

    assert ancestors(M.residence("131059", "0001001", "001", "002")) == {
        M.block("131059", "0001001", "001"), M.town("131059", "0001001"), M.municipality("131059"), M.prefecture("130001")}
    assert ancestors(M.parcel("465054", "0000122", "000010000100000")) == {
        M.town("465054", "0000122"), M.municipality("465054"), M.prefecture("460001")}
    assert ancestors(M.municipality("011011")) == {M.municipality("011002"), M.prefecture("010006")}
    # downwards: a municipality's towns and their coordinates, in one query
    q = """SELECT ?label ?wkt WHERE { ?t a kg:Town ; dcterms:isPartOf muni:302015 ; rdfs:label ?label ;
             geo:hasGeometry/geo:asWKT ?wkt FILTER(lang(?label) = "ja") } ORDER BY ?label"""
    rows = [(s["label"].value, s["wkt"].value) for s in run_query(store, q, M)]
    assert rows == [("秋月", f"<{CRS}4612> POINT(135.203712 34.230374)"), ("葵町", f"<{CRS}4612> POINT(135.163085 34.21348)")]
    # every address entity knows its municipality and prefecture directly
    assert values(store, M.residence("131059", "0001001", "001", "001"), M.term("prefecture")) == [M.prefecture("130001")]


def test_ward_parent_without_its_city_in_the_file(settings, tmp_path, cli):
    ward_only = A.write(tmp_path / "ward.csv", A.CITY, [A.CITY_ROWS[1]])
    pref = A.write(tmp_path / "pref.csv", A.PREF, A.PREF_ROWS)
    alone = run_load(settings, "abr", [pref, ward_only])   # 札幌市 was never loaded: 中央区 would point at nothing
    assert alone.stats.rejected == 1
    (row,) = report_of(alone)
    assert (row["source"], row["line"], row["constraint"], row["value"]) == \
        ("ward.csv", "2", "reference", M.municipality("011002"))
    assert "load that file first" in row["message"]
    assert not run_query(current(settings), f"ASK {{ <{M.municipality('011011')}> ?p ?o }}", M)
    run_load(settings, "abr", [A.write(tmp_path / "city.csv", A.CITY, [A.CITY_ROWS[0]])])
    result = run_load(settings, "abr", [ward_only])
    assert result.stats.rejected == 0
    assert values(current(settings), M.municipality("011011"), DCT + "isPartOf") == [M.municipality("011002")]
    assert validates(cli)


def test_a_pos_file_before_its_base_file_is_reported_not_a_phantom(tmp_path):
    files = write_clean(tmp_path / "abr")
    base = [f for f in files if "_pos" not in f.name]
    pos = [f for f in files if "_pos" in f.name]
    a = fresh(tmp_path, "a")
    run_load(a, "abr", base)
    run_load(a, "abr", pos)
    reference = dump(a)
    assert any("hasGeometry" in line for line in reference)
    b = fresh(tmp_path, "b")
    early = run_load(b, "abr", pos)   # the _pos files alone: their points name nothing loaded yet
    assert early.stats.rejected == sum(len(A.ALL[f.name][1]) for f in pos)
    report = report_of(early)
    assert {r["constraint"] for r in report} == {"reference"}
    assert {r["source"] for r in report} == {f.name for f in pos}
    town = next(r for r in report if r["source"] == "mt_town_pos_all.csv" and r["line"] == "3")
    assert town["value"] == M.town("302015", "0001000") and "load that file first" in town["message"]
    assert not any("hasGeometry" in line or "#point" in line for line in dump(b))   # no phantom, no point
    run_load(b, "abr", base)
    run_load(b, "abr", pos)                  # in the right order now
    assert dump(b) == reference
    c = fresh(tmp_path, "c")
    run_load(c, "abr", pos + base)           # one load puts the files in the order they need
    assert dump(c) == reference
    run_load(a, "abr", base)   # reloading base files keeps the points (Entity.keep) and adds nothing
    assert dump(a) == reference


def test_references_are_asked_ahead_in_one_request_and_again_only_after_a_write():
    """What entities refer to is asked of the store for many entities at once (one request to an
    engine, not one per row), and an IRI found absent is asked again after a write."""
    from kg.load.batches import References
    from kg.load.contract import Entity
    from kg.store.oxigraph import OxStore

    raw = ox.Store()
    typed = lambda iri: raw.add(ox.Quad(ox.NamedNode(iri), ox.NamedNode(RDF_TYPE), ox.NamedNode(M.term("Town")),
                                        ox.NamedNode(M.graph("abr"))))
    a, b, c = (M.town("302015", f"000{i}000") for i in (1, 2, 3))
    typed(a)
    raw.add(ox.Quad(ox.NamedNode(c), ox.NamedNode(RDFS + "label"), ox.Literal("型なし"), ox.NamedNode(M.graph("abr"))))

    class Counted(OxStore):
        asked: list[str] = []
        subjects_per_read = 3  # KG_SPARQL_SUBJECTS on an engine

        def quads_of(self, subjects, predicates=None, graph=None):
            subjects = list(subjects)
            self.asked.append(f"quads_of {len(subjects)}")
            return super().quads_of(subjects, predicates, graph)

        def has(self, *args, **kwargs):
            self.asked.append("has")
            return super().has(*args, **kwargs)

    store = Counted(raw)
    refs = References(store)
    entity = lambda n, *requires: Entity(focus=f"{BASE}x/{n}", triples=[], source="t.csv", line=n, key=str(n),
                                         requires=requires)
    items = iter(refs.ahead([entity(1, a), entity(2, b), entity(3, b, c), entity(4, a), entity(5, b)]))
    assert refs.missing(next(items).requires) == []
    assert store.asked == ["quads_of 3"]          # a, b and c of the first three entities, at once
    assert refs.missing(next(items).requires) == [b]
    typed(b)
    refs.written()
    assert refs.missing(next(items).requires) == [c]   # b is described now; c has no type: no town
    assert store.asked == ["quads_of 3", "quads_of 2"]   # after the write, the absent b and c again
    assert refs.missing(next(items).requires) == [] and refs.missing(next(items).requires) == []
    assert store.asked == ["quads_of 3", "quads_of 2"]   # the next three: a and b are known found
    d = M.town("302015", "0004000")
    assert refs.missing((d,)) == [d] and refs.missing((d,)) == [d]   # not asked ahead: asked alone, once
    assert store.asked == ["quads_of 3", "quads_of 2", "quads_of 1"] and "has" not in store.asked
    assert References(None).missing((a,)) == [a]   # a stream into an empty dataset: nothing is described


def test_order_puts_each_base_file_before_the_files_that_refer_to_it(tmp_path):
    from kg.loaders.abr import AbrLoader
    from kg.load.sources import SourceFile

    files = write_clean(tmp_path / "abr")
    junk = tmp_path / "abr" / "a_notes.csv"
    junk.write_text("name,age\nalice,3\n", encoding="utf-8")
    named = sorted(files + [junk])   # what a directory gives: by name, mt_city before mt_pref, _pos…
    ordered = [s.path.name for s in AbrLoader.order([SourceFile(p.name, p) for p in named])]
    assert ordered == ["mt_pref_all.csv", "mt_city_all.csv", "mt_city_pos_all.csv", "mt_pref_pos_all.csv",
                       "mt_town_all.csv", "mt_town_pos_all.csv", "mt_rsdtdsp_blk_city131059.csv",
                       "mt_rsdtdsp_blk_pos_city131059.csv", "mt_rsdtdsp_rsdt_city131059.csv",
                       "mt_rsdtdsp_rsdt_pos_city131059.csv", "mt_parcel_city465054.csv", "mt_parcel_pos_city465054.csv",
                       "a_notes.csv"]
    c = fresh(tmp_path, "c")
    result = run_load(c, "abr", [tmp_path / "abr" / name for name in ordered[:-1]])
    assert result.stats.rejected == 0


def test_mixed_crs_is_kept_per_row(settings, tmp_path, cli):
    load_base(settings, tmp_path, towns=True)
    pos = A.write(tmp_path / "mt_town_pos_all.csv", A.TOWN_POS, A.TOWN_POS_ROWS)
    assert run_load(settings, "abr", [pos]).stats.rejected == 0
    assert validates(cli)
    store = current(settings)
    wkt = {s["t"].value: (s["w"].value, s["w"].datatype.value) for s in run_query(
        store, "SELECT ?t ?w WHERE { ?t geo:hasGeometry ?g . ?g geo:asWKT ?w }", M)}
    dt = GEO + "wktLiteral"
    assert wkt[M.town("302015", "0001000")] == (f"<{CRS}4612> POINT(135.163085 34.21348)", dt)
    assert wkt[M.town("131059", "0001001")] == (f"<{CRS}6668> POINT(139.752850 35.718260)", dt)
    assert {w.split(">")[0][1:] for w, _ in wkt.values()} == {CRS + "4612", CRS + "6668"}


@pytest.mark.parametrize("order", ["adjacent", "apart"])
def test_town_with_both_residential_flags_is_rejected_never_merged(settings, tmp_path, cli, order):
    # the real mt_town_pref30 has 19 such keys, adjacent (sorted by key); apart, the file is sorted first
    rows = [A.ICHIWAKI_0, A.ICHIWAKI_1] if order == "adjacent" else [A.ICHIWAKI_1, A.AOI, A.ICHIWAKI_0]
    lines = ("2", "3") if order == "adjacent" else ("4", "2")   # ICHIWAKI_0's line, then ICHIWAKI_1's
    load_base(settings, tmp_path)
    run_load(settings, "abr", [A.write(tmp_path / "old.csv", A.TOWN, [{**A.ICHIWAKI_0, "post_code": "6480000"}])])
    result = run_load(settings, "abr", [A.write(tmp_path / "t.csv", A.TOWN, rows)])
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (len(rows), len(rows) - 2, 2)
    report = report_of(result)
    assert sorted(r["line"] for r in report) == sorted(lines)
    first, second = sorted(lines, key=int)
    for r in report:
        assert (r["source"], r["key"], r["constraint"]) == ("t.csv", "302031-0004001", "conflict")
        assert r["message"].startswith(f"t.csv: lines {first} and {second} give the same 町字 (mt_town) key 302031-0004001")
        assert f"rsdt_addr_flg (住居表示フラグ) '0' (line {lines[0]}) vs '1' (line {lines[1]})" in r["message"] \
            or f"rsdt_addr_flg (住居表示フラグ) '1' (line {lines[1]}) vs '0' (line {lines[0]})" in r["message"]
        assert "rsdt_addr_mtd_code (住居表示方式コード)" in r["message"] and "no row of this key is loaded" in r["message"]
        assert "post_code" not in r["message"] and "oaza_cho" not in r["message"]
    store = current(settings)
    t = M.town("302031", "0004001")
    # neither row is loaded: what the earlier load said stays, with its one flag
    assert values(store, t, "http://www.w3.org/ns/locn#postCode") == ["6480000"]
    assert values(store, t, M.term("residentialAddressIndication")) == [M.code("rsdt-addr-flag", "0")]
    assert validates(cli)


def test_a_conflicting_key_never_loaded_before_leaves_nothing_and_its_point_is_reported(settings, tmp_path, cli):
    load_base(settings, tmp_path)
    run_load(settings, "abr", [A.write(tmp_path / "t.csv", A.TOWN, [A.ICHIWAKI_0, A.ICHIWAKI_1])])
    pos = run_load(settings, "abr", [A.write(tmp_path / "pos.csv", A.TOWN_POS, A.TOWN_POS_ROWS[3:5])])
    # the two points of 市脇一丁目 are copies of one row: one report row, both records rejected
    assert (pos.stats.read, pos.stats.rejected) == (2, 2)
    assert [(r["line"], r["constraint"]) for r in report_of(pos)] == [("2", "reference")]
    assert not run_query(current(settings), f"ASK {{ {{ <{M.town('302031', '0004001')}> ?p ?o }} UNION "
                                            f"{{ ?s ?p <{M.town('302031', '0004001')}> }} }}", M)
    assert validates(cli)


#: (columns, a row, another row of the same kind, a column of the row and a different value for it)
KIND_CASES = {
    "mt_pref": (A.PREF, A.PREF_ROWS[1], A.PREF_ROWS[2], "pref_roma", "TOKYO"),
    "mt_city": (A.CITY, A.CITY_ROWS[2], A.CITY_ROWS[3], "city_kana", "ブンキヨウク"),
    "mt_city_pos": (A.LG_POS, A.LG_POS_ROWS[3], A.LG_POS_ROWS[1], "rep_lat", "35.7"),
    "mt_town": (A.TOWN, A.HAKUSAN_1, A.AOI, "rsdt_addr_flg", "0"),
    "mt_town_pos": (A.TOWN_POS, A.TOWN_POS_ROWS[0], A.TOWN_POS_ROWS[1], "rep_srid", "EPSG:4612"),
    "mt_rsdtdsp_blk": (A.BLK, A.BLK_ROWS[0], A.BLK_ROWS[1], "blk_num", "9"),
    "mt_rsdtdsp_blk_pos": (A.BLK_POS, A.BLK_POS_ROWS[0], {**A.BLK_POS_ROWS[0], "blk_id": "002", "rsdt_addr_code_rdbl": ""},
                           "rep_scale", "500"),
    "mt_rsdtdsp_rsdt": (A.RSDT, A.RSDT_ROWS[0], A.RSDT_ROWS[1], "rsdt_num", "9"),
    "mt_rsdtdsp_rsdt_pos": (A.RSDT_POS, A.RSDT_POS_ROWS[0], A.RSDT_POS_ROWS[1], "rep_lon", "139.75"),
    "mt_parcel": (A.PARCEL, A.PARCEL_ROWS[0], A.PARCEL_ROWS[1], "prc_num2", "9"),
    "mt_parcel_pos": (A.PARCEL_POS, A.PARCEL_POS_ROWS[0], A.PARCEL_POS_ROWS[1], "rep_lat", "30.2"),
}


def _before(kind: str) -> list[str]:
    """The fixture files a file of ``kind`` may refer to (everything ranked before it)."""
    order = ["mt_pref", "mt_city", "mt_city_pos", "mt_town", "mt_town_pos", "mt_rsdtdsp_blk", "mt_rsdtdsp_blk_pos",
             "mt_rsdtdsp_rsdt", "mt_rsdtdsp_rsdt_pos", "mt_parcel", "mt_parcel_pos"]
    before = set(order[:order.index(kind)])
    return [name for name in A.ALL if next(k for k in reversed(order) if name.startswith(k + "_")) in before
            and "mt_pref_pos" not in name]


@pytest.mark.parametrize("kind", sorted(KIND_CASES))
def test_one_duplicate_rule_for_every_kind(tmp_path, kind):
    """Copies of a row load once; two rows of one key that disagree are both rejected, adjacent or not."""
    from kg.loaders.abr import KINDS

    columns, row, other, column, value = KIND_CASES[kind]
    title = KINDS["mt_lg_pos" if kind == "mt_city_pos" else kind].title
    prereq = write_clean(tmp_path / "base", _before(kind))

    def run_prereq(settings):
        if prereq:
            assert run_load(settings, "abr", prereq).stats.rejected == 0

    single = fresh(tmp_path, "single")
    run_prereq(single)
    run_load(single, "abr", [A.write(tmp_path / "one.csv", columns, [row, other])])
    for name, rows in (("adjacent", [row, row, other]), ("apart", [row, other, row])):
        s = fresh(tmp_path, name)
        run_prereq(s)
        result = run_load(s, "abr", [A.write(tmp_path / f"{name}.csv", columns, rows)])
        assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (3, 3, 0), report_of(result)
        assert dump(s) == dump(single)
    changed = {**row, column: value}
    for name, rows, lines in (("adjacent", [row, changed, other], ("2", "3")), ("apart", [row, other, changed], ("2", "4"))):
        s = fresh(tmp_path, "conflict-" + name)
        run_prereq(s)
        result = run_load(s, "abr", [A.write(tmp_path / f"c-{name}.csv", columns, rows)])
        assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (3, 1, 2)
        report = report_of(result)
        assert sorted(r["line"] for r in report) == list(lines)
        for r in report:
            assert r["constraint"] == "conflict"
            assert r["message"].startswith(f"c-{name}.csv: lines {lines[0]} and {lines[1]} give the same {title} key")
            assert f"{column}" in r["message"] and f"{value!r} (line {lines[1]})" in r["message"]
        settings = load_settings({}, data_dir=str(tmp_path / ("conflict-" + name)), base_uri=BASE)
        _, problems = _validate(settings)
        assert problems == []


def _validate(settings):
    from kg.store import open_home
    from kg.validation.integrity import dangling
    from kg.validation.revalidate import revalidate

    store = open_home(settings.data_path).open_current()
    _, violations = revalidate(store, "abr", M)
    return violations, [d for d in dangling(store, "abr", M) if d.problem] + violations


def test_non_adjacent_rows_are_sorted_on_disk_in_runs(settings, tmp_path, monkeypatch, cli):
    import kg.loaders.abr as abr
    from kg.load.sources import SourceFile

    load_base(settings, tmp_path, towns=True)
    shuffled = [A.PARCEL_ROWS[1], A.PARCEL_ROWS[0], {**A.PARCEL_ROWS[1], "prc_id": "000030000100000", "prc_num1": "3",
                "prc_num2": "1"}, A.PARCEL_ROWS[1], {**A.PARCEL_ROWS[0], "prc_num2": "7"}]
    path = A.write(tmp_path / "p.csv", A.PARCEL, shuffled)
    layout, ascending = abr.survey(SourceFile(path.name, path))
    assert layout.kind.name == "mt_parcel" and not ascending
    monkeypatch.setattr(abr, "SORT_CHUNK", 2)   # three runs on disk, merged
    lines = [r.line for r in abr.AbrLoader().records(SourceFile(path.name, path))]
    assert lines == [3, 6, 2, 5, 4]          # by key, then by line
    result = run_load(settings, "abr", [path])
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (5, 3, 2)
    assert sorted((r["line"], r["constraint"]) for r in report_of(result)) == [("3", "conflict"), ("6", "conflict")]
    store = current(settings)
    assert count(store, "?x a kg:Parcel") == 2
    assert values(store, M.parcel("465054", "0000122", "000010000200000"), M.term("parcelBranch")) == ["2"]
    assert validates(cli)


@pytest.mark.parametrize("name,needs", [
    ("mt_town_all.csv", "municipality"),
    ("mt_town_pos_all.csv", "town"),
    ("mt_rsdtdsp_blk_city131059.csv", "town"),
    ("mt_rsdtdsp_blk_pos_city131059.csv", "block"),
    ("mt_rsdtdsp_rsdt_city131059.csv", "town"),
    ("mt_rsdtdsp_rsdt_pos_city131059.csv", "residence"),
    ("mt_parcel_city465054.csv", "parcel-town"),
    ("mt_parcel_pos_city465054.csv", "parcel"),
    ("mt_city_pos_all.csv", "municipality"),
])
def test_rows_that_refer_to_what_was_never_loaded_make_no_phantom(settings, tmp_path, cli, name, needs):
    """Each file alone (nothing it refers to loaded): every row is reported, nothing is written."""
    path = write_clean(tmp_path / "abr", [name])[0]
    if needs != "municipality":   # a town needs its municipality only: load those
        load_base(settings, tmp_path)
    result = run_load(settings, "abr", [path])
    rows = len(path.read_text(encoding="utf-8").splitlines()) - 1
    assert result.stats.loaded == 0 and result.stats.rejected == result.stats.read == rows
    report = report_of(result)
    assert {r["constraint"] for r in report} == {"reference"}
    kind = "town" if needs == "parcel-town" else needs
    assert all(r["value"].startswith(f"{M.id}{kind}/") and "load that file first" in r["message"] for r in report)
    assert not run_query(current(settings), f"ASK {{ GRAPH <{M.graph('abr')}> {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "
                                            f"\"{M.id}{kind}/\") || isIRI(?o) && STRSTARTS(STR(?o), \"{M.id}{kind}/\")) }} }}", M)
    assert validates(cli)


def test_post_codes_are_split(settings, tmp_path):
    load_base(settings, tmp_path)
    run_load(settings, "abr", [A.write(tmp_path / "t.csv", A.TOWN, [A.AKIZUKI, A.AOI])])
    store = current(settings)
    post = "http://www.w3.org/ns/locn#postCode"
    assert values(store, M.town("302015", "0002000"), post) == ["6408322", "6408323"]
    assert values(store, M.town("302015", "0001000"), post) == ["6408273"]


def test_blocks_are_derived_from_residences(settings, tmp_path, cli):
    load_base(settings, tmp_path, towns=True)   # no block file: the residences' rows state their blocks
    assert run_load(settings, "abr", [A.write(tmp_path / "r.csv", A.RSDT, A.RSDT_ROWS)]).stats.rejected == 0
    assert validates(cli)
    store = current(settings)
    assert count(store, "?x a kg:Block") == 2
    block = M.block("131059", "0001001", "001")
    assert values(store, block, M.term("blockNumber")) == ["1"]
    assert values(store, block, DCT + "isPartOf") == [M.town("131059", "0001001")]
    assert values(store, M.residence("131059", "0001001", "001", "002"), DCT + "isPartOf") == [block]


def test_japanese_headers_give_the_english_graph(tmp_path):
    english = fresh(tmp_path, "en")
    run_load(english, "abr", [A.write(tmp_path / "en_pref.csv", A.PREF, A.PREF_ROWS),
                              A.write(tmp_path / "en_city.csv", A.CITY, A.CITY_ROWS),
                              A.write(tmp_path / "en_town.csv", A.TOWN, TOWNS),
                              A.write(tmp_path / "en_pos.csv", A.TOWN_POS, A.TOWN_POS_ROWS)])
    japanese = fresh(tmp_path, "ja")
    pos = [{k: v for k, v in r.items() if k in dict(A.JA_TOWN_POS).values()} for r in A.TOWN_POS_ROWS]
    result = run_load(japanese, "abr", [A.write(tmp_path / "pref.csv", A.JA_PREF, A.PREF_ROWS),
                                        A.write(tmp_path / "city.csv", A.JA_CITY, A.CITY_ROWS),
                                        A.write(tmp_path / "town.csv", A.JA_TOWN, TOWNS),
                                        A.write(tmp_path / "pos.csv", A.JA_TOWN_POS, pos)])
    assert result.stats.rejected == 0
    graph_en = dump(english)
    # the Japanese pos variant has no MLIT code column: compare everything else
    assert [l for l in dump(japanese)] == [l for l in graph_en if "mlitOazaChomeCode" not in l]


def test_zipped_files_load_like_plain_ones(tmp_path):
    text = A.csv_text(A.TOWN, TOWNS)
    pos = A.csv_text(A.TOWN_POS, A.TOWN_POS_ROWS)
    plain = fresh(tmp_path, "plain")
    load_base(plain, tmp_path)
    run_load(plain, "abr", [A.write(tmp_path / "mt_town_all.csv", A.TOWN, TOWNS),
                            A.write(tmp_path / "mt_town_pos_all.csv", A.TOWN_POS, A.TOWN_POS_ROWS)])
    zipped = fresh(tmp_path, "zip")
    load_base(zipped, tmp_path)
    result = run_load(zipped, "abr", [A.write_zip(tmp_path / "mt_town_all.csv.zip", "mt_town_all.csv", text),
                                      A.write_zip(tmp_path / "mt_town_pos_all.csv.zip", "mt_town_pos_all.csv", pos)])
    assert result.stats.rejected == 0
    assert dump(zipped) == dump(plain)


def test_trimmed_town_file_takes_lg_code_from_its_name(tmp_path):
    # the real 2022 鯖江市 file lost its lg_code, pref and city columns (abr_legacy_ja/); so does this one
    keep = [(h, n) for h, n in A.JA_TOWN if not n.startswith(("lg_code", "pref", "county", "city", "ward"))]
    rows = [A.town("182079", "0001001", "2", ("鯖江市", "サバエシ", "Sabae-shi"), "旭町", "アサヒマチ", "Asahimachi",
                   chome="一丁目", chome_kana="１チョウメ", chome_number="1", flag="1", method="1")]
    rows = [{k: v for k, v in r.items() if k in dict(keep).values()} for r in rows]
    text = A.csv_text(keep, rows)
    (tmp_path / "180009" / "182079").mkdir(parents=True)
    by_dir = tmp_path / "180009" / "182079" / "town.csv"
    by_name = tmp_path / "town_182079_sabae.csv"
    fukui = A.write(tmp_path / "mt_city_fukui.csv", A.CITY, [A.city("182079", "福井県", "フクイケン", "Fukui", "鯖江市",
                                                                     "サバエシ", "Sabae-shi")])
    for path in (by_dir, by_name):
        path.write_text(text, encoding="utf-8")
        s = fresh(tmp_path, path.parent.name + path.name)
        assert run_load(s, "abr", [fukui, path]).stats.rejected == 0
        t = M.town("182079", "0001001")
        assert values(current(s), t, DCT + "isPartOf") == [M.municipality("182079")]
        assert values(current(s), t, RDFS + "label") == ["Asahimachi 1-chome@en", "アサヒマチ１チョウメ@ja-hrkt", "旭町一丁目@ja"]
    for bad in (tmp_path / "town_182079_and_182010.csv", tmp_path / "town.csv"):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(LoadError, match=r"no column lg_code \(全国地方公共団体コード\)") as err:
            run_load(fresh(tmp_path, "bad"), "abr", [bad])
        assert bad.name in str(err.value)


def test_pos_file_without_a_crs_column_is_refused(settings, tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text("全国地方公共団体コード,町字id,代表点_経度,代表点_緯度\n302015,0001000,135.163085,34.21348\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"pos\.csv.*rep_srid \(代表点_座標参照系\)"):
        run_load(settings, "abr", [path])


def test_bad_rows_are_reported_and_the_rest_loads(settings, tmp_path):
    town_rows = [
        A.AOI,
        {**A.AKIZUKI, "lg_code": "302016"},                      # wrong check digit (302015)
        {**A.AKIZUKI, "machiaza_id": "0003000", "machiaza_type": "9"},
        {**A.AKIZUKI, "machiaza_id": "0004000", "efct_date": "2021-02-30"},
        {**A.AKIZUKI, "machiaza_id": "0005000", "post_code": "640-8322"},
        {**A.AKIZUKI, "machiaza_id": "0006000", "status_flg": "7"},
        {**A.AKIZUKI, "machiaza_id": "12"},
    ]
    towns = A.write(tmp_path / "towns.csv", A.TOWN, town_rows)
    with open(towns, "a", encoding="utf-8") as fh:
        fh.write("302015,0007000,1,和歌山県\n")                     # short row
    cities = A.write(tmp_path / "cities.csv", A.CITY, [A.CITY_ROWS[0], {**A.CITY_ROWS[3], "lg_code": "302010"},
                                                      A.CITY_ROWS[3]])
    pos = A.write(tmp_path / "pos.csv", A.TOWN_POS, [
        A.TOWN_POS_ROWS[1],
        {**A.TOWN_POS_ROWS[2], "rep_srid": ""},
        {**A.TOWN_POS_ROWS[2], "machiaza_id": "0003000", "rep_lon": "east"},
        {**A.TOWN_POS_ROWS[2], "machiaza_id": "0004000", "lg_code": "302016"},
        {**A.TOWN_POS_ROWS[2], "machiaza_id": "0005000", "rep_srid": "JGD2011"},
        {**A.TOWN_POS_ROWS[2], "machiaza_id": "0006000", "rep_lon": "", "rep_lat": ""},   # optional: no point, no error
    ])
    result = run_load(settings, "abr", [cities, towns, pos])
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (17, 5, 12)
    report = read_report(result.report_path)
    found = {(r["source"], r["line"]): r for r in report}
    for r in report:
        assert r["message"] and int(r["line"]) > 1
    assert {r["constraint"] for (src, line), r in found.items() if src == "towns.csv"} >= {"CheckDigit", "Class", "Datatype", "Pattern", "columns"}
    assert found[("towns.csv", "3")]["constraint"] == "CheckDigit" and "302016" in found[("towns.csv", "3")]["message"]
    assert found[("towns.csv", "4")]["constraint"] == "Class"
    assert found[("towns.csv", "5")]["constraint"] == "Datatype"
    assert found[("towns.csv", "6")]["constraint"] == "Pattern"
    assert found[("towns.csv", "7")]["constraint"] == "Class"
    assert found[("towns.csv", "8")]["constraint"] == "Pattern"
    assert found[("towns.csv", "9")]["constraint"] == "columns"
    assert found[("cities.csv", "3")]["constraint"] == "CheckDigit"
    assert "CRS" in found[("pos.csv", "3")]["message"] and found[("pos.csv", "3")]["constraint"] == "coordinates"
    assert "not a number" in found[("pos.csv", "4")]["message"]
    assert found[("pos.csv", "5")]["constraint"] == "key" and "check digit" in found[("pos.csv", "5")]["message"]
    assert "not an EPSG code" in found[("pos.csv", "6")]["message"]
    store = current(settings)
    assert run_query(store, f"ASK {{ <{M.town('302015', '0001000')}> geo:hasGeometry ?g }}", M)
    assert not run_query(store, f"ASK {{ <{M.town('302016', '0002000')}> ?p ?o }}", M)
    assert not run_query(store, f"ASK {{ <{M.municipality('302010')}> ?p ?o }}", M)
    assert not run_query(store, f"ASK {{ <{M.town('302015', '0006000')}> ?p ?o }}", M)


@pytest.mark.parametrize("content,message", [
    (b"name,age\nalice,3\n", r"not an アドレス・ベース・レジストリ \(ABR\) CSV"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), r"not an アドレス・ベース・レジストリ \(ABR\) CSV"),
    (b"", "empty file"),
    ("1,1000011000005,01,1,2018-04-02,2015-10-05,\"国立国会図書館\",,101,\"東京都\"\n".encode(), "not an アドレス・ベース・レジストリ"),
    ("都道府県コード,都道府県名,市区町村コード,市区町村名,大字町丁目コード,大字町丁目名,緯度,経度\n".encode("cp932"),
     r"lacks the column\(s\) lg_code \(全国地方公共団体コード\)"),
])
def test_non_abr_files_are_refused_and_data_stays(settings, tmp_path, content, message):
    load_base(settings, tmp_path)
    run_load(settings, "abr", [A.write(tmp_path / "t.csv", A.TOWN, [A.AOI])])
    before = open_home(settings).current_name()
    junk = tmp_path / "junk.csv"
    junk.write_bytes(content)
    with pytest.raises(LoadError, match=message) as err:
        run_load(settings, "abr", [junk])
    assert "junk.csv" in str(err.value) and "unchanged" in str(err.value)
    assert open_home(settings).current_name() == before
    assert run_query(current(settings), f"ASK {{ <{M.town('302015', '0001000')}> ?p ?o }}", M)


def test_cli_loads_a_fullset_file_with_aliases(cli, tmp_path):
    row = {**A.AOI, "alias_oaza": "葵", "alias_oaza_kana": "アオイ", "alias_oaza_roma": "Aoi", "oaza_cho_uncmn_type": "01"}
    path = A.write(tmp_path / "mt_town_fullset_city302015.csv", A.TOWN_FULLSET, [row])
    base = write_clean(tmp_path / "base", ["mt_pref_all.csv", "mt_city_all.csv"])
    assert cli("load", "abr", *map(str, base)).exit_code == 0
    result = cli("load", "abr", str(path))
    assert result.exit_code == 0, result.output
    assert "abr: read 1 records, loaded 1, rejected 0" in result.output
    out = cli("query", f"SELECT ?l WHERE {{ <{M.town('302015', '0001000')}> skos:altLabel ?l }}", "--format", "csv")
    assert {"葵", "アオイ", "Aoi"} <= set(out.output.split())
