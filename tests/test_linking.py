"""Corporation → town and local government ↔ area links, on fixtures with known answers."""

from __future__ import annotations

import pytest

from kg.rdf.iri import Minter
from kg.link.addresses import TownIndex
from kg.text.normalize import address_key as normalize
from kg.load.pipeline import run_load
from support import current_store, raw_current, run_query
from kg.store import open_home

from support import abr_rows as A
from support import BASE, number, nta_row, write_csv

M = Minter(BASE)
pytestmark = pytest.mark.engines


@pytest.mark.parametrize("a,b", [
    ("霞が関３丁目１－１", "霞ケ関三丁目1-1"), ("霞ヶ関", "霞ケ関"), ("湯島２丁目", "湯島二丁目"),
    ("大字秋月１２３", "秋月123"), ("字川平９３４番地", "川平934番地"), ("市脇 一丁目", "市脇1丁目"),
    ("ＡＢＣビル２Ｆ", "ABCビル2F"), ("三ノ輪", "三の輪"), ("十二丁目", "12丁目"),
])
def test_normalisation_folds_spelling_variants(a, b):
    assert normalize(a) == normalize(b)


def index():
    idx = TownIndex()
    for lg, town, oaza, chome, koaza in [
        ("M1", "T-yushima", "湯島", "", ""), ("M1", "T-yushima-2", "湯島", "2", ""),
        ("M1", "T-yushima-3", "湯島", "3", ""), ("M1", "T-kasumi-3", "霞が関", "3", ""),
        ("M1", "T-kojima", "", "", "小島"), ("M1", "T-akizuki", "秋月", "", ""),
        ("M1", "T-ichiwaki-1", "市脇", "1", ""), ("M2", "T-other", "湯島", "2", ""),
        ("M1", "T-shiokumi", "大字勝浦", "", "字汐汲場"), ("M1", "T-kojima-nabematsu", "小島", "", "字鍋松"),
    ]:
        idx.add(lg, town, oaza, chome, koaza)
    return idx


@pytest.mark.parametrize("street,level,town", [
    ("湯島２丁目６番２号", "town", "T-yushima-2"),
    ("湯島二丁目6-2", "town", "T-yushima-2"),
    ("湯島2-6-2", "town", "T-yushima-2"),          # 丁目 written as a number before the hyphen
    ("湯島３丁目１", "town", "T-yushima-3"),
    ("湯島９丁目１", "oaza", "T-yushima"),          # no such 丁目: the 大字 is as far as it goes
    ("霞ヶ関三丁目１－１", "town", "T-kasumi-3"),   # ヶ/が and 漢数字
    ("霞ケ関３丁目", "town", "T-kasumi-3"),
    ("大字秋月１２３番地", "town", "T-akizuki"),    # 大字 prefix; a 大字 without 丁目 is the town
    ("字小島５", "town", "T-kojima"),               # 小字
    ("小島字鍋松５", "town", "T-kojima-nabematsu"),  # a 小字-only town (小島) is also a 大字 with 小字 (屋久島町)
    ("大字勝浦字汐汲場４番地", "town", "T-shiokumi"),  # 大字 + 字 + 小字, as ABR writes them
    ("市脇一丁目４番", "town", "T-ichiwaki-1"),
    ("本郷１丁目", "municipality", None),
    ("", "municipality", None),
])
def test_match_levels(street, level, town):
    assert index().match("M1", street) == (level, town)


def test_match_is_within_the_municipality():
    assert index().match("M2", "湯島３丁目") == ("oaza", None)
    assert index().match("M9", "湯島２丁目") == ("municipality", None)


@pytest.fixture
def linked(settings, tmp_path):
    abr_dir = tmp_path / "abr"
    abr_dir.mkdir()
    A.write(abr_dir / "mt_pref_all.csv", A.PREF, A.PREF_ROWS)
    A.write(abr_dir / "mt_city_all.csv", A.CITY, A.CITY_ROWS)
    A.write(abr_dir / "mt_town_all.csv", A.TOWN, A.TOWN_ROWS + [
        A.town("131059", "0006002", "2", A.BUNKYO, "湯島", "ユシマ", "Yushima", chome="２丁目", chome_kana="２チョウメ",
               chome_number="2", pref=A.TOKYO),
        A.town("131059", "0006000", "1", A.BUNKYO, "湯島", "ユシマ", "Yushima", pref=A.TOKYO)])
    A.write(abr_dir / "mt_town_pos_all.csv", A.TOWN_POS, A.TOWN_POS_ROWS)
    corps = write_csv(tmp_path / "corps.csv", [
        nta_row(1, number("000011000013"), name="湯島商事株式会社", street="湯島二丁目６番２号"),
        nta_row(2, number("000011000021"), name="白山工業株式会社", street="白山１－２－３"),
        nta_row(3, number("000011000039"), name="葵町株式会社", pref="和歌山県", city="和歌山市", street="葵町１２番地",
                pref_code="30", city_code="201"),
        nta_row(4, number("000011000047"), name="本郷株式会社", street="本郷１丁目"),
        nta_row(5, "6000020131059", name="文京区", kind="201", street="春日１丁目１６－２１"),
        nta_row(6, "4000020300004", name="和歌山県", kind="201", pref="和歌山県", city="和歌山市",
                street="小松原通１丁目１番地", pref_code="30", city_code="201"),
    ])
    run_load(settings, "houjin", [corps])
    result = run_load(settings, "abr", sorted(abr_dir.iterdir()))
    return result, open_home(settings)


def links_of(store):
    q = "SELECT ?n ?level ?town WHERE { ?c dcterms:identifier ?n ; kg:addressMatchLevel/skos:notation ?level . OPTIONAL { ?c kg:town ?town } }"
    return {s["n"].value: (s["level"].value, s["town"].value if s["town"] else None) for s in run_query(store, q, M)}


def test_loads_link_corporations_to_towns_with_levels(linked):
    result, gens = linked
    assert result.links.corporations == 6
    assert result.links.levels == {"town": 3, "municipality": 3}
    found = links_of(gens.open_current())
    assert found[number("000011000013")] == ("town", M.town("131059", "0006002"))
    assert found[number("000011000021")] == ("town", M.town("131059", "0001001"))
    assert found[number("000011000039")] == ("town", M.town("302015", "0001000"))
    assert found[number("000011000047")] == ("municipality", None)
    assert result.links.local_governments == 2


def test_sparql_from_corporation_to_town_coordinates_and_back(linked):
    _, gens = linked
    store = gens.open_current()
    q = f"""SELECT ?wkt WHERE {{ corp:{number('000011000039')} kg:town/geo:hasGeometry/geo:asWKT ?wkt }}"""
    wkts = [s["wkt"].value for s in run_query(store, q, M)]
    assert wkts == ["<http://www.opengis.net/def/crs/EPSG/0/4612> POINT(135.163085 34.21348)"]
    q = """SELECT ?name WHERE { ?c kg:municipality muni:131059 ; rov:legalName ?name FILTER(lang(?name) = "ja") } ORDER BY ?name"""
    names = [s["name"].value for s in run_query(store, q, M)]
    assert names == ["文京区", "本郷株式会社", "湯島商事株式会社", "白山工業株式会社"]
    q = "SELECT ?gov WHERE { muni:131059 kg:localGovernment ?gov }"
    assert [s["gov"].value for s in run_query(store, q, M)] == [M.corporation("6000020131059")]


def test_a_diff_relinks_only_what_it_touched(linked, settings, tmp_path):
    _, gens = linked
    moved = write_csv(tmp_path / "diff.csv", [
        nta_row(1, number("000011000047"), process="12", name="本郷株式会社", street="湯島２－１－１"),
    ])
    result = run_load(settings, "houjin", [moved])
    assert result.links.corporations == 1
    found = links_of(gens.open_current())
    assert found[number("000011000047")] == ("town", M.town("131059", "0006002"))
    assert found[number("000011000013")] == ("town", M.town("131059", "0006002"))
    store = gens.open_current()
    count = run_query(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH graph:links {{ corp:{number('000011000047')} ?p ?o }} }}", M)
    assert int(next(iter(count))["n"].value) == 2  # the old municipality-level link is gone


def test_kg_link_prints_rates(linked, cli):
    result = cli("link")
    assert result.exit_code == 0
    assert "town 3 (50.0%)" in result.output and "municipality 3 (50.0%)" in result.output


def test_real_corporations_against_real_wakayama_towns(real_dir, settings):
    towns = real_dir / "abr"
    run_load(settings, "houjin", [real_dir / "houjin" / "nta_diff_20210714_unicode.csv"])
    result = run_load(settings, "abr", [towns / "mt_pref_all.csv", towns / "mt_city_all.csv", towns / "mt_town_pref30.csv"])
    stats = result.links
    assert stats.corporations == 2396
    store = current_store(settings)
    q = """SELECT ?level (COUNT(?c) AS ?n) WHERE { ?c kg:prefecture pref:300004 ; kg:addressMatchLevel/skos:notation ?level }
           GROUP BY ?level"""
    wakayama = {s["level"].value: int(s["n"].value) for s in run_query(store, q, M)}
    total = sum(wakayama.values())
    assert total > 5
    # most 和歌山県 corporations reach a town; the rest of Japan has no towns loaded
    assert wakayama.get("town", 0) / total > 0.5, wakayama
    assert stats.levels["municipality"] >= 2396 - total


@pytest.mark.parametrize("abr,nta", [
    ("簞笥町", "箪笥町１５番地"),          # 新宿区: ABR writes JIS X 0213 簞, the NTA JIS X 0208 箪
    ("髙田", "高田２丁目３番"), ("高田", "髙田２丁目３番"), ("川﨑", "川崎１２３番地"), ("德万", "徳万５番地"),
    ("渡邊", "渡辺１番地"), ("渡邉", "渡邊１番地"), ("齋藤", "斎藤２番地"), ("大舘", "大館３番地"),
    ("槗本", "橋本４番地"), ("宝塚", "宝\ufa10５番地"), ("神田", "\ufa19田１番地"), ("嶋田", "島田１番地"),
])
def test_variant_characters_match_across_registries(abr, nta):
    idx = TownIndex()
    idx.add("M1", "T-abr", abr, "", "")
    idx.add("M1", "T-other", "本町", "", "")
    assert idx.match("M1", nta) == ("town", "T-abr")


def test_variant_folding_does_not_merge_distinct_towns():
    idx = TownIndex()
    idx.add("M1", "T-saki", "宮崎", "", "")
    idx.add("M1", "T-sai", "宮埼", "", "")       # 埼 and 崎 are both 常用漢字: two places
    assert idx.match("M1", "宮崎１番地") == ("town", "T-saki")
    assert idx.match("M1", "宮埼１番地") == ("town", "T-sai")


def test_nta_address_with_0208_form_links_to_abr_town_with_0213_form(settings, tmp_path):
    """新宿区箪笥町 (NTA) → 簞笥町 (ABR), through the loads; both sources keep their spelling."""
    abr_dir = tmp_path / "abr"
    abr_dir.mkdir()
    shinjuku = ("新宿区", "シンジュククク", "Shinjuku-ku")
    A.write(abr_dir / "mt_pref_all.csv", A.PREF, A.PREF_ROWS)
    A.write(abr_dir / "mt_city_all.csv", A.CITY, A.CITY_ROWS + [A.city("131041", *A.TOKYO, *shinjuku)])
    A.write(abr_dir / "mt_town_all.csv", A.TOWN, [
        A.town("131041", "0041000", "1", shinjuku, "簞笥町", "タンスマチ", "Tansumachi", pref=A.TOKYO, post="1620833"),
        A.town("131041", "0006001", "2", shinjuku, "髙田馬場", "タカダノババ", "Takadanobaba", chome="一丁目",
               chome_kana="１チョウメ", chome_number="1", pref=A.TOKYO, post="1690075")])
    corps = write_csv(tmp_path / "corps.csv", [
        nta_row(1, number("000011000104"), name="箪笥町商店株式会社", city="新宿区", city_code="104",
                street="箪笥町１５番地", post="1620833"),
        nta_row(2, number("000011000112"), name="株式会社髙田", city="新宿区", city_code="104",
                street="高田馬場１丁目２番３号", post="1690075"),
    ])
    run_load(settings, "houjin", [corps])
    result = run_load(settings, "abr", sorted(abr_dir.iterdir()))
    assert result.links.levels == {"town": 2}
    store = open_home(settings).open_current()
    found = links_of(store)
    assert found[number("000011000104")] == ("town", M.town("131041", "0041000"))
    assert found[number("000011000112")] == ("town", M.town("131041", "0006001"))
    q = f"""SELECT ?street ?oaza WHERE {{ corp:{number('000011000104')} locn:address/kg:streetNumber ?street ;
            kg:town/kg:oazaCho ?oaza FILTER(lang(?oaza) = "ja") }}"""
    (row,) = run_query(store, q, M)
    assert (row["street"].value, row["oaza"].value) == ("箪笥町１５番地", "簞笥町")   # the data keeps each spelling


def test_a_corporation_twice_in_one_diff_is_linked_where_its_last_row_says(linked, settings, tmp_path):
    """The same corporation twice in one file (two diffs concatenated): the link follows the
    later row, as its data does, not the first row's town."""
    _, gens = linked
    corp = number("000011000047")
    twice = write_csv(tmp_path / "twice.csv", [
        nta_row(1, corp, process="12", name="本郷株式会社", street="湯島２－１－１", update="2024-11-01"),
        nta_row(2, number("000011000099"), process="01", name="別の株式会社", street="本郷１丁目"),
        nta_row(3, corp, process="12", name="本郷株式会社", street="白山１－２－３", update="2024-11-02"),
    ])
    run_load(settings, "houjin", [twice])
    store = gens.open_current()
    q = f"SELECT ?p ?o WHERE {{ GRAPH graph:links {{ corp:{corp} ?p ?o }} }}"
    assert {(r["p"].value, r["o"].value) for r in run_query(store, q, M)} == {
        (M.term("town"), M.town("131059", "0001001")), (M.term("addressMatchLevel"), M.code("address-match-level", "town"))}


def test_a_corporation_twice_in_a_first_load_is_linked_where_its_last_row_says(settings, tmp_path):
    """The same, streamed into an empty dataset: the stream stops where the foci stop ascending
    and the rest is upserted; the summaries of both rows were written, the later one wins."""
    abr = A.write_all(tmp_path / "abr", ["mt_pref_all.csv", "mt_city_all.csv"])
    run_load(settings, "abr", abr + [A.write(tmp_path / "towns.csv", A.TOWN, A.TOWN_ROWS)])
    corp = number("000011000047")
    run_load(settings, "houjin", [write_csv(tmp_path / "twice.csv", [
        nta_row(1, corp, name="本郷株式会社", street="本郷１丁目", update="2024-11-01"),
        nta_row(2, number("000011000099"), name="別の株式会社", street="本郷１丁目"),
        nta_row(3, corp, process="12", name="本郷株式会社", street="白山１－２－３", update="2024-11-02"),
    ])])
    store = open_home(settings).open_current()
    q = f"SELECT ?p ?o WHERE {{ GRAPH graph:links {{ corp:{corp} ?p ?o }} }}"
    assert {(r["p"].value, r["o"].value) for r in run_query(store, q, M)} == {
        (M.term("town"), M.town("131059", "0001001")), (M.term("addressMatchLevel"), M.code("address-match-level", "town"))}


def _towns_then_corporations(settings, tmp_path):
    """ABR first, then a first load of corporations (sorted, once each: one stream)."""
    run_load(settings, "abr", sorted(A.write_all(tmp_path / "abr", ["mt_pref_all.csv", "mt_city_all.csv"]))
             + [A.write(tmp_path / "towns.csv", A.TOWN, A.TOWN_ROWS)])
    return write_csv(tmp_path / "corps.csv", [
        nta_row(1, number("000011000013"), name="白山商事株式会社", street="白山１－２－３"),
        nta_row(2, number("000011000021"), name="本郷株式会社", street="本郷１丁目"),
        nta_row(3, "6000020131059", name="文京区", kind="201", street="春日１丁目１６－２１"),
    ])


def test_a_first_load_into_an_engine_links_while_its_records_are_written(settings, tmp_path, backend, monkeypatch):
    """Into an engine the links of a fresh corporations dataset are sent while its records are
    (kg.link.addresses.LinksAlongside): the records' stream is held open at its end until the
    links' has begun, which never happens if the links come after the records. The links are
    those a full relink makes, and the statistics count them."""
    from kg.load import statistics
    from kg.store.remote import RemoteStore

    corps = _towns_then_corporations(settings, tmp_path)
    links_begun = __import__("threading").Event()
    held: list[bool] = []
    add = RemoteStore.add

    class HeldAtItsEnd:
        def __init__(self, stream):
            self.stream = stream

        def read(self, n: int = -1) -> bytes:
            data = self.stream.read(n)
            if not data and n != 0 and not held:
                held.append(links_begun.wait(10))
            return data

        def __getattr__(self, name):
            return getattr(self.stream, name)

    def spying(self, **kw):
        graph = kw.get("graph") or ""
        if graph.endswith("/graph/links"):
            links_begun.set()
        elif graph.endswith("/graph/houjin") and kw.get("stream") is not None:
            kw["stream"] = HeldAtItsEnd(kw["stream"])
        return add(self, **kw)

    monkeypatch.setattr(RemoteStore, "add", spying)
    result = run_load(settings, "houjin", [corps])
    if backend is not None:
        assert held == [True], "the links were not sent while the records were"
    assert result.links.corporations == 3 and result.links.levels == {"town": 1, "municipality": 2}
    assert result.links.local_governments == 1  # from the rows too: the engine is not asked after the records
    store = open_home(settings).open_current()
    q = "SELECT ?gov ?area WHERE { ?gov kg:localGovernmentArea ?area . ?area kg:localGovernment ?gov }"
    assert [(r["gov"].value, r["area"].value) for r in run_query(store, q, M)] == \
        [(M.corporation("6000020131059"), M.municipality("131059"))]
    assert links_of(store) == {number("000011000013"): ("town", M.town("131059", "0001001")),
                               number("000011000021"): ("municipality", None), "6000020131059": ("municipality", None)}
    recorded, counted = statistics.recorded(store, M), statistics.count_in_store(store, M)
    links = {cell: n for cell, n in counted.items() if cell[0] in statistics.LINK_CUBES}
    assert links[("match-level", str(M.code("address-match-level", "town")))] == 1
    assert {cell: n for cell, n in recorded.items() if cell[0] in statistics.LINK_CUBES} == links


def test_a_failure_of_the_links_beside_the_records_loads_nothing(settings, tmp_path, backend, monkeypatch):
    """The links' thread fails (the engine refused them): the load fails with its error and the
    served data and the engine's graphs are as before."""
    from kg.errors import StoreError

    corps = _towns_then_corporations(settings, tmp_path)
    home = open_home(settings)
    before = home.current_name()
    graphs = backend.graphs() if backend is not None else None
    match = TownIndex.match

    def refusing(self, municipality, street):
        if street.startswith("本郷"):
            raise StoreError("the SPARQL engine refused the links")
        return match(self, municipality, street)

    monkeypatch.setattr(TownIndex, "match", refusing)
    with pytest.raises(StoreError, match="refused the links"):
        run_load(settings, "houjin", [corps])
    assert open_home(settings).current_name() == before
    assert not open_home(settings).open_current().has(graph=M.graph("houjin"))
    if backend is not None:
        assert backend.graphs() == graphs
