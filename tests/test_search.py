"""Name search: substring matches in Japanese, folding, type filter, paging, consistency with loads."""

from __future__ import annotations


import pytest

from kg.load.pipeline import run_load
from kg.resources import package_dir
from kg.store.search import FILENAME, SearchIndex
from kg.server import create_app
from kg.server.executor import InlineExecutor
from kg.settings import load_settings
from kg.store import open_home
from kg.store.generations import Generations

from support import BASE, load_demo, number, nta_row, write_csv


pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def app(module_backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("search")
    settings = load_demo(tmp / "data", module_backend)
    many = [nta_row(i, number(f"{i:012d}"), name=f"株式会社サンプル商事{i}", furigana=f"サンプルショウジ{i}")
            for i in range(1, 31)]
    many += [nta_row(31, number("000000000131"), name="株式会社髙島屋", furigana="タカシマヤ", city="中央区", city_code="102",
                     pref="大阪府", pref_code="27", street="難波５丁目１番５号"),
             nta_row(32, number("000000000132"), name="高島屋商事株式会社", furigana="タカシマヤショウジ"),
             nta_row(33, number("000000000133"), name="川﨑いすゞ食品株式会社", furigana="カワサキイスズショクヒン"),
             nta_row(34, number("000000000134"), name="千代田閉鎖商事株式会社", furigana="チヨダヘイサショウジ",
                     street="本郷１丁目１番１号", close="2020-03-31", cause="01")]
    run_load(settings, "houjin", [write_csv(tmp / "many.csv", many)])
    executor = InlineExecutor(settings)
    app = create_app(settings, executor=executor)
    app.config["TEST_SETTINGS"] = settings
    yield app
    executor.close()


def search(app, **params):
    r = app.test_client().get("/search.json", query_string=params)
    assert r.status_code == 200
    return r.get_json()


def test_japanese_substring_finds_the_corporation(app):
    found = search(app, q="国税")
    assert [r["label"] for r in found["results"]][:1] == ["国税庁"]
    assert found["results"][0]["href"] == "/id/corporation/7000012050002"


@pytest.mark.parametrize("query", ["ｺｸｾﾞｲ", "こくぜい", "コクゼイ", "National Tax", "national tax"])
def test_kana_width_and_case_fold(app, query):
    assert "国税庁" in [r["label"] for r in search(app, q=query)["results"]]


@pytest.mark.parametrize("query", ["高島屋", "髙島屋", "たかしまや"])
def test_variant_characters_find_both_spellings(app, query):
    """髙 (JIS X 0213, as the NTA writes 株式会社髙島屋) and 高 (JIS X 0208) are one search key."""
    labels = {r["label"] for r in search(app, q=query)["results"]}
    assert {"株式会社髙島屋", "高島屋商事株式会社"} <= labels


@pytest.mark.parametrize("query", ["川崎いすゞ", "川﨑いすゞ", "崎い", "﨑い"])
def test_compatibility_block_ideographs_fold(app, query):
    """﨑 U+FA11 is one of the twelve ideographs NFKC leaves alone; the variant table folds it."""
    assert "川﨑いすゞ食品株式会社" in [r["label"] for r in search(app, q=query)["results"]]


@pytest.mark.parametrize("query", ["7000012050002", "7000-01-2050002", "T7000012050002", "７００００１２０５０００２",
                                   " 7000012050002 "])
def test_a_corporate_number_finds_its_corporation(app, query):
    found = search(app, q=query)
    assert found["total"] == 1
    (hit,) = found["results"]
    assert (hit["label"], hit["number"], hit["status"]) == ("国税庁", "7000012050002", "active")
    assert hit["address"] == "東京都千代田区霞が関３丁目１－１"   # as the NTA writes it


def test_an_unknown_number_finds_nothing_and_a_code_finds_a_place(app):
    assert search(app, q="1000012050002")["results"] == []
    (hit,) = search(app, q="131059")["results"]
    assert (hit["type"], hit["label"]) == ("municipality", "文京区") and "number" not in hit


def test_address_text_finds_corporations(app):
    found = search(app, q="東京都千代田区", type="corporation")["results"]
    assert "国税庁" in [r["label"] for r in found]
    assert all("千代田区" in r["address"] for r in found)
    assert "国税庁" in [r["label"] for r in search(app, q="千代田区霞が関")["results"]]


def test_names_that_match_rank_before_addresses_that_do(app):
    found = search(app, q="千代田", type="corporation")["results"]
    labels = [r["label"] for r in found]
    assert labels[0] == "千代田閉鎖商事株式会社"          # by name, though 国税庁 is shorter
    assert "国税庁" in labels                              # by address


def test_hits_show_number_address_and_status(app):
    hit = search(app, q="千代田閉鎖商事")["results"][0]
    assert (hit["number"], hit["status"], hit["address"]) == (number("000000000134"), "closed", "東京都文京区本郷１丁目１番１号")
    page = app.test_client().get("/search", query_string={"q": "千代田"}, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert number("000000000134") in page and "東京都文京区本郷１丁目１番１号" in page and "閉鎖 / closed" in page
    assert "7000012050002" in page and "存続 / active" in page


def test_an_index_written_before_the_new_columns_still_answers_and_upgrades(tmp_path):
    import sqlite3

    path = tmp_path / FILENAME
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE entities(id INTEGER PRIMARY KEY, iri TEXT UNIQUE, kind TEXT, dataset TEXT, label TEXT, names TEXT,
                              folded TEXT);
        CREATE VIRTUAL TABLE fts USING fts5(folded, tokenize='trigram');
        INSERT INTO entities VALUES (1, 'http://x/id/corporation/7000012050002', 'corporation', 'houjin', '国税庁',
                                     '国税庁', '国税庁');
        INSERT INTO fts(rowid, folded) VALUES (1, '国税庁|');""")
    db.commit()
    db.close()
    old = SearchIndex(path, readonly=True)
    hits, _ = old.search("国税庁")
    assert [(h.label, h.address) for h in hits] == [("国税庁", "")]
    assert [h.label for h in old.search("7000-01-2050002")[0]] == ["国税庁"]   # by its IRI
    old.db.close()
    index = SearchIndex(path)
    index.add("http://x/id/corporation/1000012050002", "corporation", "別の庁", ["別の庁"], "東京都港区", "closed")
    index.close()
    index = SearchIndex(path, readonly=True)
    assert [h.label for h in index.search("7000012050002")[0]] == ["国税庁"]      # its code was filled in
    assert [(h.label, h.status) for h in index.search("東京都港区")[0]] == [("別の庁", "closed")]


def test_short_queries_fall_back_to_a_scan(app):
    labels = [r["label"] for r in search(app, q="税")["results"]]
    assert "国税庁" in labels
    assert "文京区" in [r["label"] for r in search(app, q="文京")["results"]]


@pytest.mark.parametrize("query,label", [("税庁", "国税庁"), ("国税", "国税庁"), ("ﾁｮｳ", "国税庁"), ("京区", "文京区")])
def test_two_characters_anywhere_in_a_name(app, query, label):
    """Two characters go through the trigram index too, at the start, middle and very end of a name."""
    assert label in [r["label"] for r in search(app, q=query)["results"]]


def test_two_characters_that_appear_nowhere(app):
    assert search(app, q="鰻丼") == {**search(app, q="鰻丼"), "results": [], "total": 0}


def test_excluded_corporations_are_not_found(app):
    assert search(app, q="検索対象除外")["results"] == []


def test_type_filter_and_places(app):
    towns = search(app, q="湯島", type="town")["results"]
    assert towns and all(r["type"] == "town" for r in towns)
    corps = search(app, q="湯島", type="corporation")["results"]
    assert all(r["type"] == "corporation" for r in corps)
    assert app.test_client().get("/search.json?q=x&type=nonsense").status_code == 400


def test_laws_are_searchable_by_title(app):
    found = search(app, q="国旗", type="law")["results"]
    if not (package_dir("samples") / "laws").is_dir():
        pytest.skip("no demo laws")
    assert found and "国旗" in found[0]["label"]


def test_paging(app):
    first, second = search(app, q="サンプル商事"), search(app, q="サンプル商事", page=2)
    assert first["total"] == 30 and len(first["results"]) == 20 and len(second["results"]) == 10
    assert not {r["iri"] for r in first["results"]} & {r["iri"] for r in second["results"]}


def test_html_page_and_escaping(app):
    r = app.test_client().get("/search", query_string={"q": "<script>国税"}, headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "<script>国税" not in page and "&lt;script&gt;国税" in page


def test_index_follows_diffs(app, tmp_path):
    settings = app.config["TEST_SETTINGS"]
    rename = write_csv(tmp_path / "diff.csv", [
        nta_row(1, "7000012050002", process="11", name="国税庁（改称）", kind="101", city="千代田区", city_code="101"),
        nta_row(2, "1130001011420", process="99", name="任天堂株式会社"),
    ])
    run_load(settings, "houjin", [rename])
    assert [r["label"] for r in search(app, q="改称")["results"]] == ["国税庁（改称）"]
    assert search(app, q="任天堂")["results"] == []
    gens = open_home(settings)
    assert (gens.current_path() / FILENAME).exists()
    assert len(list(gens.gens.glob("*/" + FILENAME))) <= 2


def test_home_page_lists_datasets_with_counts_and_search_box(app):
    page = app.test_client().get("/").get_data(as_text=True)
    assert 'action="/search"' in page
    assert "法人番号（国税庁 法人番号公表サイト）" in page and "トリプル数" in page
    assert "出典：国税庁法人番号公表サイト" in page


def test_datasets_catalogue_and_void(app, tmp_path):
    import gzip

    import rdflib

    from kg.store import open_home
    from kg.store.dump import dump_graphs

    settings = app.config["TEST_SETTINGS"]
    dump_graphs(open_home(settings).open_current(), settings.data_path / "dumps")
    c = app.test_client()
    page = c.get("/datasets", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "法人番号（国税庁 法人番号公表サイト）" in page and "出典：国税庁法人番号公表サイト" in page
    assert "SHA-256" in page and 'href="/dumps/houjin.nq.gz"' in page
    dump = c.get("/dumps/houjin.nq.gz")
    assert dump.status_code == 200 and b"<http://localhost:8000/graph/houjin>" in gzip.decompress(dump.get_data())
    assert c.get("/dumps/../../etc/passwd").status_code == 404
    r = c.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    g = rdflib.Graph().parse(data=r.get_data(), format="turtle")
    VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
    houjin = rdflib.URIRef(BASE + "graph/houjin")
    assert int(g.value(houjin, VOID.triples)) > 0
    assert str(g.value(houjin, VOID.dataDump)).endswith("/dumps/houjin.nq.gz")
    assert (houjin, rdflib.URIRef("http://purl.org/dc/terms/license"), None) in g


def test_addresses_do_not_crowd_out_names(tmp_path):
    """Only the first max_hits matches are ranked: names are taken first, then addresses."""
    index = SearchIndex(tmp_path / FILENAME)
    index.add_dataset("houjin", [(f"http://x/id/corporation/{i:013d}", "corporation", f"株式会社{i}", [f"株式会社{i}"],
                                  f"東京都千代田区丸の内{i}丁目", "active") for i in range(50)]
                      + [("http://x/id/corporation/9999999999999", "corporation", "東京工業株式会社", ["東京工業株式会社"],
                          "大阪府大阪市北区", "closed")])
    hits, total = index.search("東京", max_hits=5)
    assert hits[0].label == "東京工業株式会社" and total == 5
    hits, total = index.search("東京都千代田区", max_hits=100)
    assert total == 50 and all(h.address.startswith("東京都千代田区") for h in hits)
    index.close()


def test_an_abr_upsert_reindexes_the_towns_it_wrote_and_not_a_refused_files(tmp_path):
    """An upsert re-indexes the foci it wrote (kept in a file, not in memory); a file refused after
    some of its rows were read leaves nothing in the index."""
    import zipfile

    from support import abr_rows as A

    settings = load_settings({}, data_dir=str(tmp_path / "data"), base_uri=BASE)
    run_load(settings, "abr", A.write_all(tmp_path / "base", ["mt_pref_all.csv", "mt_city_all.csv"]))
    run_load(settings, "abr", [A.write(tmp_path / "t1.csv", A.TOWN, [A.AOI])])
    renamed = A.write(tmp_path / "t2.csv", A.TOWN, [dict(A.AOI, oaza_cho="新葵町", oaza_cho_kana="シンアオイチョウ")])
    # bytes that do not decode after 4,000 good rows: the file is read until there, then refused
    rows = [dict(A.AKIZUKI, machiaza_id=f"{i:04d}000", oaza_cho=f"秋月{i}") for i in range(2, 4002)]
    damaged = tmp_path / "t3.csv"
    damaged.write_bytes(A.csv_text(A.TOWN, rows).encode("utf-8") + "302015,9999000,".encode() + b"\xff\xfe\xff\r\n")
    result = run_load(settings, "abr", [renamed, damaged])
    assert result.stats.refused, "the cut zip should be refused"
    index = SearchIndex(Generations(settings.data_path).current_path() / FILENAME)
    try:
        assert [h.label for h in index.search("新葵町")[0]] == ["新葵町"]
        assert index.search("秋月2") == ([], 0)
    finally:
        index.close()


def _hashsize(path) -> int | None:
    import sqlite3
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT v FROM fts_config WHERE k = 'hashsize'").fetchone()
    finally:
        db.close()
    return row[0] if row else None


def test_an_index_written_with_more_memory_answers_the_same(tmp_path):
    """KG_SEARCH_BUILD_MEMORY changes how many segments the text index is written in, not what
    it finds: 3,000 corporations indexed with FTS5's own 1 MiB and with 16 MiB answer alike."""
    entries = [(f"http://x/id/corporation/{i:013d}", "corporation", f"株式会社{prefix}{i}", [f"株式会社{prefix}{i}",
                f"カブシキガイシャ{i}"], f"{city}{i}丁目", "active")
               for i in range(3000) for prefix, city in [("東京工業" if i % 7 else "大阪商事", "東京都千代田区丸の内")]]
    answers = []
    for memory in (0, 16 << 20):
        (tmp_path / str(memory)).mkdir()
        index = SearchIndex.for_generation(tmp_path / str(memory), memory=memory)
        index.add_dataset("houjin", entries)
        answers.append([index.search(q, limit=50) for q in ("東京工業", "大阪", "丸の内12", "かぶしきがいしゃ29", "99")])
        index.close()
        assert _hashsize(tmp_path / str(memory) / FILENAME) == (memory or None)
    assert answers[0] == answers[1]
    assert answers[0][1][1] == 429 and answers[0][0][1] == 1000  # 3000 // 7 + 1 大阪商事; the rest counted to 1,000


def test_a_load_writes_its_search_index_with_the_memory_it_is_given(tmp_path):
    settings = load_settings({"KG_SEARCH_BUILD_MEMORY": "2M"}, data_dir=str(tmp_path / "data"), base_uri=BASE)
    rows = [nta_row(i, number(f"{i:012d}"), name=f"株式会社記憶{i}") for i in range(1, 4)]
    run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", rows)])
    path = open_home(settings).current_path() / FILENAME
    assert _hashsize(path) == 2 << 20
    assert SearchIndex(path, readonly=True).search("記憶")[1] == 3
