"""The 法人番号 loader through the whole pipeline, on rows written for these tests."""

from __future__ import annotations

import zipfile

import pyoxigraph as ox
import pytest

from kg.rdf.iri import Minter
from kg.load.pipeline import run_load
from kg.errors import LoadError, StrictFailure
from support import raw_current, run_query
from kg.load.report import read_report
from kg.store import open_home
from kg.store.changelog import ChangeLog

from support import BASE, current_store, one, values, nta_csv, nta_row, number, write_csv

M = Minter(BASE)
pytestmark = pytest.mark.engines
NDL = "1000011000005"
NTA = "7000012050002"
CHIBA_HINO = "1040001042029"
MINAMI_KANTO_HINO = "5010401092060"


def full_rows():
    return [
        nta_row(1, NDL, correct="1", update="2018-04-02", name="国立国会図書館", kind="101", city="千代田区",
                street="永田町１丁目１０－１", city_code="101", post="1000014", en="National Diet Library",
                en_pref="Tokyo", en_city="1-10-1,Nagatacho, Chiyoda ku", furigana="コクリツコッカイトショカン"),
        nta_row(2, CHIBA_HINO, process="12", update="2019-05-10", change="2019-05-01", name="千葉日野自動車株式会社",
                pref="千葉県", city="千葉市美浜区", street="新港１７７番地", pref_code="12", city_code="106",
                post="2610002", furigana="チバヒノジドウシャ"),
        nta_row(3, MINAMI_KANTO_HINO, name="南関東日野自動車株式会社", city="港区", street="新橋５丁目１８番１号",
                city_code="103", post="1050004", furigana="ミナミカントウヒノジドウシャ"),
        nta_row(4, "5111101000006", name="株式会社検索対象除外", hihyoji="1", city="千代田区", city_code="101"),
        nta_row(5, NTA, correct="1", name="国税庁", kind="101", city="千代田区", street="霞が関３丁目１－１",
                city_code="101", post="1000013", en="National Tax Agency", en_pref="Tokyo",
                en_city="3-1-1 Kasumigaseki, Chiyoda-ku", furigana="コクゼイチョウ", name_img="1234567",
                addr_img="7654321"),
    ]


def diff_rows():
    merger = "令和３年７月１日東京都港区新橋五丁目１８番１号南関東日野自動車株式会社（5010401092060）に合併し解散"
    return [
        nta_row(1, CHIBA_HINO, process="12", change="2019-05-01", name="千葉日野自動車株式会社", pref="千葉県",
                city="千葉市美浜区", street="新港１７７番地", pref_code="12", city_code="106", post="2610002",
                latest="0", furigana="チバヒノジドウシャ"),
        nta_row(2, CHIBA_HINO, process="21", change="2021-07-12", name="千葉日野自動車株式会社", pref="千葉県",
                city="千葉市美浜区", street="新港１７７番地", pref_code="12", city_code="106", post="2610002",
                close="2021-07-12", cause="11", successor=MINAMI_KANTO_HINO, change_cause=merger,
                furigana="チバヒノジドウシャ"),
        nta_row(3, MINAMI_KANTO_HINO, process="71", change="2021-07-01", name="南関東日野自動車株式会社",
                city="港区", street="新橋５丁目１８番１号", city_code="103", post="1050004",
                change_cause="令和３年７月１日千葉日野自動車株式会社（1040001042029）を合併"),
        nta_row(4, "5111101000006", process="99", name="株式会社検索対象除外", hihyoji="1"),
        nta_row(5, NTA, process="11", correct="0", change="2021-07-01", name="国税庁（新）", kind="101",
                city="千代田区", street="霞が関３丁目１－１", city_code="101", post="1000013", furigana="コクゼイチョウ"),
        nta_row(6, "1700150104099", name="ＩＳＲＡＡ　ＧＥＭＳ", kind="401", pref="千葉県", city="匝瑳市",
                street="飯塚１１２５", pref_code="12", city_code="235", post="2892106",
                outside="スリランカ民主社会主義共和国、マレガマ", en_outside="Malegama, Sri Lanka",
                furigana="イスラアゲムス", change="2021-07-14", assigned="2021-07-14"),
    ]


current = current_store


@pytest.fixture
def full(tmp_path):
    return write_csv(tmp_path / "13_tokyo_all_20210630.csv", full_rows())


@pytest.fixture
def diff(tmp_path):
    return write_csv(tmp_path / "diff_20210714.csv", diff_rows())


def test_every_column_is_mapped(settings, full):
    result = run_load(settings, "houjin", [full])
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (5, 5, 0)
    store = current(settings)
    c = M.corporation(NTA)
    address = c + "#address"
    assert one(store, c, "http://purl.org/dc/terms/identifier") == NTA
    assert values(store, c, "http://www.w3.org/ns/regorg#legalName") == ["National Tax Agency@en", "国税庁@ja"]
    assert "コクゼイチョウ@ja-hrkt" in values(store, c, "http://www.w3.org/2000/01/rdf-schema#label")
    assert one(store, c, "http://www.w3.org/ns/regorg#orgType") == M.code("corporation-kind", "101")
    assert one(store, c, M.term("process")) == M.code("process", "01")
    assert one(store, c, M.term("correction")) == "true"
    assert one(store, c, "http://purl.org/dc/terms/modified") == "2021-07-14"
    assert one(store, c, M.term("changeDate")) == "2015-10-05"
    assert one(store, c, M.term("imageId")) == "1234567"
    assert one(store, c, M.term("sequenceNumber")) == "5"
    assert one(store, c, M.term("municipality")) == M.municipality("131016")
    assert one(store, c, M.term("prefecture")) == M.prefecture("130001")
    assert one(store, c, "http://www.w3.org/2002/07/owl#sameAs") == "http://hojin-info.go.jp/data/" + NTA
    assert one(store, c + "#registration", "http://purl.org/dc/terms/issued") == "2015-10-05"
    assert one(store, address, "http://www.w3.org/ns/locn#postCode") == "1000013"
    assert values(store, address, "http://www.w3.org/ns/locn#adminUnitL1") == ["Tokyo@en", "東京都@ja"]
    assert one(store, address, "http://www.w3.org/ns/locn#adminUnitL2") == "千代田区@ja"
    assert values(store, address, M.term("streetNumber")) == ["3-1-1 Kasumigaseki, Chiyoda-ku@en", "霞が関３丁目１－１@ja"]
    assert "東京都千代田区霞が関３丁目１－１@ja" in values(store, address, "http://www.w3.org/ns/locn#fullAddress")
    assert one(store, address, M.term("imageId")) == "7654321"
    assert one(store, c, "http://www.w3.org/ns/regorg#orgStatus") == M.code("corporation-status", "active")
    excluded = M.corporation("5111101000006")
    assert one(store, excluded, M.term("searchExcluded")) == "true"
    assert values(store, c, M.term("searchExcluded")) == []


def test_diff_updates_closes_merges_deletes_and_keeps_history(settings, full, diff):
    run_load(settings, "houjin", [full])
    result = run_load(settings, "houjin", [diff])
    assert result.stats.rejected == 0
    store = current(settings)
    chiba = M.corporation(CHIBA_HINO)
    assert one(store, chiba, "http://www.w3.org/ns/regorg#orgStatus") == M.code("corporation-status", "closed")
    assert one(store, chiba, M.term("closeDate")) == "2021-07-12"
    assert one(store, chiba, M.term("closeCause")) == M.code("close-cause", "11")
    assert one(store, chiba, M.term("successor")) == M.corporation(MINAMI_KANTO_HINO)
    assert "合併し解散" in one(store, chiba, M.term("changeCause"))
    assert one(store, chiba, M.term("process")) == M.code("process", "21")
    # the latest=0 row is history, not the current state: one record node, linked to the corporation
    records = list(run_query(store, f"SELECT ?r ?p WHERE {{ ?r prov:specializationOf <{chiba}> ; kg:process ?p }}", M))
    assert [r["p"].value for r in records] == [M.code("process", "12")]
    survivor = M.corporation(MINAMI_KANTO_HINO)
    assert one(store, survivor, M.term("process")) == M.code("process", "71")
    # name change replaces the name (no stale values left behind)
    assert values(store, M.corporation(NTA), "http://www.w3.org/ns/regorg#legalName") == ["国税庁（新）@ja"]
    assert values(store, M.corporation(NTA), M.term("imageId")) == []
    # process 99 deletes the corporation and everything it owned
    gone = M.corporation("5111101000006")
    assert not run_query(store, f"ASK {{ {{ <{gone}> ?p ?o }} UNION {{ ?s ?p <{gone}> }} UNION {{ <{gone}#address> ?p ?o }} }}", M)
    # a new foreign company with its foreign address
    isr = M.corporation("1700150104099")
    foreign = one(store, isr, M.term("foreignAddress"))
    assert values(store, foreign, "http://www.w3.org/ns/locn#fullAddress") == ["Malegama, Sri Lanka@en", "スリランカ民主社会主義共和国、マレガマ@ja"]
    # every corporation in the diff is there with its latest name, exactly once
    names = list(run_query(store, "SELECT ?c (COUNT(?n) AS ?k) WHERE { ?c a rov:RegisteredOrganization ; rov:legalName ?n FILTER(lang(?n)='ja') } GROUP BY ?c", M))
    assert len(names) == 5 and all(int(s["k"].value) == 1 for s in names)


def test_loading_the_same_diff_twice_is_idempotent(settings, full, diff):
    run_load(settings, "houjin", [full])
    first = run_load(settings, "houjin", [diff]).triples
    assert run_load(settings, "houjin", [diff]).triples == first


def test_full_and_diff_in_one_load_apply_in_order(settings, full, diff):
    result = run_load(settings, "houjin", [full, diff])
    store = current(settings)
    assert one(store, M.corporation(CHIBA_HINO), "http://www.w3.org/ns/regorg#orgStatus").endswith("/closed")
    assert result.stats.read == 11


def test_replace_drops_corporations_not_in_the_new_files(settings, full, tmp_path):
    run_load(settings, "houjin", [full])
    only = write_csv(tmp_path / "one.csv", [full_rows()[0]])
    run_load(settings, "houjin", [only], replace=True)
    store = current(settings)
    found = {s["c"].value for s in run_query(store, "SELECT ?c WHERE { ?c a rov:RegisteredOrganization }", M)}
    assert found == {M.corporation(NDL)}


def test_cp932_and_zip_load_identically(settings, tmp_path, data_dir):
    from kg.settings import load_settings

    rows = full_rows() + [diff_rows()[-1]]
    utf8 = write_csv(tmp_path / "u.csv", rows, "utf-8")
    sjis = write_csv(tmp_path / "s.csv", rows, "cp932")
    assert utf8.read_bytes() != sjis.read_bytes()
    archive = tmp_path / "13_tokyo_all_20210630.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(sjis, "13_tokyo_all_20210630.csv")
    dumps = []
    for i, path in enumerate([utf8, sjis, archive]):
        s = load_settings({}, data_dir=str(tmp_path / f"d{i}"), base_uri=BASE)
        assert run_load(s, "houjin", [path]).stats.rejected == 0
        store = raw_current(s.data_path)
        dumps.append(sorted(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(M.graph("houjin"))).decode().splitlines()))
    assert dumps[0] == dumps[1] == dumps[2]
    assert any("国税庁" in line for line in dumps[0])


def test_web_api_csv_header_and_xml_response(settings, tmp_path):
    api_csv = tmp_path / "api.csv"
    api_csv.write_text("2018-04-02,1,1,1\n" + nta_csv([full_rows()[-1]]), encoding="utf-8")
    xml = tmp_path / "api.xml"
    xml.write_text(
        "<?xml version='1.0' encoding='UTF-8'?><corporations><lastUpdateDate>2018-04-02</lastUpdateDate>"
        "<count>1</count><divideNumber>1</divideNumber><divideSize>1</divideSize><corporation>"
        "<sequenceNumber>1</sequenceNumber><corporateNumber>1000011000005</corporateNumber><process>01</process>"
        "<correct>1</correct><updateDate>2018-04-02</updateDate><changeDate>2015-10-05</changeDate>"
        "<name>国立国会図書館</name><nameImageId/><kind>101</kind><prefectureName>東京都</prefectureName>"
        "<cityName>千代田区</cityName><streetNumber>永田町１丁目１０－１</streetNumber><addressImageId/>"
        "<prefectureCode>13</prefectureCode><cityCode>101</cityCode><postCode>1000014</postCode><addressOutside/>"
        "<addressOutsideImageId/><closeDate/><closeCause/><successorCorporateNumber/><changeCause/>"
        "<assignmentDate>2015-10-05</assignmentDate><latest>1</latest><enName>National Diet Library</enName>"
        "<enPrefectureName>Tokyo</enPrefectureName><enCityName>1-10-1,Nagatacho, Chiyoda ku</enCityName>"
        "<enAddressOutside/><furigana>コクリツコッカイトショカン</furigana><hihyoji>0</hihyoji></corporation></corporations>",
        encoding="utf-8")
    result = run_load(settings, "houjin", [api_csv, xml])
    assert (result.stats.loaded, result.stats.rejected) == (2, 0)
    store = current(settings)
    assert "国立国会図書館@ja" in values(store, M.corporation(NDL), "http://www.w3.org/ns/regorg#legalName")


def test_bad_rows_are_reported_and_the_rest_loads(settings, tmp_path):
    good = full_rows()
    bad_digit = nta_row(6, "2000011000005", name="検査数字違い株式会社")
    no_name = nta_row(7, number("000011000013"), name="", furigana="")
    bad_kind = nta_row(8, number("000011000021"), kind="999")
    bad_date = nta_row(9, number("000011000039"), change="2021-02-30")
    bad_flag = nta_row(10, number("000011000047"), latest="2")
    short = nta_row(11, number("000011000055"))[:12]
    bad_city = nta_row(12, number("000011000063"), city_code="1X5")
    bad_post = nta_row(13, number("000011000071"), post="113-0034")
    rows = sorted(good + [bad_digit, no_name, bad_kind, bad_date, bad_flag, short, bad_city, bad_post], key=lambda r: r[1])
    path = tmp_path / "mixed.csv"
    path.write_text(nta_csv(rows), encoding="utf-8")
    result = run_load(settings, "houjin", [path])
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (13, 5, 8)
    report = read_report(result.report_path)
    by_key = {}
    for row in report:
        by_key.setdefault(row["key"], set()).add(row["constraint"])
        assert row["source"] == "mixed.csv" and int(row["line"]) > 0 and row["message"]
    assert by_key["2000011000005"] == {"CheckDigit"}
    assert by_key[no_name[1]] == {"MinCount"}
    assert by_key[bad_kind[1]] == {"Class"}
    assert by_key[bad_date[1]] == {"Datatype"}
    assert by_key[bad_flag[1]] == {"flag"}
    assert by_key[short[1]] == {"columns"}
    assert "CheckDigit" in by_key[bad_city[1]] or "Pattern" in by_key[bad_city[1]]
    assert by_key[bad_post[1]] == {"Pattern"}
    line_of = {r["key"]: int(r["line"]) for r in report}
    assert line_of["2000011000005"] == [r[1] for r in rows].index("2000011000005") + 1
    store = current(settings)
    assert not run_query(store, "ASK { <%s> ?p ?o }" % M.corporation("2000011000005"), M)
    assert run_query(store, "ASK { <%s> ?p ?o }" % M.corporation(NTA), M)


def test_strict_loads_nothing_when_anything_is_rejected(settings, full, tmp_path):
    run_load(settings, "houjin", [full])
    before = open_home(settings).current_name()
    bad = write_csv(tmp_path / "bad.csv", [nta_row(1, "2000011000005")])
    with pytest.raises(StrictFailure, match="1 record"):
        run_load(settings, "houjin", [bad], strict=True)
    assert open_home(settings).current_name() == before


@pytest.mark.parametrize("content,message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not an NTA corporate-number CSV"),
    (b"name,age\nalice,3\n", "not an NTA corporate-number CSV"),
    (b"", "no corporate-number rows"),
])
def test_non_csv_files_are_refused_and_data_stays(settings, full, tmp_path, content, message):
    run_load(settings, "houjin", [full])
    before = open_home(settings).current_name()
    junk = tmp_path / "junk.csv"
    junk.write_bytes(content)
    with pytest.raises(LoadError, match=message) as err:
        run_load(settings, "houjin", [junk])
    assert "junk.csv" in str(err.value) and "unchanged" in str(err.value)
    assert open_home(settings).current_name() == before
    assert run_query(current(settings), "ASK { <%s> ?p ?o }" % M.corporation(NTA), M)


def test_truncated_zip_is_refused_and_data_stays(settings, full, tmp_path):
    run_load(settings, "houjin", [full])
    before = open_home(settings).current_name()
    archive = tmp_path / "13_tokyo_all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("13_tokyo_all.csv", nta_csv(full_rows() * 50))
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(LoadError, match="zip"):
        run_load(settings, "houjin", [archive])
    assert open_home(settings).current_name() == before
    assert len(list(open_home(settings).gens.iterdir())) == 1


def test_missing_file_and_unknown_source(settings, tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        run_load(settings, "houjin", [tmp_path / "nope.csv"])
    with pytest.raises(LoadError, match="unknown source"):
        run_load(settings, "nonsense", [tmp_path])


def test_provenance_is_recorded(settings, full):
    result = run_load(settings, "houjin", [full])
    store = current(settings)
    q = """SELECT ?name ?size ?sha ?read ?loaded ?rejected ?licence ?attr ?triples WHERE {
      GRAPH graph:meta {
        ?act a prov:Activity ; prov:used ?src ; kg:recordsRead ?read ; kg:recordsLoaded ?loaded ;
             kg:recordsRejected ?rejected ; prov:generated ?ds .
        ?src dcterms:title ?name ; dcat:byteSize ?size ; spdx:checksum/spdx:checksumValue ?sha .
        ?ds dcterms:license ?licence ; kg:attributionText ?attr ; void:triples ?triples } }"""
    rows = list(run_query(store, q, M))
    assert len(rows) == 1
    r = rows[0]
    import hashlib

    assert r["name"].value == full.name
    assert int(r["size"].value) == full.stat().st_size
    assert r["sha"].value == hashlib.sha256(full.read_bytes()).hexdigest()
    assert (int(r["read"].value), int(r["loaded"].value), int(r["rejected"].value)) == (5, 5, 0)
    assert "国税庁" in r["attr"].value
    assert int(r["triples"].value) == result.triples


def test_failure_half_way_through_a_streamed_load_leaves_nothing(settings, tmp_path):
    """Into an empty dataset the load streams (a child maps while bulk_load runs); an error late
    in the file must still abort the whole generation."""
    rows = [nta_row(i, number(f"{i:012d}"), name=f"株式会社テスト{i}") for i in range(1, 3001)]
    path = tmp_path / "late-error.csv"
    data = nta_csv(rows).encode("utf-8")
    path.write_bytes(data + b'9999,"\xff\xfe broken"\n')
    with pytest.raises(LoadError, match="line 3001"):
        run_load(settings, "houjin", [path])
    gens = open_home(settings)
    assert gens.current_name() is None
    assert list(gens.gens.iterdir()) == []


def test_a_store_that_fails_while_reading_a_streamed_load_ends_the_load(settings, tmp_path, monkeypatch):
    """The store stops reading half way (an engine refusing a request): the mapping child, whose
    writes then fill the pipe, must not wait for a reader for ever (it held the pipe's read end
    itself), and the load ends with the store's error, nothing switched in."""
    import threading

    from kg.load import stream

    rows = sorted((nta_row(i, number(f"{i:012d}"), name=f"株式会社テスト{i}") for i in range(1, 20001)),
                  key=lambda row: row[1])  # ascending, as the NTA sorts: the whole file streams
    path = write_csv(tmp_path / "big.csv", rows)
    def refusing(self, n=-1):
        raise OSError("the engine refused the request")

    monkeypatch.setattr(stream._ProgressReader, "read", refusing)
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(_raised(run_load, settings, "houjin", [path])), daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the load hung"
    assert "the engine refused the request" in outcome[0]
    assert open_home(settings).current_name() is None


def test_a_streamed_load_whose_last_message_outgrows_the_pipe_ends(settings, tmp_path, monkeypatch):
    """The mapping child's last message (its counts, its statistics: 82 kB for the real NTA diff
    file) can be larger than a pipe holds; the load must read it before waiting for the child to
    end (it waited for ever when the store had read the data first)."""
    import threading
    import time

    from kg.load import stream
    from kg.load.statistics import Tally

    path = write_csv(tmp_path / "a.csv", [nta_row(i, number(f"{i:012d}"), name=f"株式会社テスト{i}") for i in (1, 2, 3)])
    state, merge = Tally.state, Tally.merge
    monkeypatch.setattr(Tally, "state", lambda self: {"state": state(self), "padding": "x" * (1 << 20)})  # 16 pipes
    monkeypatch.setattr(Tally, "merge", lambda self, other: merge(self, other["state"]))
    finished = stream.Report.close
    monkeypatch.setattr(stream.Report, "close", lambda self: (time.sleep(0.5), finished(self)))  # the store reads first
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(_raised(run_load, settings, "houjin", [path])), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the load hung"
    assert outcome == ["no error"]


def test_a_fresh_file_is_indexed_as_its_rows_are_written_into_an_engine(settings, tmp_path, monkeypatch):
    """Into an engine elsewhere, the search indexer of a fresh single-file load starts with the
    records and indexes their summaries as the mapping writes them (the engine's load and the
    mapping leave part of two cores idle); beside an embedded load (same cores) it starts after
    them. The index is the whole file's either way."""
    from kg.load import pipeline, stream
    from kg.store.search import FILENAME, SearchIndex

    events: list = []
    start, close = pipeline._start_indexer, stream._ProgressReader.close

    def starting(gen_dir, m, dataset, rows, **how):
        events.append(("indexer", "following" if rows.until is not None else "after"))
        return start(gen_dir, m, dataset, rows, **how)

    def closing(self):
        events.append(("the store has read every line",))
        close(self)

    monkeypatch.setattr(pipeline, "_start_indexer", starting)
    monkeypatch.setattr(stream._ProgressReader, "close", closing)
    numbers = sorted(number(f"{i:012d}") for i in range(1, 41))  # as the NTA's files are: ascending
    rows = [nta_row(i, n, name=f"株式会社索引{i}") for i, n in enumerate(numbers, 1)]
    run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", rows)])
    read = ("the store has read every line",)
    assert events == ([read, ("indexer", "after")] if settings.store == "oxigraph"
                      else [("indexer", "following"), read])
    home = open_home(settings)
    index = SearchIndex(home.current_path() / FILENAME, readonly=True)
    assert index.search("株式会社索引37")[0][0].label == "株式会社索引37"
    assert index.search("索引")[1] == 40


@pytest.mark.parametrize("how", ["strict", "out of order"])
def test_a_followed_index_holds_every_row_however_the_file_loads(settings, tmp_path, how):
    """--strict maps in this process (its summaries reach the file when it closes them, before
    the indexer is told the rows are done); a file whose numbers stop ascending has its rest
    loaded as upserts, and the dataset is indexed again from the deduplicated summaries."""
    from kg.store.search import FILENAME, SearchIndex

    numbers = sorted(number(f"{i:012d}") for i in range(1, 31))
    rows = [nta_row(i, n, name=f"株式会社追従{i}") for i, n in enumerate(numbers, 1)]
    if how == "out of order":  # the 11th row again, renamed, after the 30th
        rows.append(nta_row(31, numbers[10], name="株式会社追従改名"))
    result = run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", rows)], strict=how == "strict")
    assert result.stats.repeats == (how == "out of order")
    index = SearchIndex(open_home(settings).current_path() / FILENAME, readonly=True)
    assert index.search("追従")[1] == 30
    names = {h.label for h in index.search("追従", limit=50)[0]}
    assert ("株式会社追従11" in names) == (how == "strict") and ("株式会社追従改名" in names) == (how != "strict")


def test_a_followed_summary_file_gives_whole_lines_until_it_is_done(tmp_path):
    """The indexer reads the summaries while another process appends to them: a line cut
    between two writes is given whole, and the lines written before the end is said are all
    read; a last line without its newline is the writer's unfinished one."""
    import threading
    import time

    from kg.load.written import _follow

    path = tmp_path / "s.tsv"
    path.write_bytes(b"")
    done = threading.Event()
    pieces = [b"a\tx\n", "b\t索".encode()[:-1], "b\t索".encode()[-1:] + b"\nc", b"\n", b"d\td\ne-unfinished"]

    def write():
        for piece in pieces:
            with open(path, "ab") as fh:
                fh.write(piece)
            time.sleep(0.05)
        done.set()

    writer = threading.Thread(target=write)
    with open(path, "rb") as fh:
        writer.start()
        got = list(_follow(fh, done, chunk=3, pause=0.01))
    writer.join()
    assert got == [b"a\tx", "b\t索".encode(), b"c", b"d\td"]


def _raised(fn, *args) -> str:
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - the message is what is checked
        return str(exc)
    return "no error"


def test_a_failing_search_indexer_aborts_the_load_and_keeps_the_data(settings, tmp_path, monkeypatch):
    """A fresh dataset is indexed in a forked child; if it fails, nothing is switched in."""
    first = [nta_row(1, number("000000000001"), name="株式会社一番")]
    run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", first)])
    before = open_home(settings).current_name()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("kg.load.pipeline.index_dataset", broken)
    second = [nta_row(1, number("000000000002"), name="株式会社二番")]
    with pytest.raises(LoadError, match="search index"):
        run_load(settings, "houjin", [write_csv(tmp_path / "b.csv", second)], replace=True)
    assert open_home(settings).current_name() == before
    store = open_home(settings).open_current()
    names = {q.object.value for q in store.quads(None, "http://www.w3.org/ns/regorg#legalName", None)}
    assert "株式会社一番" in names and "株式会社二番" not in names
    # the change feed was recorded while the indexer ran: the failed build's record is not served,
    # and the next build (which takes its name) records its own
    log = ChangeLog(settings.data_path)
    assert log.generations(before)[-1] == before
    monkeypatch.undo()
    third = [nta_row(1, number("000000000003"), name="株式会社三番")]
    served = run_load(settings, "houjin", [write_csv(tmp_path / "c.csv", third)]).generation
    record = log.record(served, served)
    assert record["previous"] == before and record["mode"] == "update"
    touched = log.entities(served, 100)
    assert M.corporation(number("000000000003")) in touched and M.corporation(number("000000000001")) not in touched


def test_the_change_feed_is_recorded_while_the_search_indexer_runs(settings, tmp_path, monkeypatch):
    """A fresh dataset's indexer (a forked child) and the change feed's record (this process)
    run side by side: at 5.3M corporations each kept one core for tens of seconds."""
    from kg.load import changes, pipeline

    events: list[str] = []
    finish, join = changes.Capture.finish, pipeline._finish_indexer

    def recording(self, *args, **kwargs):
        events.append("change feed recorded")
        return finish(self, *args, **kwargs)

    def joining(child):
        events.append("indexer joined")
        return join(child)

    monkeypatch.setattr(changes.Capture, "finish", recording)
    monkeypatch.setattr(pipeline, "_finish_indexer", joining)
    result = run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", [nta_row(1, number("000000000001"))])])
    assert events == ["change feed recorded", "indexer joined"]
    assert list(result.steps).index("changes") < list(result.steps).index("search index (rest)")
    log = ChangeLog(settings.data_path)
    assert M.corporation(number("000000000001")) in log.entities(result.generation, 100_000)


def test_load_reports_its_steps(settings, tmp_path):
    result = run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", [nta_row(1, number("000000000001"))])])
    assert list(result.steps)[0] == "records" and "metadata" in result.steps and "switch" in result.steps
    assert all(seconds >= 0 for seconds in result.steps.values())


# ---- the NTA republishes whole histories (real diffs: correct=1, the file's date on every row) --

SOFIS = "1010401074772"  # in the real 2021-07-14 diff with two past states and its current one


def _history(update: str, correct: str, first_seq: int, *, current_change="2021-06-30", current_name="株式会社ソフィス"):
    """SOFIS's history as one diff publishes it: two past states (latest=0), then its current one."""
    common = dict(correct=correct, update=update, city="千代田区", city_code="101", street="神田錦町１丁目")
    return [
        nta_row(first_seq, SOFIS, process="01", change="2015-10-05", name="株式会社ソフィス", latest="0", **common),
        nta_row(first_seq + 1, SOFIS, process="12", change="2017-01-16", name="株式会社ソフィス", latest="0",
                **{**common, "street": "神田小川町２丁目"}),
        nta_row(first_seq + 2, SOFIS, process="12", change=current_change, name=current_name, latest="1",
                **{**common, "street": "神田司町２丁目"}),
    ]


def _records(store) -> list[tuple[str, list[str], list[str]]]:
    rows = run_query(store, f"""SELECT ?r WHERE {{ ?r prov:specializationOf <{M.corporation(SOFIS)}> }}""")
    return sorted((str(r["r"].value), values(store, r["r"].value, "http://purl.org/dc/terms/modified"),
                   values(store, r["r"].value, M.term("sequenceNumber"))) for r in rows)


@pytest.mark.parametrize("together", [False, True], ids=["one-load-each", "one-load"])
def test_a_republished_history_is_idempotent_and_validates(settings, tmp_path, together):
    from kg.store import open_home
    from kg.validation.revalidate import revalidate

    files = [write_csv(tmp_path / "diff_20210701.csv", _history("2021-07-01", "0", 1)),
             write_csv(tmp_path / "diff_20210714.csv", _history("2021-07-14", "1", 16)),
             write_csv(tmp_path / "diff_20210720.csv", _history("2021-07-20", "1", 40))]
    results = [run_load(settings, "houjin", files)] if together else [run_load(settings, "houjin", [f]) for f in files]
    assert all(r.stats.rejected == 0 for r in results)
    store = current(settings)
    records = _records(store)
    # the two past states once each, with the newest publication's date and row number only
    assert [(modified, seq) for _, modified, seq in records] == [(["2021-07-20"], ["40"]), (["2021-07-20"], ["41"])]
    assert one(store, M.corporation(SOFIS), "http://purl.org/dc/terms/modified") == "2021-07-20"
    checked, violations = revalidate(open_home(settings).open_current(), "houjin", M)
    assert checked == 3 and violations == []


def test_a_row_given_twice_is_one_past_state_not_a_rejection(settings, tmp_path):
    # two diffs of a day concatenated: a past state's row twice, next to each other
    rows = _history("2021-07-01", "0", 1)
    path = write_csv(tmp_path / "diff_20210701.csv", [rows[0], *rows])
    result = run_load(settings, "houjin", [path])
    assert result.stats.rejected == 0 and result.report_path is None
    assert [(modified, seq) for _, modified, seq in _records(current(settings))] == \
        [(["2021-07-01"], ["1"]), (["2021-07-01"], ["2"])]


def test_an_older_diff_loaded_after_a_newer_one_changes_no_past_state(settings, tmp_path):
    new = write_csv(tmp_path / "diff_20210714.csv", _history("2021-07-14", "1", 16))
    old = write_csv(tmp_path / "diff_20210701.csv", _history("2021-07-01", "0", 1))
    run_load(settings, "houjin", [new])
    before = _records(current(settings))
    run_load(settings, "houjin", [old])
    assert _records(current(settings)) == before


def test_a_state_that_stops_being_current_becomes_one_past_record(settings, tmp_path):
    first = write_csv(tmp_path / "diff_20210701.csv", _history("2021-07-01", "0", 1))
    later = _history("2021-07-14", "1", 16) + [
        nta_row(19, SOFIS, process="12", correct="0", update="2021-07-14", change="2021-07-10",
                name="株式会社ソフィス新", city="千代田区", city_code="101", street="神田司町２丁目", latest="1")]
    later[2][23] = "0"  # the old current state is history now
    run_load(settings, "houjin", [first])
    run_load(settings, "houjin", [write_csv(tmp_path / "diff_20210714.csv", later)])
    store = current(settings)
    assert len(_records(store)) == 3
    assert values(store, M.corporation(SOFIS), "http://www.w3.org/ns/regorg#legalName") == ["株式会社ソフィス新@ja"]


# ---- one corporation twice in one file: the later rows update what the earlier ones wrote -------

def _twice_rows():
    """SOFIS, another corporation, then SOFIS again (a later state): as `cat` of two diffs gives."""
    again = _history("2021-07-14", "1", 5, current_change="2021-07-10", current_name="株式会社ソフィス新")
    was_current = [*_history("2021-07-14", "1", 7)[2]]
    was_current[23] = "0"  # the first file's current state, now one of the past
    return [*_history("2021-07-01", "0", 1), nta_row(4, NTA, name="国税庁", kind="101", city="千代田区", city_code="101"),
            *again[:2], was_current, again[2]]


@pytest.mark.parametrize("into", ["empty", "loaded"])
@pytest.mark.parametrize("pending", [200_000, 1])
def test_one_corporation_twice_in_one_file_is_updated_not_doubled(data_dir, tmp_path, into, pending):
    from kg.settings import load_settings
    from kg.store import open_home
    from kg.validation.revalidate import revalidate

    settings = load_settings({"KG_PENDING_ENTITIES": str(pending)}, data_dir=str(data_dir), base_uri=BASE)
    if into == "loaded":  # not empty: no streaming, upserts from the start
        run_load(settings, "houjin", [write_csv(tmp_path / "first.csv", [nta_row(1, NDL, name="国立国会図書館")])])
    result = run_load(settings, "houjin", [write_csv(tmp_path / "cat.csv", _twice_rows())])
    assert (result.stats.read, result.stats.rejected) == (8, 0)
    store = current(settings)
    corp = M.corporation(SOFIS)
    assert values(store, corp, "http://www.w3.org/ns/regorg#legalName") == ["株式会社ソフィス新@ja"]
    assert one(store, corp, M.term("changeDate")) == "2021-07-10"
    assert one(store, corp, "http://purl.org/dc/terms/modified") == "2021-07-14"
    assert len(_records(store)) == 3  # 2015, 2017, and the 2021-06-30 state the second rows made past
    assert one(store, M.corporation(NTA), "http://www.w3.org/ns/regorg#legalName") == "国税庁@ja"
    checked, violations = revalidate(open_home(settings).open_current(), "houjin", M)
    assert violations == [] and checked == (6 if into == "loaded" else 5)


# ---- one bad file among several: reported like a bad row, the others load (--strict: none) ------

def _broken_xml(path):
    """An NTA Web-API XML answer cut off after its first corporation (a truncated download)."""
    row = dict(zip(("sequenceNumber", "corporateNumber", "process", "correct", "updateDate", "changeDate", "name"),
                   ("1", NDL, "01", "0", "2021-07-14", "2015-10-05", "国立国会図書館")))
    first = "<corporation>" + "".join(f"<{k}>{v}</{k}>" for k, v in row.items()) + "<latest>1</latest></corporation>"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?><corporations><count>2</count>{first}<corporation><seq',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("bad", ["columns", "truncated-xml"])
@pytest.mark.parametrize("into", ["empty", "loaded"])
def test_a_bad_file_among_several_is_reported_and_the_others_load(cli, settings, tmp_path, bad, into):
    if into == "loaded":
        assert cli("load", "houjin", str(write_csv(tmp_path / "first.csv", [nta_row(1, NTA, name="国税庁")]))).exit_code == 0
    if bad == "columns":
        broken = tmp_path / "a_broken.csv"
        broken.write_text("1,2,3\n", encoding="utf-8")
    else:
        broken = _broken_xml(tmp_path / "a_broken.xml")
    good = write_csv(tmp_path / "b_good.csv", [nta_row(1, SOFIS, name="株式会社ソフィス")])
    result = cli("load", "houjin", str(broken), str(good))
    assert result.exit_code == 0, result.output
    assert f"refused: {broken.name}" in result.output and "read 1 records, loaded 1, rejected 0" in result.output
    store = current(settings)
    assert one(store, M.corporation(SOFIS), "http://www.w3.org/ns/regorg#legalName") == "株式会社ソフィス@ja"
    assert not values(store, M.corporation(NDL), "http://www.w3.org/ns/regorg#legalName")  # nothing of the bad file
    (row,) = [r for r in read_report(result.output.split("rejection report: ")[1].split()[0]) if r["constraint"] == "file"]
    assert row["source"] == broken.name and "not loaded" in row["message"]
    sources = {s["n"].value for s in run_query(store, "SELECT ?n WHERE { ?a prov:used ?s . ?s dcterms:title ?n }")}
    assert good.name in sources and broken.name not in sources


def test_with_strict_a_bad_file_stops_the_whole_load(cli, settings, tmp_path):
    broken = tmp_path / "a_broken.csv"
    broken.write_text("1,2,3\n", encoding="utf-8")
    good = write_csv(tmp_path / "b_good.csv", [nta_row(1, SOFIS, name="株式会社ソフィス")])
    result = cli("load", "houjin", "--strict", str(broken), str(good))
    assert result.exit_code != 0 and "a_broken.csv: line 1" in result.output and "nothing was loaded" in result.output
    assert current(settings) is None
    both_bad = cli("load", "houjin", str(broken), str(broken.with_name("c.csv").write_text("x\n") and broken.with_name("c.csv")))
    assert both_bad.exit_code != 0 and "no file could be loaded" in both_bad.output


def test_a_bad_file_after_part_of_it_was_committed_stops_the_load(data_dir, tmp_path):
    from kg.settings import load_settings

    settings = load_settings({"KG_PENDING_ENTITIES": "1"}, data_dir=str(data_dir), base_uri=BASE)
    run_load(settings, "houjin", [write_csv(tmp_path / "first.csv", [nta_row(1, NTA, name="国税庁")])])
    # enough corporations that the parser yields some (and the load commits them) before the cut
    from kg.loaders.houjin import COLUMNS

    rows = [nta_row(1, NDL, name="国立国会図書館")] + [nta_row(k, number(f"{9_000_000_000_00 + k:012d}"), name=f"株式会社{k}")
                                                  for k in range(1, 2000)]
    many = "".join("<corporation>" + "".join(f"<{c}>{v}</{c}>" for c, v in zip(COLUMNS, row)) + "</corporation>"
                   for row in rows)
    broken = tmp_path / "a_broken.xml"
    broken.write_text(f"<corporations>{many}<corporation><seq", encoding="utf-8")
    with pytest.raises(LoadError, match="a_broken.xml.*nothing was loaded"):
        run_load(settings, "houjin", [broken, write_csv(tmp_path / "b.csv", [nta_row(1, CHIBA_HINO)])])
    assert not values(current(settings), M.corporation(NDL), "http://www.w3.org/ns/regorg#legalName")


def test_an_older_diff_loaded_after_a_newer_one_does_not_undo_the_current_state(settings, tmp_path):
    newer = write_csv(tmp_path / "diff_20210714.csv", [nta_row(1, SOFIS, update="2021-07-14", name="株式会社ソフィス新")])
    older = write_csv(tmp_path / "diff_20210701.csv", [nta_row(1, SOFIS, update="2021-07-01", name="株式会社ソフィス")])
    run_load(settings, "houjin", [newer])
    run_load(settings, "houjin", [older])
    assert one(current(settings), M.corporation(SOFIS), "http://www.w3.org/ns/regorg#legalName") == "株式会社ソフィス新@ja"
    run_load(settings, "houjin", [newer, older])  # in one load as well
    assert one(current(settings), M.corporation(SOFIS), "http://www.w3.org/ns/regorg#legalName") == "株式会社ソフィス新@ja"


# ---- a diff carries the dataset's counts forward instead of counting the graph --------------------

def _live_counts(settings) -> tuple[int, dict[str, int]]:
    """The houjin graph's triples and entities per class, counted in the store now."""
    store = open_home(settings, create=False).open_current()
    graph = M.graph("houjin")
    classes = {str(s["c"]): int(s["n"].value) for s in store.query(
        f"SELECT ?c (COUNT(?s) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s a ?c }} }} GROUP BY ?c")}
    return store.count(graph), classes


def _recorded_counts(settings) -> tuple[int, dict[str, int]]:
    from kg.load.provenance import recorded_classes

    store = open_home(settings, create=False).open_current()
    graph = M.graph("houjin")
    triples = [int(s["n"].value) for s in store.query(
        f"SELECT ?n WHERE {{ GRAPH <{M.graph('meta')}> {{ <{graph}> <http://rdfs.org/ns/void#triples> ?n }} }}")]
    assert len(triples) == 1
    return triples[0], recorded_classes(store, M, graph)


def test_diffs_carry_the_counts_forward_exactly(settings, full, diff, tmp_path):
    """Every update below counts nothing in the store (``counts_carried``), yet records the
    graph's own triple count and entities per class: lines already held (the same diff again,
    republished history, an older diff, one corporation twice in a file) are not counted twice,
    and removed entities and past records are taken off."""
    first = run_load(settings, "houjin", [full])
    # a fresh dataset streamed: its lines are distinct and new, so it is not counted either
    assert first.stats.counts_carried and not first.stats.digest_recomputed
    assert _recorded_counts(settings) == _live_counts(settings)
    later = [[diff], [diff],
             [write_csv(tmp_path / "diff_20210701.csv", _history("2021-07-01", "0", 1))],
             [write_csv(tmp_path / "diff_20210714.csv", _history("2021-07-14", "1", 16))],
             [write_csv(tmp_path / "diff_20210701b.csv", _history("2021-07-01", "0", 1))],
             [write_csv(tmp_path / "cat.csv", _twice_rows())]]
    for files in later:
        result = run_load(settings, "houjin", files)
        assert result.stats.counts_carried and not result.stats.digest_recomputed
        live = _live_counts(settings)
        assert _recorded_counts(settings) == live and result.triples == live[0]
    assert live[1][str(M.term("CorporationRecord"))] == 3  # the past states the history files made


def test_an_update_larger_than_the_checked_batch_counts_the_graph(data_dir, full, diff):
    from kg.settings import load_settings

    settings = load_settings({"KG_CHECKED_BATCH": "1"}, data_dir=str(data_dir), base_uri=BASE)
    run_load(settings, "houjin", [full])
    result = run_load(settings, "houjin", [diff])
    assert not result.stats.counts_carried
    assert _recorded_counts(settings) == _live_counts(settings)
