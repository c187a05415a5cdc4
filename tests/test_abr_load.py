"""The ABR loader through the whole pipeline, on CSV text in the published formats (tests/abr_rows.py)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.rdf.iri import Minter
from kg.load.pipeline import run_load
from kg.errors import LoadError
from support import raw_current, run_query
from kg.load.report import read_report
from kg.settings import load_settings
from kg.store.generations import Generations

from support import abr_rows as A
from support import BASE

M = Minter(BASE)
GEO = "http://www.opengis.net/ont/geosparql#"
DCT = "http://purl.org/dc/terms/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
CRS = "http://www.opengis.net/def/crs/EPSG/0/"


def current(settings):
    return raw_current(settings.data_path)


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


def test_every_file_kind_loads(settings, tmp_path):
    files = A.write_all(tmp_path / "abr")
    result = run_load(settings, "abr", files)
    rows = sum(len(r) for _, r in A.ALL.values())
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (rows, rows, 0)
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
    run_load(settings, "abr", A.write_all(tmp_path / "abr"))
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


def test_ward_parent_without_its_city_in_the_file(settings, tmp_path):
    ward_only = A.write(tmp_path / "ward.csv", A.CITY, [A.CITY_ROWS[1]])
    result = run_load(settings, "abr", [ward_only])
    assert result.stats.rejected == 0
    assert values(current(settings), M.municipality("011011"), DCT + "isPartOf") == [M.municipality("011002")]


def test_pos_file_before_or_after_its_base_file_gives_the_same_graph(tmp_path):
    files = A.write_all(tmp_path / "abr")
    base = [f for f in files if "_pos" not in f.name]
    pos = [f for f in files if "_pos" in f.name]
    a = fresh(tmp_path, "a")
    run_load(a, "abr", base)
    run_load(a, "abr", pos)
    b = fresh(tmp_path, "b")
    run_load(b, "abr", pos)
    run_load(b, "abr", list(reversed(base)))   # residences before blocks, towns after them, ...
    c = fresh(tmp_path, "c")
    run_load(c, "abr", [f for pair in zip(pos, base) for f in pair])   # one load, each pos file first
    reference = dump(a)
    assert any("hasGeometry" in line for line in reference)
    assert dump(b) == reference
    assert dump(c) == reference
    run_load(a, "abr", base)   # reloading base files keeps the points and adds nothing
    assert dump(a) == reference


def test_mixed_crs_is_kept_per_row(settings, tmp_path):
    pos = A.write(tmp_path / "mt_town_pos_all.csv", A.TOWN_POS, A.TOWN_POS_ROWS)
    run_load(settings, "abr", [pos])
    store = current(settings)
    wkt = {s["t"].value: (s["w"].value, s["w"].datatype.value) for s in run_query(
        store, "SELECT ?t ?w WHERE { ?t geo:hasGeometry ?g . ?g geo:asWKT ?w }", M)}
    dt = GEO + "wktLiteral"
    assert wkt[M.town("302015", "0001000")] == (f"<{CRS}4612> POINT(135.163085 34.21348)", dt)
    assert wkt[M.town("131059", "0001001")] == (f"<{CRS}6668> POINT(139.752850 35.718260)", dt)
    assert {w.split(">")[0][1:] for w, _ in wkt.values()} == {CRS + "4612", CRS + "6668"}


@pytest.mark.parametrize("order", ["adjacent", "apart"])
def test_town_with_both_residential_flags_is_one_town(settings, tmp_path, order):
    # real files keep the two rows adjacent (sorted by key); rows apart in one file still add up
    rows = [A.ICHIWAKI_0, A.ICHIWAKI_1] if order == "adjacent" else [A.ICHIWAKI_0, A.AOI, A.ICHIWAKI_1]
    run_load(settings, "abr", [A.write(tmp_path / "old.csv", A.TOWN, [{**A.ICHIWAKI_0, "post_code": "6480000"}])])
    result = run_load(settings, "abr", [A.write(tmp_path / "t.csv", A.TOWN, rows)])
    assert (result.stats.read, result.stats.loaded) == (len(rows), len(rows))
    if order == "adjacent":
        assert result.stats.entities == 1
    store = current(settings)
    assert values(store, M.town("302031", "0004001"), "http://www.w3.org/ns/locn#postCode") == []  # old facts replaced
    t = M.town("302031", "0004001")
    assert values(store, t, M.term("residentialAddressIndication")) == [M.code("rsdt-addr-flag", "0"), M.code("rsdt-addr-flag", "1")]
    assert values(store, t, M.term("residentialAddressMethod")) == [M.code("rsdt-addr-method", "0"), M.code("rsdt-addr-method", "1")]
    assert values(store, t, RDFS + "label") == ["Ichiwaki 1-chome@en", "イチワキ１チョウメ@ja-hrkt", "市脇一丁目@ja"]
    assert count(store, f"?x a kg:Town ; dcterms:identifier \"302031-0004001\"") == 1


def test_post_codes_are_split(settings, tmp_path):
    run_load(settings, "abr", [A.write(tmp_path / "t.csv", A.TOWN, [A.AKIZUKI, A.AOI])])
    store = current(settings)
    post = "http://www.w3.org/ns/locn#postCode"
    assert values(store, M.town("302015", "0002000"), post) == ["6408322", "6408323"]
    assert values(store, M.town("302015", "0001000"), post) == ["6408273"]


def test_blocks_are_derived_from_residences(settings, tmp_path):
    run_load(settings, "abr", [A.write(tmp_path / "r.csv", A.RSDT, A.RSDT_ROWS)])
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
                              A.write(tmp_path / "en_town.csv", A.TOWN, A.TOWN_ROWS),
                              A.write(tmp_path / "en_pos.csv", A.TOWN_POS, A.TOWN_POS_ROWS)])
    japanese = fresh(tmp_path, "ja")
    pos = [{k: v for k, v in r.items() if k in dict(A.JA_TOWN_POS).values()} for r in A.TOWN_POS_ROWS]
    result = run_load(japanese, "abr", [A.write(tmp_path / "pref.csv", A.JA_PREF, A.PREF_ROWS),
                                        A.write(tmp_path / "city.csv", A.JA_CITY, A.CITY_ROWS),
                                        A.write(tmp_path / "town.csv", A.JA_TOWN, A.TOWN_ROWS),
                                        A.write(tmp_path / "pos.csv", A.JA_TOWN_POS, pos)])
    assert result.stats.rejected == 0
    graph_en = dump(english)
    # the Japanese pos variant has no MLIT code column: compare everything else
    assert [l for l in dump(japanese)] == [l for l in graph_en if "mlitOazaChomeCode" not in l]


def test_zipped_files_load_like_plain_ones(tmp_path):
    text = A.csv_text(A.TOWN, A.TOWN_ROWS)
    pos = A.csv_text(A.TOWN_POS, A.TOWN_POS_ROWS)
    plain = fresh(tmp_path, "plain")
    run_load(plain, "abr", [A.write(tmp_path / "mt_town_all.csv", A.TOWN, A.TOWN_ROWS),
                            A.write(tmp_path / "mt_town_pos_all.csv", A.TOWN_POS, A.TOWN_POS_ROWS)])
    zipped = fresh(tmp_path, "zip")
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
    for path in (by_dir, by_name):
        path.write_text(text, encoding="utf-8")
        s = fresh(tmp_path, path.parent.name + path.name)
        assert run_load(s, "abr", [path]).stats.rejected == 0
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
    cities = A.write(tmp_path / "cities.csv", A.CITY, [A.CITY_ROWS[0], {**A.CITY_ROWS[3], "lg_code": "302010"}])
    pos = A.write(tmp_path / "pos.csv", A.TOWN_POS, [
        A.TOWN_POS_ROWS[1],
        {**A.TOWN_POS_ROWS[2], "rep_srid": ""},
        {**A.TOWN_POS_ROWS[2], "machiaza_id": "0003000", "rep_lon": "east"},
        {**A.TOWN_POS_ROWS[2], "machiaza_id": "0004000", "lg_code": "302016"},
        {**A.TOWN_POS_ROWS[2], "machiaza_id": "0005000", "rep_srid": "JGD2011"},
        {**A.TOWN_POS_ROWS[2], "machiaza_id": "0006000", "rep_lon": "", "rep_lat": ""},   # optional: no point, no error
    ])
    result = run_load(settings, "abr", [towns, cities, pos])
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (16, 4, 12)
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
    run_load(settings, "abr", [A.write(tmp_path / "t.csv", A.TOWN, [A.AOI])])
    before = Generations(settings.data_path).current_name()
    junk = tmp_path / "junk.csv"
    junk.write_bytes(content)
    with pytest.raises(LoadError, match=message) as err:
        run_load(settings, "abr", [junk])
    assert "junk.csv" in str(err.value) and "unchanged" in str(err.value)
    assert Generations(settings.data_path).current_name() == before
    assert run_query(current(settings), f"ASK {{ <{M.town('302015', '0001000')}> ?p ?o }}", M)


def test_cli_loads_a_fullset_file_with_aliases(cli, tmp_path):
    row = {**A.AOI, "alias_oaza": "葵", "alias_oaza_kana": "アオイ", "alias_oaza_roma": "Aoi", "oaza_cho_uncmn_type": "01"}
    path = A.write(tmp_path / "mt_town_fullset_city302015.csv", A.TOWN_FULLSET, [row])
    result = cli("load", "abr", str(path))
    assert result.exit_code == 0, result.output
    assert "abr: read 1 records, loaded 1, rejected 0" in result.output
    out = cli("query", f"SELECT ?l WHERE {{ <{M.town('302015', '0001000')}> skos:altLabel ?l }}", "--format", "csv")
    assert {"葵", "アオイ", "Aoi"} <= set(out.output.split())
