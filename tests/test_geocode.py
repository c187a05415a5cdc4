"""The geocoder on ABR files written in the published shapes (tests/support/geocode_rows.py): a
table of real-shaped addresses in the forms people write them, the HTTP API and `kg geocode`."""

from __future__ import annotations

import csv
import io
import json

import pytest

from kg.geocode import geocoder_for
from kg.geocode.formats import properties
from kg.load.pipeline import run_load
from kg.rdf.iri import Minter
from kg.server import create_app
from kg.server.executor import InlineExecutor
from kg.settings import load_settings
from kg.store import open_home
from support import BASE
from support import geocode_rows as G

M = Minter(BASE)


pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def geo(tmp_path_factory, module_backend):
    """The settings of a store holding the ABR files (embedded, or on each engine)."""
    root = tmp_path_factory.mktemp("geocode")
    settings = load_settings({}, data_dir=str(root / "data"), base_uri=BASE,
                             **(module_backend.overrides() if module_backend else {}))
    result = run_load(settings, "abr", G.write_all(root / "abr"), strict=True)
    assert result.stats.rejected == 0
    return settings


@pytest.fixture(scope="module")
def geocoder(geo):
    return geocoder_for(open_home(geo, create=False).open_current(), M)


def tail(iri: str | None) -> str | None:
    return iri[len(M.id):] if iri else None


# (address as people write it, level reached, the deepest entity reached: {base}id/…)
TABLE = [
    # 住居表示 towns with residences loaded: 街区 and 住居
    ("和歌山県和歌山市葵町1番1号", "residence", "residence/302015-0001000-001-001"),
    ("和歌山市葵町１番２号", "residence", "residence/302015-0001000-001-002"),            # full width, no prefecture
    ("和歌山市葵町二番一号", "residence", "residence/302015-0001000-002-001"),             # 漢数字
    ("〒640-8273 和歌山県和歌山市葵町10-1", "residence", "residence/302015-0001000-010-001"),  # postcode, hyphens
    ("和歌山県和歌山市葵町10ー1", "residence", "residence/302015-0001000-010-001"),          # ー typed for the hyphen
    ("和歌山県和歌山市葵町1番99号", "block", "block/302015-0001000-001"),                  # no such 住居
    ("和歌山県和歌山市葵町99番1号", "town", "town/302015-0001000"),                        # no such 街区
    ("和歌山県和歌山市葵町", "town", "town/302015-0001000"),
    ("和歌山県和歌山市今福一丁目3番1号", "residence", "residence/302015-0023001-003-001"),
    ("和歌山市今福1-3-1", "residence", "residence/302015-0023001-003-001"),               # 丁目 as a number
    ("和歌山市今福１丁目５－１", "residence", "residence/302015-0023001-005-001"),
    ("和歌山市今福3丁目", "oaza", "town/302015-0023000"),                                  # no such 丁目: the 大字
    ("東京都文京区白山一丁目1番2号", "residence", "residence/131059-0001001-001-002"),
    ("文京区白山１−１−１０", "residence", "residence/131059-0001001-001-010"),             # U+2212 minus sign
    ("東京都文京区白山1丁目37番6-1号", "residence", "residence/131059-0001001-037-006-00001"),  # 住居番号2
    ("文京区白山1-37-6", "residence", "residence/131059-0001001-037-006"),
    ("文京区白山1丁目1番", "block", "block/131059-0001001-001"),
    ("株式会社テレシステム 東京都文京区白山1丁目37番6号", "residence", "residence/131059-0001001-037-006"),  # name first
    # towns without 住居表示 data: the 町字, the rest is the remainder
    ("和歌山県和歌山市秋月123番地", "town", "town/302015-0002000"),
    ("和歌山県和歌山市大字秋月１２３", "town", "town/302015-0002000"),                      # 大字
    ("日本 和歌山県和歌山市秋月", "town", "town/302015-0002000"),
    ("〒６４０－８３２２　和歌山市秋月", "town", "town/302015-0002000"),
    ("和歌山市 秋月 １２３－４ 秋月マンション１０１号室", "town", "town/302015-0002000"),     # building after
    ("和歌山県和歌山市一番丁3", "town", "town/302015-0019000"),
    ("和歌山県和歌山市十二番丁45番地", "town", "town/302015-0188000"),
    ("和歌山県和歌山市12番丁", "town", "town/302015-0188000"),
    ("和歌山県和歌山市紀三井寺６９３番地の５", "town", "town/302015-0114000"),              # real NTA address
    ("和歌山県和歌山市黒田２丁目２番２２号", "town", "town/302015-0130002"),                # real NTA address
    ("和歌山県和歌山市黒田", "oaza", "town/302015-0130000"),
    ("和歌山市黒田5丁目", "oaza", "town/302015-0130000"),
    ("和歌山県和歌山市中之島３０３番地１４", "town", "town/302015-0250000"),                # real NTA address
    ("和歌山市中ノ島303", "town", "town/302015-0250000"),                                  # ノ/之
    ("和歌山県和歌山市西浜９３７番地の３９", "oaza", "town/302015-0279000"),                # 大字 with 丁目 towns
    ("和歌山市西浜1丁目", "town", "town/302015-0279001"),
    ("和歌山県和歌山市美園町５丁目１番地の１", "town", "town/302015-0366005"),              # real NTA address
    ("和歌山県和歌山市湊北町３丁目８番地", "oaza", "municipality/302015"),                  # 3丁目 not loaded, no 大字 row
    ("和歌山市松ヶ丘1丁目", "town", "town/302015-0356001"),                                # ヶ
    ("和歌山市松が丘三丁目", "town", "town/302015-0356003"),                               # が
    ("和歌山市雜賀﨑", "town", "town/302015-0151000"),                                     # 異体字 雜 﨑
    ("和歌山市小松原通五丁目", "town", "town/302015-0148005"),
    ("和歌山市本町2-1-1", "town", "town/302015-0349002"),
    ("橋本市市脇二丁目", "town", "town/302031-0004002"),
    ("和歌山県橋本市市脇2-3-4", "town", "town/302031-0004002"),
    ("橋本市市脇５丁目", "town", "town/302031-0004005"),
    ("橋本市市脇７５０", "oaza", "town/302031-0004000"),
    ("田辺市扇ガ浜", "town", "town/302066-0009000"),                                       # ガ for ヶ
    ("和歌山県田辺市城山台９番１１号", "town", "town/302066-0033000"),                      # real NTA address
    ("田辺市朝日ケ丘", "town", "town/302066-0140000"),
    ("新宮市緑ヶ丘2丁目3-4", "town", "town/302074-0060002"),
    ("和歌山県紀の川市北長田１３０番地", "town", "town/302082-0041000"),                    # real NTA address
    ("岩出市尼ヶ辻", "town", "town/302091-0003000"),
    ("和歌山県伊都郡高野町大字相ノ浦", "town", "town/303445-0001000"),                      # 郡, 大字
    ("高野町相の浦100", "town", "town/303445-0001000"),
    ("伊都郡高野町上筒香", "town", "town/303445-0004000"),
    ("髙野町大字上筒香", "town", "town/303445-0004000"),                                   # 異体字 髙
    ("和歌山県有田郡広川町大字井関", "town", "town/303623-0001000"),
    ("広川町井関", "town", "town/303623-0001000"),      # 広川町 is also in 福岡県: only 和歌山's has 井関
    ("美浜町和田", "town", "town/303810-0005000"),      # 美浜町 is also in 福井県 (towns not loaded)
    ("美浜町浜ノ瀬", "town", "town/303810-0002000"),    # ABR writes 濱ノ瀬
    ("日高町大字阿尾", "town", "town/303828-0001000"),
    ("上富田町生馬字王子", "town", "town/304042-0002102"),                                 # 小字 after 字
    ("西牟婁郡上富田町生馬字栗ヶ谷", "town", "town/304042-0002108"),
    ("上富田町生馬", "oaza", "town/304042-0002000"),
    ("那智勝浦町大字勝浦字鏡山123", "town", "town/304212-0010105"),
    ("東牟婁郡那智勝浦町勝浦鏡山", "town", "town/304212-0010105"),
    ("東京都文京区湯島２丁目６番２号", "town", "town/131059-0006002"),                      # real NTA address
    ("文京区小石川１丁目３番２３号ル・ビジュー６０１", "town", "town/131059-0002001"),        # real NTA address
    ("東京都文京区湯島３丁目３４番６号湯島スクウェアビル８階", "town", "town/131059-0006003"),
    ("東京都文京区根津２丁目８－１１－３０４", "town", "town/131059-0009002"),
    ("〒112-0001 東京都文京区白山2-1", "town", "town/131059-0001002"),
    ("文京区音羽一丁目21番9号", "town", "town/131059-0017001"),
    ("鹿児島県熊毛郡屋久島町小島", "town", "town/465054-0000122"),
    ("屋久島町字小島123", "town", "town/465054-0000122"),
    ("屋久島町宮之浦字永野", "town", "town/465054-0015104"),
    ("熊毛郡屋久島町口永良部島", "town", "town/465054-0005000"),
    ("屋久島町宮之浦2470", "oaza", "town/465054-0015000"),
    ("屋久島町安房字前岳64", "town", "town/465054-0019149"),     # 安房 is a 小字-only town and a 大字 with 小字
    ("鹿児島県熊毛郡屋久島町安房２５４０", "town", "town/465054-0000121"),
    # where the answer stops: not loaded, ambiguous, nothing recognised
    ("東京都千代田区霞が関3-1-1", "municipality", "municipality/131016"),                 # 千代田区's towns not loaded
    ("福井県三方郡美浜町郷市", "municipality", "municipality/184420"),                     # 福井県 not loaded
    ("北海道沙流郡日高町", "municipality", "municipality/016012"),
    ("東京都府中市宮西町", "municipality", "municipality/132063"),
    ("大阪府大阪市北区梅田1-1", "municipality", "municipality/271276"),                   # a ward of a 政令市
    ("大阪市北区梅田", "municipality", "municipality/271276"),
    ("府中市宮西町", "none", None),                                                       # 東京都 or 広島県
    ("広川町", "none", None),
    ("東京都", "prefecture", "prefecture/130001"),
    ("和歌山県架空市1-1", "prefecture", "prefecture/300004"),
    ("ニューヨーク5番街", "none", None),
]


def test_the_table_is_large_enough():
    assert len(TABLE) >= 60 and len({a for a, _, _ in TABLE}) == len(TABLE)


@pytest.mark.parametrize("address,level,entity", TABLE)
def test_address_table(geocoder, address, level, entity):
    got = geocoder.geocode(address)
    assert (got.level, tail(got.iri)) == (level, entity), properties(got)


def test_answer_carries_names_codes_point_and_remainder(geocoder):
    p = properties(geocoder.geocode("〒112-0001 東京都文京区白山一丁目１番２号 白山ビル3F"))
    assert (p["prefecture"], p["prefecture_code"], p["municipality"], p["municipality_code"]) == \
        ("東京都", "130001", "文京区", "131059")
    assert (p["town"], p["machiaza_id"], p["block"], p["residence"]) == ("白山１丁目", "0001001", "1", "2")
    assert (p["lon"], p["lat"], p["crs"], p["point_level"]) == \
        (139.752307297, 35.715119856, "http://www.opengis.net/def/crs/EPSG/0/6668", "residence")
    assert (p["postcode"], p["remainder"], p["error"]) == ("1120001", "白山ビル3F", None)


def test_points_come_from_the_deepest_entity_that_has_one(geocoder):
    town = properties(geocoder.geocode("和歌山市秋月"))
    assert (town["lon"], town["lat"], town["crs"], town["point_level"]) == \
        (135.203712, 34.230374, "http://www.opengis.net/def/crs/EPSG/0/4612", "town")   # JGD2000 as published
    no_point = properties(geocoder.geocode("和歌山市今福１丁目５－１"))   # residence, block, town without a point
    assert (no_point["level"], no_point["point_level"], no_point["lon"]) == ("residence", "municipality", 135.170808)


def test_remainder_and_skipped_text(geocoder):
    p = properties(geocoder.geocode("和歌山市 秋月 １２３－４ 秋月マンション１０１号室"))
    assert p["remainder"] == "123-4秋月マンション101号室"
    p = properties(geocoder.geocode("株式会社テレシステム 東京都文京区白山1丁目37番6号"))
    assert (p["skipped"], p["remainder"]) == ("株式会社テレシステム", "")
    p = properties(geocoder.geocode("東京都文京区根津２丁目８－１１－３０４"))
    assert p["remainder"] == "8-11-304"


def test_prefecture_is_inferred_only_when_the_name_says_which(geocoder):
    p = properties(geocoder.geocode("美浜町和田"))
    assert (p["prefecture"], p["prefecture_inferred"], p["municipality_code"]) == ("和歌山県", True, "303810")
    p = properties(geocoder.geocode("府中市宮西町"))
    assert p["error"].startswith("ambiguous municipality 府中市: 東京都府中市 (132063), 広島県府中市 (342084)")
    assert {c["municipality_code"] for c in p["candidates"]} == {"132063", "342084"}
    assert properties(geocoder.geocode("和歌山県和歌山市葵町"))["prefecture_inferred"] is False


def test_not_loaded_is_said(geocoder):
    fukui = geocoder.geocode("福井県三方郡美浜町郷市")
    assert fukui.not_loaded and fukui.error == \
        "prefecture 福井県 (180009) is not loaded: load its ABR town file (mt_town_pref18)"
    osaka = geocoder.geocode("大阪府大阪市北区梅田1-1")
    assert osaka.not_loaded and "大阪府" in osaka.error and osaka.remainder == "梅田1-1"
    chiyoda = geocoder.geocode("東京都千代田区霞が関3-1-1")
    assert chiyoda.not_loaded and chiyoda.error == "the ABR towns (町字) of 東京都千代田区 (131016) are not loaded"
    assert chiyoda.point is not None and chiyoda.point_level == "municipality"
    assert not geocoder.geocode("和歌山県架空市1-1").not_loaded


def test_empty_and_too_long(geocoder):
    assert geocoder.geocode("  ").error == "empty address"
    assert "KG_GEOCODE_MAX_LENGTH" in geocoder.geocode("和" * 501).error


def test_links_use_the_same_matcher(geo):
    """A corporation in 和歌山市黒田２丁目 links to the town the geocoder finds for its address."""
    from kg.link.addresses import TownIndex

    store = open_home(geo, create=False).open_current()
    index = TownIndex.from_store(store, M)
    muni = str(M.municipality("302015"))
    assert index.match(muni, "黒田２丁目２番２２号") == ("town", str(M.town("302015", "0130002")))
    assert index.match_key(muni, "黒田2丁目2番22号").length == len("黒田2丁目")


# ---- HTTP --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(geo):
    settings = geo.with_overrides(geocode_max_batch=5)
    return create_app(settings, executor=InlineExecutor(settings)).test_client()


def test_get_answers_a_geojson_feature(client):
    r = client.get("/geocode", query_string={"address": "和歌山市葵町１番２号"})
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    f = r.get_json(force=True)
    assert f["type"] == "Feature" and f["geometry"] == {"type": "Point", "coordinates": [135.165204936, 34.214374032]}
    assert f["properties"]["residence_iri"] == str(M.residence("302015", "0001000", "001", "002"))


def test_get_csv_by_parameter_and_by_accept(client):
    for kwargs in ({"query_string": {"address": "田辺市扇ガ浜", "format": "csv"}},
                   {"query_string": {"address": "田辺市扇ガ浜"}, "headers": {"Accept": "text/csv"}}):
        r = client.get("/geocode", **kwargs)
        assert r.status_code == 200 and r.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
        assert [(x["level"], x["machiaza_id"], x["town"]) for x in rows] == [("town", "0009000", "扇ヶ浜")]


def test_batch_post_csv(client):
    body = "id,address,note\nA,和歌山市葵町1-1,x\nB,府中市宮西町,y\nC,東京都文京区白山1-1-10,z\n"
    r = client.post("/geocode?format=csv", data=body.encode(), content_type="text/csv")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [(x["id"], x["level"]) for x in rows] == [("A", "residence"), ("B", "none"), ("C", "residence")]
    assert rows[1]["error"].startswith("ambiguous municipality")


def test_batch_post_json_lines(client):
    body = '"和歌山市秋月"\n{"id": 7, "address": "福井県三方郡美浜町"}\n\n'
    r = client.post("/geocode", data=body.encode(), content_type="application/x-ndjson")
    fc = r.get_json(force=True)
    assert r.status_code == 200 and fc["type"] == "FeatureCollection"
    got = [(f["properties"]["id"], f["properties"]["level"], f["properties"]["error"]) for f in fc["features"]]
    assert got == [(None, "town", None), ("7", "municipality",
                                          "prefecture 福井県 (180009) is not loaded: load its ABR town file (mt_town_pref18)")]


@pytest.mark.parametrize("kwargs,status,message", [
    ({"method": "GET"}, 400, "give an address"),
    ({"method": "GET", "query_string": {"address": "x", "format": "kml"}}, 400, "unknown format 'kml'"),
    ({"method": "POST", "data": b"id,addr\n1,x\n", "content_type": "text/csv"}, 400,
     "body: line 1: the CSV header has no column 'address'"),
    ({"method": "POST", "data": b'"ok"\n{bad\n', "content_type": "application/x-ndjson"}, 400, "body: line 2: not JSON"),
    ({"method": "POST", "data": b'[1]', "content_type": "application/json"}, 400, "body: item 1: expected a string"),
    ({"method": "POST", "data": b"\xff\xfe", "content_type": "text/plain"}, 400, "body: not UTF-8"),
    ({"method": "POST", "data": b"", "content_type": "text/plain"}, 400, "body: no address in the batch"),
    ({"method": "POST", "data": "\n".join(["秋月"] * 6).encode(), "content_type": "text/plain"}, 413,
     "6 addresses, more than the 5 a batch may hold (KG_GEOCODE_MAX_BATCH)"),
])
def test_bad_input_is_a_4xx_with_a_message(client, kwargs, status, message):
    r = client.open("/geocode", **kwargs)
    assert r.status_code == status and message in r.get_data(as_text=True)


def test_get_for_a_prefecture_not_loaded_is_404_with_the_answer(client):
    r = client.get("/geocode", query_string={"address": "大阪府大阪市北区梅田1-1"})
    assert r.status_code == 404
    assert "大阪府 (270008) is not loaded" in r.get_json(force=True)["properties"]["error"]


def test_body_limit_is_the_servers(geo):
    settings = geo.with_overrides(max_body=64)
    c = create_app(settings, executor=InlineExecutor(settings)).test_client()
    r = c.post("/geocode", data=("和歌山市秋月\n" * 10).encode(), content_type="text/plain")
    assert r.status_code == 413 and "KG_MAX_BODY" in r.get_data(as_text=True)


def test_html_form_and_home_link(client):
    assert "/geocode" in client.get("/").get_data(as_text=True)
    page = client.get("/geocode", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'name="address"' in page
    page = client.get("/geocode", query_string={"address": "屋久島町字小島123", "format": "html"}).get_data(as_text=True)
    assert "小島" in page and 'href="/id/town/465054-0000122"' in page


def test_served_by_kg_serve(demo_server):
    """Through uvicorn and the query processes (the index is built there, per generation)."""
    import urllib.parse
    import urllib.request

    url = f"{demo_server}/geocode?" + urllib.parse.urlencode({"address": "東京都文京区白山1-1-2"})
    with urllib.request.urlopen(url, timeout=30) as r:
        f = json.loads(r.read())
    assert (f["properties"]["level"], f["properties"]["residence"]) == ("residence", "2")


# ---- CLI ---------------------------------------------------------------------------------------

def test_cli_stdin_to_csv(geo, cli_at):
    out = cli_at(geo, "geocode", input="和歌山市葵町1-1\n\n屋久島町宮之浦字永野\n")
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert [(r["level"], r["iri"]) for r in rows] == [
        ("residence", str(M.residence("302015", "0001000", "001", "001"))),
        ("town", str(M.town("465054", "0015104")))]


def test_cli_csv_file_to_geojson(geo, cli_at, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,住所\n1,和歌山県橋本市市脇2-3-4\n2,大阪府大阪市北区梅田\n", encoding="utf-8")
    out = cli_at(geo, "geocode", str(path), "--format", "json")
    assert out.exit_code == 0, out.output
    features = json.loads(out.output)["features"]
    assert [(f["properties"]["id"], f["properties"]["machiaza_id"]) for f in features] == [("1", "0004002"), ("2", None)]
    assert "not loaded" in features[1]["properties"]["error"]


@pytest.mark.parametrize("content,message", [
    (None, "missing.csv: No such file or directory"),
    ("id,addr\n1,x\n", "line 1: the CSV header has no column 'address'"),
])
def test_cli_bad_input_is_one_line(geo, cli_at, tmp_path, content, message):
    path = tmp_path / "missing.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    out = cli_at(geo, "geocode", str(path))
    assert out.exit_code == 1 and message in out.output and "Traceback" not in out.output


@pytest.fixture
def cli_at(module_backend):
    from click.testing import CliRunner

    from kg.cli import main

    def run(settings, *args, input=None):
        return CliRunner(env=module_backend.env() if module_backend else None).invoke(
            main, ["--data-dir", str(settings.data_path), "--base-uri", BASE, *args], input=input)

    return run


def test_any_text_gets_an_answer_not_an_exception(geocoder):
    """Random strings of address characters (seeded): every one is answered with a known level."""
    import random

    from kg.geocode import LEVELS

    pieces = ["和歌山", "県", "市", "町", "葵", "1", "２", "三", "丁目", "番", "号", "-", "－", "ー", "〒", "字", "大字",
              "ヶ", " ", "ビル", "文京区", "白山", "府中市", "北区", "大阪府", "𠮷", "\u3000", "の", "9999999999", "\ufe00"]
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        got = geocoder.geocode(text)
        assert got.level in LEVELS and (got.error is None or got.error)
