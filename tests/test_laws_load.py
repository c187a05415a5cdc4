"""The e-Gov law loader through the whole pipeline, on law XML and API responses written for these tests."""

from __future__ import annotations

import io
import zipfile

import pyoxigraph as ox
import pytest

from kg.rdf.iri import Minter
from kg.loaders.lawtext import int_to_kanji, kanji_to_int, parse_law_number, suppl_key
from kg.load.pipeline import run_load
from kg.errors import LoadError, StrictFailure
from support import run_query
from kg.load.report import read_report
from kg.store import open_home

from support import BASE, current_store, one, values
from support.laws import (LAW_ID, LAW_INFO, REV_2020, REV_2024, TITLE, V1_ERROR, V1_LAWLISTS, V1_UPDATELAWLISTS, law_xml,
                          v2_law_data_json, v2_law_data_xml, v2_law_revisions, v2_laws, v2_revision, write_law)

M = Minter(BASE)
pytestmark = pytest.mark.engines
LAW = M.law(LAW_ID)
ELI = "http://data.europa.eu/eli/ontology#"
DCT = "http://purl.org/dc/terms/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"


current = current_store


def graph_lines(store, prefix: str = "") -> set[str]:
    text = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(M.graph("laws"))).decode()
    return {line for line in text.splitlines() if line.startswith(prefix)}


def subdivisions(store) -> set[str]:
    q = f"SELECT ?s WHERE {{ ?s eli:is_part_of+ <{LAW}> }}"
    return {r["s"].value for r in run_query(store, q, M)}


# ---- structure, text and identity -------------------------------------------------------------------

def test_law_text_is_mapped(settings, tmp_path):
    path = write_law(tmp_path, "2020")
    result = run_load(settings, "laws", [path])
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (1, 1, 0)
    store = current(settings)
    # identity from the law ID; metadata from the XML
    assert one(store, LAW, DCT + "identifier") == LAW_ID
    assert one(store, LAW, ELI + "type_document") == M.code("law-type", "Act")
    assert one(store, LAW, ELI + "number") == "平成十三年法律第九十九号@ja"
    assert one(store, LAW, ELI + "date_document") == "2001-06-20"
    assert one(store, LAW, M.term("lawNumberEra")) == M.code("era", "Heisei")
    assert (one(store, LAW, M.term("lawNumberYear")), one(store, LAW, M.term("lawNumberNum"))) == ("13", "99")
    assert values(store, LAW, RDFS + "label") == ["しけんてつづきほう@ja-hrkt", f"{TITLE}@ja"]
    assert values(store, LAW, DCT + "alternative") == ["試手法@ja", "試験法@ja"]
    assert one(store, LAW, RDFS + "seeAlso") == f"https://laws.e-gov.go.jp/law/{LAW_ID}"
    # the revision, its enforcement date and the amending law (minted although not loaded)
    rev = M.law_revision(REV_2020)
    assert one(store, LAW, M.term("currentRevision")) == rev
    assert one(store, LAW, M.term("textRevision")) == rev
    assert one(store, rev, ELI + "realizes") == LAW
    assert one(store, rev, ELI + "version_date") == "2020-04-01"
    assert one(store, rev, M.term("amendingLaw")) == M.law("501AC0000000010")
    assert one(store, LAW, ELI + "amended_by") == M.law("501AC0000000010")
    assert one(store, M.law("501AC0000000010"), RDFS + "seeAlso") == "https://laws.e-gov.go.jp/law/501AC0000000010"
    # structure: chapters, sections, articles (branch numbers kept), paragraphs
    art1 = M.law_article(LAW_ID, "1")
    assert art1 == f"{LAW}/article/1"
    assert one(store, art1, ELI + "is_part_of") == f"{LAW}/chapter/1"
    assert one(store, f"{LAW}/chapter/1", ELI + "is_part_of") == LAW
    assert one(store, f"{LAW}/chapter/1", DCT + "title") == "第一章　総則@ja"
    assert one(store, art1, M.term("caption")) == "（目的）@ja"
    assert one(store, art1, ELI + "number") == "第一条@ja"
    assert one(store, art1, ELI + "type_subdivision") == M.code("subdivision-type", "article")
    assert values(store, art1, ELI + "has_part") == [f"{art1}/paragraph/1", f"{art1}/paragraph/2"]
    assert one(store, f"{LAW}/article/3", ELI + "is_part_of") == f"{LAW}/chapter/2/section/1"
    assert one(store, f"{LAW}/article/2_2", ELI + "number") == "第二条の二@ja"
    assert one(store, f"{LAW}/article/2_2", ELI + "id_local") == "2_2"
    assert one(store, f"{LAW}/article/2_2", M.term("order")) == "3"
    # paragraph text: sentences, proviso, items and sub-items in reading order; ruby not duplicated
    p1 = M.law_paragraph(LAW_ID, "1", "1")
    assert one(store, p1, M.term("text")) == "この法律は、試験の手続を定めることを目的とする。@ja"
    assert one(store, f"{art1}/paragraph/2", M.term("text")) == (
        "前項の手続は、公正に行う。ただし、次に掲げる場合は、この限りでない。\n一　災害の場合\nイ　地震\nロ　津波\n"
        "二　試験官　試験を行う者をいう。@ja")
    assert one(store, f"{art1}/paragraph/2", ELI + "number") == "２@ja"
    assert one(store, p1, RDFS + "label") == f"{TITLE} 第一条第一項@ja"
    # 附則: the law's own under suppl/original, the amending law's under a key from AmendLawNum
    own = M.law_suppl(LAW_ID, "original")
    assert one(store, f"{own}/paragraph/1", M.term("caption")) == "（施行期日）@ja"
    amend = M.law_suppl(LAW_ID, "501AC010")
    assert one(store, amend, M.term("amendLawNum")) == "令和元年五月一〇日法律第一〇号@ja"
    assert one(store, amend, M.term("amendingLawNumber")) == "令和元年法律第十号@ja"
    assert one(store, amend, M.term("extract")) == "true"
    suppl_article = M.law_article(LAW_ID, "1", suppl="501AC010")
    assert suppl_article == f"{LAW}/suppl/501AC010/article/1"
    assert one(store, f"{suppl_article}/paragraph/1", M.term("text")) == "この法律は、令和二年四月一日から施行する。@ja"
    assert one(store, suppl_article, ELI + "is_part_of") == amend
    # main and supplementary articles never collide
    assert values(store, f"{LAW}/article/1", M.term("caption")) == ["（目的）@ja"]
    assert one(store, f"{LAW}/appendix-table/1", DCT + "title") == "別表第一@ja"
    assert "試験　千円" in one(store, f"{LAW}/appendix-table/1", M.term("text"))


def test_sparql_text_by_iri_and_laws_amended_by(settings, tmp_path):
    run_load(settings, "laws", [write_law(tmp_path, "2024")])
    store = current(settings)
    rows = list(run_query(store, f"SELECT ?t WHERE {{ <{LAW}/article/1/paragraph/1> kg:text ?t }}", M))
    assert [r["t"].value for r in rows] == ["この法律は、試験及び検定の手続を定めることを目的とする。"]
    q = f"""SELECT DISTINCT ?law ?title WHERE {{ ?law eli:amended_by <{M.law('506AC0000000020')}> ; dcterms:title ?title }}"""
    assert [(r["law"].value, r["title"].value) for r in run_query(store, q, M)] == [(LAW, TITLE)]


def test_both_serialisations_give_the_same_structure(tmp_path):
    from kg.settings import load_settings

    dumps = []
    for style in ("new", "old"):
        s = load_settings({}, data_dir=str(tmp_path / style), base_uri=BASE)
        directory = tmp_path / f"src-{style}"
        directory.mkdir()
        assert run_load(s, "laws", [write_law(directory, "2020", style)]).stats.rejected == 0
        dumps.append(graph_lines(current(s), f"<{LAW}/"))
    assert len(dumps[0]) > 100 and dumps[0] == dumps[1]


@pytest.mark.parametrize("order", [("2020", "2024"), ("2024", "2020")])
def test_latest_revision_is_current_whatever_the_order(settings, tmp_path, order):
    paths = {rev: write_law(tmp_path, rev) for rev in ("2020", "2024")}
    for rev in order:
        assert run_load(settings, "laws", [paths[rev]]).stats.rejected == 0
    store = current(settings)
    assert one(store, LAW, M.term("currentRevision")) == M.law_revision(REV_2024)
    assert one(store, LAW, M.term("textRevision")) == M.law_revision(REV_2024)
    assert values(store, LAW, ELI + "is_realized_by") == sorted([M.law_revision(REV_2020), M.law_revision(REV_2024)])
    assert values(store, LAW, ELI + "amended_by") == [M.law("501AC0000000010"), M.law("506AC0000000020")]
    # the 2024 text, no stale subdivision of 2020 (第三条 and 第二章 are gone)
    assert "試験及び検定" in one(store, f"{LAW}/article/1/paragraph/1", M.term("text"))
    assert not run_query(store, f"ASK {{ {{ <{LAW}/article/3> ?p ?o }} UNION {{ <{LAW}/chapter/2> ?p ?o }} "
                                f"UNION {{ <{LAW}/article/3/paragraph/1> ?p ?o }} UNION {{ ?s ?p <{LAW}/article/3> }} }}", M)
    assert f"{LAW}/suppl/506AC020" in subdivisions(store)
    # one title, one text per paragraph: nothing duplicated by the second load
    assert len(values(store, f"{LAW}/article/1/paragraph/1", M.term("text"))) == 1
    assert len(values(store, LAW, DCT + "title")) == 1


def test_load_order_gives_identical_graphs(tmp_path):
    from kg.settings import load_settings

    paths = {rev: write_law(tmp_path, rev) for rev in ("2020", "2024")}
    dumps = []
    for i, order in enumerate((["2020", "2024"], ["2024", "2020"], ["2024"])):
        s = load_settings({}, data_dir=str(tmp_path / f"d{i}"), base_uri=BASE)
        for rev in order:
            run_load(s, "laws", [paths[rev]])
        dumps.append(graph_lines(current(s)))
    assert dumps[0] == dumps[1]
    # with only 2024 loaded, the law's structure is the same as after both
    assert {l for l in dumps[2] if l.startswith(f"<{LAW}/")} == {l for l in dumps[0] if l.startswith(f"<{LAW}/")}


def test_reloading_the_same_file_is_idempotent(settings, tmp_path):
    path = write_law(tmp_path, "2024")
    first = run_load(settings, "laws", [path]).triples
    assert run_load(settings, "laws", [path]).triples == first


def test_bulk_zip_and_directory(settings, tmp_path):
    archive = tmp_path / "all_xml.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{REV_2020}/{REV_2020}.xml", law_xml("2020", "old"))
        z.writestr(f"{REV_2024}/{REV_2024}.xml", law_xml("2024"))
        z.writestr(f"{REV_2024}/pict/fig1.jpg", b"\xff\xd8\xff")
    result = run_load(settings, "laws", [archive])
    assert (result.stats.read, result.stats.rejected) == (2, 0)
    store = current(settings)
    assert one(store, LAW, M.term("textRevision")) == M.law_revision(REV_2024)
    directory = tmp_path / "dir"
    (directory / "sub").mkdir(parents=True)
    write_law(directory / "sub", "2020")
    assert run_load(settings, "laws", [directory]).stats.rejected == 0
    assert one(store := current(settings), LAW, M.term("textRevision")) == M.law_revision(REV_2024)
    assert f"{LAW}/article/3" not in subdivisions(store)


def test_bundled_demo_laws_load(settings):
    from kg.resources import package_dir

    result = run_load(settings, "laws", [package_dir("samples") / "laws"])
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (3, 3, 0)
    store = current(settings)
    flag = M.law("411AC0000000127")
    assert one(store, f"{flag}/article/1/paragraph/1", M.term("text")) == "国旗は、日章旗とする。@ja"
    assert one(store, f"{flag}/suppl/original/paragraph/3", M.term("caption")) == "（商船規則の廃止）@ja"
    era_act = M.law("354AC0000000043")  # paragraphs directly in the main provision
    assert one(store, f"{era_act}/paragraph/2", ELI + "is_part_of") == era_act
    order = M.law("431CO0000000143")
    assert one(store, order, ELI + "type_document") == M.code("law-type", "CabinetOrder")
    assert one(store, f"{order}/paragraph/1", M.term("text")) == "元号を令和に改める。@ja"


# ---- law lists: metadata without text ---------------------------------------------------------------

def test_api_lists_give_metadata(settings, tmp_path):
    (tmp_path / "update.xml").write_text(V1_UPDATELAWLISTS, encoding="utf-8")
    (tmp_path / "lawlists.xml").write_text(V1_LAWLISTS, encoding="utf-8")
    (tmp_path / "laws.json").write_text(v2_laws(), encoding="utf-8")
    result = run_load(settings, "laws", [tmp_path])
    # laws.json and update.xml describe the same law and revision: three files, four records
    assert (result.stats.read, result.stats.rejected) == (4, 0)
    store = current(settings)
    rev = M.law_revision(REV_2024)
    assert one(store, LAW, M.term("currentRevision")) == rev
    assert values(store, LAW, M.term("textRevision")) == []
    assert one(store, LAW, M.term("category")) == M.code("law-category", "021")
    assert one(store, rev, M.term("category")) == M.code("law-category", "021")
    assert one(store, rev, M.term("revisionStatus")) == M.code("revision-status", "CurrentEnforced")
    assert one(store, rev, DCT + "modified") == "2024-04-19T13:42:44+09:00"
    assert one(store, rev, RDFS + "seeAlso").startswith("https://elaws.e-gov.go.jp/document?lawid=")
    amender = M.law("506AC0000000020")
    assert one(store, amender, ELI + "number") == "令和六年法律第二十号@ja"
    assert one(store, amender, ELI + "date_document") == "2024-03-29"
    # a ministerial ordinance records its issuer code from the law ID
    ordinance = M.law("505M60000100008")
    assert one(store, ordinance, M.term("issuerCode")) == "60000100"
    assert one(store, ordinance, ELI + "type_document") == M.code("law-type", "MinisterialOrdinance")
    assert values(store, ordinance, ELI + "amended_by") == []
    # a lawlists entry has no revision: title, number and date only
    flag = M.law("411AC0000000127")
    assert one(store, flag, DCT + "title") == "国旗及び国歌に関する法律@ja"
    assert one(store, flag, ELI + "date_document") == "1999-08-13"
    assert values(store, flag, ELI + "is_realized_by") == []


def test_list_and_text_combine_in_either_order(settings, tmp_path):
    """A list's category survives the XML of the same revision; the XML's text survives the list."""
    (tmp_path / "laws.json").write_text(v2_laws(), encoding="utf-8")
    xml = write_law(tmp_path, "2024")
    run_load(settings, "laws", [tmp_path / "laws.json"])
    run_load(settings, "laws", [xml])
    store = current(settings)
    rev = M.law_revision(REV_2024)
    assert one(store, LAW, M.term("category")) == M.code("law-category", "021")
    assert one(store, rev, M.term("revisionStatus")) == M.code("revision-status", "CurrentEnforced")
    assert one(store, LAW, M.term("textRevision")) == rev
    before = graph_lines(store)
    run_load(settings, "laws", [tmp_path / "laws.json"])
    assert graph_lines(current(settings)) == before


def test_newer_metadata_without_text_keeps_the_text(settings, tmp_path):
    run_load(settings, "laws", [write_law(tmp_path, "2020")])
    (tmp_path / "laws.json").write_text(v2_laws(REV_2024, title="試験手続及び検定法"), encoding="utf-8")
    run_load(settings, "laws", [tmp_path / "laws.json"])
    store = current(settings)
    assert one(store, LAW, M.term("currentRevision")) == M.law_revision(REV_2024)
    assert one(store, LAW, DCT + "title") == "試験手続及び検定法@ja"
    assert one(store, LAW, M.term("textRevision")) == M.law_revision(REV_2020)
    assert f"{LAW}/article/3" in subdivisions(store)


def test_unenforced_revisions_do_not_become_current(settings, tmp_path):
    future = f"{LAW_ID}_20300401_512AC0000000001"
    (tmp_path / "revisions.json").write_text(v2_law_revisions(
        v2_revision(future, title="未来の名前", status="UnEnforced"),
        v2_revision(REV_2024, status="CurrentEnforced"),
        v2_revision(REV_2020, status="PreviousEnforced", amendment_num="令和元年法律第十号", promulgated="2019-05-10")),
        encoding="utf-8")
    assert run_load(settings, "laws", [tmp_path / "revisions.json"]).stats.rejected == 0
    store = current(settings)
    assert one(store, LAW, M.term("currentRevision")) == M.law_revision(REV_2024)
    assert one(store, LAW, DCT + "title") == f"{TITLE}@ja"
    assert len(values(store, LAW, ELI + "is_realized_by")) == 3
    assert one(store, M.law_revision(future), M.term("revisionStatus")) == M.code("revision-status", "UnEnforced")


# ---- API v2 law_data: the text with its revision metadata, as JSON or as XML ----------------------------

def _law_data_graph(tmp_path, form: str, revisions=("2020", "2024")) -> tuple[set[str], object]:
    """Loads the law_data responses of ``revisions`` in one form into a fresh store."""
    from kg.settings import load_settings

    s = load_settings({}, data_dir=str(tmp_path / f"data-{form}"), base_uri=BASE)
    for rev in revisions:
        path = tmp_path / f"law_data_{rev}.{form}"
        path.write_text(v2_law_data_json(rev) if form == "json" else v2_law_data_xml(rev), encoding="utf-8")
        result = run_load(s, "laws", [path])
        assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (1, 1, 0)
    return graph_lines(current(s)), s


def test_law_data_xml_loads_exactly_as_its_json_form(tmp_path):
    from_json, _ = _law_data_graph(tmp_path, "json")
    from_xml, s = _law_data_graph(tmp_path, "xml")
    assert len(from_xml) > 150 and from_xml == from_json
    store = current(s)
    rev = M.law_revision(REV_2024)
    # the revision metadata came through the XML envelope …
    assert one(store, LAW, M.term("currentRevision")) == rev
    assert one(store, LAW, M.term("category")) == M.code("law-category", "021")
    assert one(store, rev, M.term("revisionStatus")) == M.code("revision-status", "CurrentEnforced")
    assert one(store, M.law_revision(REV_2020), M.term("revisionStatus")) == M.code("revision-status", "PreviousEnforced")
    assert one(store, rev, M.term("repealStatus")) == M.code("repeal-status", "None")
    assert one(store, rev, M.term("mission")) == "Partial"
    assert one(store, rev, DCT + "modified") == "2024-04-19T13:42:44+09:00"
    assert values(store, rev, ELI + "title_alternative") == ["試手法@ja", "試験法@ja"]
    amender = M.law("506AC0000000020")
    assert one(store, amender, ELI + "number") == "令和六年法律第二十号@ja"
    assert one(store, amender, ELI + "date_document") == "2024-03-29"
    # … empty elements are the JSON form's nulls, not empty strings
    assert values(store, rev, M.term("enforcementComment")) == [] and values(store, rev, ELI + "date_no_longer_in_force") == []
    # … and the text of the latest revision is the law's, with no stale subdivision of 2020
    assert one(store, LAW, M.term("textRevision")) == rev
    assert one(store, f"{LAW}/article/1/paragraph/1", M.term("text")) == "この法律は、試験及び検定の手続を定めることを目的とする。@ja"
    assert f"{LAW}/article/3" not in subdivisions(store)
    # loading the JSON form over the XML form changes nothing
    for rev_name in ("2020", "2024"):
        run_load(s, "laws", [tmp_path / f"law_data_{rev_name}.json"])
    assert graph_lines(current(s)) == from_xml


def _rejections(settings, path) -> list[tuple[str, str, str]]:
    result = run_load(settings, "laws", [path])
    rows = read_report(result.report_path)
    return [(r["constraint"], r["line"], r["message"].replace(path.name, "FILE")) for r in rows]


@pytest.mark.parametrize("change,constraint,message", [
    (dict(law_info={**LAW_INFO, "law_id": None}), "law-id", "FILE: the response has no law_info.law_id"),
    (dict(revision_info={**v2_revision(REV_2024), "law_revision_id": ""}), "structure",
     "FILE: revision_info has no law_revision_id"),
    (dict(law=law_xml("2024").replace('<Article Num="2_2">', '<Article Num="2">')), "structure",
     "FILE: law_full_text: Law[1]/LawBody[1]/MainProvision[1]/Chapter[@Num='1']/Article[@Num='2']: an earlier article"),
])
def test_law_data_bad_records_are_reported_alike_in_both_forms(settings, tmp_path, change, constraint, message):
    rows = {}
    for form, text in (("json", v2_law_data_json(**change)), ("xml", v2_law_data_xml(**change))):
        path = tmp_path / f"law_data.{form}"
        path.write_text(text, encoding="utf-8")
        rows[form] = _rejections(settings, path)
    assert rows["xml"] == rows["json"]
    assert [r[:2] for r in rows["xml"]] == [(constraint, "1")] and rows["xml"][0][2].startswith(message)
    assert not run_query(current(settings), f"ASK {{ <{LAW}> ?p ?o }}", M)


def test_law_data_without_revision_info_gives_metadata_only_in_both_forms(tmp_path):
    """No revision named (null / empty element): the text cannot be placed, so it is not read into
    the graph (not even checked) in either form; the law's own metadata still loads."""
    from kg.settings import load_settings

    dup = law_xml("2024").replace('<Article Num="2_2">', '<Article Num="2">')
    graphs = []
    for form, text in (("json", v2_law_data_json(law=dup, revision_info=None)),
                       ("xml", v2_law_data_xml(law=dup, revision_info=None))):
        s = load_settings({}, data_dir=str(tmp_path / form), base_uri=BASE)
        path = tmp_path / f"law_data.{form}"
        path.write_text(text, encoding="utf-8")
        assert run_load(s, "laws", [path]).stats.rejected == 0
        graphs.append(graph_lines(current(s)))
        store = current(s)
        assert one(store, LAW, ELI + "number") == "平成十三年法律第九十九号@ja"
        assert values(store, LAW, M.term("textRevision")) == [] and subdivisions(store) == set()
    assert graphs[0] == graphs[1]


@pytest.mark.parametrize("content,message", [
    (v2_law_data_xml().replace("</law_info>", "</law_info><law_info><law_id>x</law_id></law_info>"),
     "the response has two <law_info> elements"),
    (v2_law_data_xml().replace("<category>", "<category>労働</category><category>"),
     "<revision_info> has two <category> elements"),
    (v2_law_data_xml(law="<html><body>not a law</body></html>"),
     "<law_full_text> holds <html>, not a 法令標準XML <Law> element"),
    (v2_law_data_xml().replace("</law_full_text>", law_xml("2020").split("?>", 1)[1] + "</law_full_text>"),
     "<law_full_text> holds more than one element"),
    (v2_law_data_xml()[:-300], "not well-formed XML (unclosed token)"),
    (v2_law_data_xml().replace("<law_data_response>", '<!DOCTYPE law_data_response [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                                      "<law_data_response>"), "line 2: a DOCTYPE declaration is not allowed"),
    ('<?xml version="1.0"?><laws_response><laws/></laws_response>',
     "the root element is <laws_response>: neither 法令標準XML (<Law>), an e-Gov 法令API v1 response (<DataRoot>) "
     "nor an API v2 law_data response (<law_data_response>)"),
])
def test_law_data_xml_that_cannot_be_read_is_refused_in_one_line(settings, tmp_path, content, message):
    bad = tmp_path / "law_data.xml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(LoadError) as err:
        run_load(settings, "laws", [bad])
    text = str(err.value)
    assert message in text and bad.name in text, text
    assert "\n" not in text and "Traceback" not in text


# ---- bad input ----------------------------------------------------------------------------------------

def test_bad_records_are_reported_and_the_rest_loads(settings, tmp_path):
    write_law(tmp_path, "2020")
    write_law(tmp_path, "2020", name="試験手続法.xml")                        # no revision ID in the name
    write_law(tmp_path, "2020", name=f"{LAW_ID[:-3]}098_20200401_501AC0000000010.xml")  # another law's ID
    dup = law_xml("2020").replace('<Article Num="2_2">', '<Article Num="2">')
    (tmp_path / f"{LAW_ID[:-3]}100_20200401_501AC0000000010.xml").write_text(
        dup.replace('Num="099"', 'Num="100"'), encoding="utf-8")
    (tmp_path / "bad-category.json").write_text(v2_laws(category="宇宙開発"), encoding="utf-8")
    result = run_load(settings, "laws", [tmp_path])
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (5, 1, 4)
    report = read_report(result.report_path)
    by_source = {}
    for row in report:
        by_source.setdefault(row["source"], []).append(row)
        assert row["message"] and int(row["line"]) >= 1
    assert by_source["試験手続法.xml"][0]["constraint"] == "file-name"
    assert "revision ID" in by_source["試験手続法.xml"][0]["message"]
    wrong = by_source[f"{LAW_ID[:-3]}098_20200401_501AC0000000010.xml"][0]
    assert wrong["constraint"] == "law-id" and "Num='099'" in wrong["message"]
    dup_row = by_source[f"{LAW_ID[:-3]}100_20200401_501AC0000000010.xml"][0]
    assert dup_row["constraint"] == "structure" and "Article[@Num='2']" in dup_row["message"]
    bad = by_source["bad-category.json"]
    assert {r["constraint"] for r in bad} == {"Class"}
    assert {r["focus"] for r in bad} == {LAW, M.law_revision(REV_2024)}
    # the rejected list record loaded nothing, not even its revision; the good text is there
    store = current(settings)
    assert one(store, LAW, M.term("currentRevision")) == M.law_revision(REV_2020)
    assert not run_query(store, f"ASK {{ <{M.law_revision(REV_2024)}> ?p ?o }}", M)


def test_strict_refuses_a_load_with_rejections(settings, tmp_path):
    good = write_law(tmp_path, "2020")
    run_load(settings, "laws", [good])
    before = open_home(settings).current_name()
    bad = write_law(tmp_path, "2024", name="no-id.xml")
    with pytest.raises(StrictFailure):
        run_load(settings, "laws", [bad], strict=True)
    assert open_home(settings).current_name() == before


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Law Era="Heisei" Lang="ja" LawType="Act" Num="099" Year="13"><LawNum>&lol9;</LawNum></Law>
"""
XXE = """<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment with <markup> before the declaration -->
<!DOCTYPE Law [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Law Era="Heisei" Lang="ja" LawType="Act" Num="099" Year="13"><LawNum>&xxe;</LawNum></Law>
"""


@pytest.mark.parametrize("content,message", [
    (BOMB, "line 2: a DOCTYPE declaration is not allowed"),
    (XXE, "line 3: a DOCTYPE declaration is not allowed"),
    ('<?xml version="1.0"?><Law Era="Heisei" Num="099" Year="13"><LawNum>&xxe;</LawNum></Law>',
     "line 1, column 67: not well-formed XML (undefined entity)"),
    (law_xml("2020")[:-200], "line 2, column 3571: not well-formed XML (unclosed token)"),
    ('<?xml version="1.0"?><html><body>not a law</body></html>', "the root element is <html>"),
    (V1_ERROR, "Result/Code '1': 取得結果が０件でした"),
    ("", "empty file"),
    ("\ufeffjust text", "not XML"),
])
def test_unsafe_or_unreadable_files_are_refused_and_data_stays(settings, tmp_path, content, message):
    run_load(settings, "laws", [write_law(tmp_path, "2020")])
    before = open_home(settings).current_name()
    bad = tmp_path / "in" / f"{REV_2024}.xml"
    bad.parent.mkdir()
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(LoadError) as err:
        run_load(settings, "laws", [bad])
    assert message in str(err.value) and bad.name in str(err.value) and "unchanged" in str(err.value)
    assert open_home(settings).current_name() == before
    assert one(current(settings), LAW, M.term("textRevision")) == M.law_revision(REV_2020)


@pytest.mark.parametrize("content,message", [
    ("{not json", "line 1, column 2: not JSON"),
    ('{"foo": 1}', "not an e-Gov 法令API v2 response"),
    ("[1, 2]", "top level is not an object"),
])
def test_bad_json_is_refused(settings, tmp_path, content, message):
    bad = tmp_path / "list.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(LoadError, match=message):
        run_load(settings, "laws", [bad])


_ARTICLE = ('<Article Num="{n}"><ArticleTitle>第{n}条</ArticleTitle><Paragraph Num="1"><ParagraphNum/><ParagraphSentence>'
            '<Sentence>' + "長い条文の本文である。" * 20 + '</Sentence></ParagraphSentence></Paragraph></Article>')
_LAW_HEAD = ('<Law Era="Heisei" Lang="ja" LawType="Act" Num="099" Year="13">'
             f"<LawNum>平成十三年法律第九十九号</LawNum><LawBody><LawTitle>{TITLE}</LawTitle><MainProvision>")


class _LargeLaw(io.RawIOBase):
    """A law of 100 articles per chapter, generated on the fly so the test itself holds no large string;
    ``head``/``tail`` wrap the ``<Law>`` (an API response envelope)."""

    def __init__(self, chapters: int, head: str = '<?xml version="1.0" encoding="utf-8"?>', tail: str = ""):
        self.parts = iter([(head + _LAW_HEAD).encode()] + [
            ('<Chapter Num="%d"><ChapterTitle>第%d章</ChapterTitle>' % (c, c)
             + "".join(_ARTICLE.format(n=c * 1000 + i) for i in range(100)) + "</Chapter>").encode()
            for c in range(1, chapters + 1)] + [("</MainProvision></LawBody></Law>" + tail).encode()])
        self.buffer = b""
        self.size = 0

    def readable(self):
        return True

    def read(self, n=-1):
        while len(self.buffer) < max(n, 1):
            chunk = next(self.parts, None)
            if chunk is None:
                break
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        self.size += len(out)
        return out


def test_memory_stays_bounded_on_a_large_law():
    """A ~34 MB law: finished provisions are dropped while parsing, so the parser's own memory
    (peak minus what the result holds) stays a small fraction of the document."""
    import tracemalloc

    from kg.loaders.lawtext import parse_law_xml

    stream = _LargeLaw(400)
    tracemalloc.start()
    doc = parse_law_xml(stream, "big.xml")  # 40,000 articles
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(doc.articles()) == 40_000 and stream.size > 30_000_000
    # an ElementTree of the whole document would add about twice the XML size
    assert peak - retained < stream.size / 4, (peak, retained, stream.size)


def test_memory_stays_bounded_on_a_large_law_data_response():
    """The XML form of law_data streams like a law file: the envelope's sections are read as they end
    and the <Law> inside is built while it is parsed, never held as a whole tree."""
    import tracemalloc

    from kg.load.sources import SourceFile
    from kg.loaders.laws import LawsLoader

    xml = v2_law_data_xml()
    head, tail = xml.split("<law_full_text>")[0] + "<law_full_text>", "</law_full_text>\n</law_data_response>\n"
    stream = _LargeLaw(300, head='<?xml version="1.0" encoding="UTF-8"?>\n' + head.split("?>", 1)[1], tail=tail)

    class Source(SourceFile):
        def open(self):
            return stream

    tracemalloc.start()
    records = list(LawsLoader().records(Source("law_data.xml", None)))  # type: ignore[arg-type]
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    [record] = records
    assert record.key == LAW_ID and record.data.text_revision == REV_2024
    assert len(record.data.text.articles()) == 30_000 and stream.size > 20_000_000
    assert record.data.revisions[0].category == "行政手続"
    assert peak - retained < stream.size / 4, (peak, retained, stream.size)


# ---- helpers and the pipeline extension ---------------------------------------------------------------

def test_law_numbers_and_keys():
    assert kanji_to_int("二百三十一") == 231 and kanji_to_int("二三一") == 231 and kanji_to_int("元") == 1
    assert int_to_kanji(231) == "二百三十一"
    assert parse_law_number("昭和二七年七月三一日法律第二七八号").canonical() == "昭和二十七年法律第二百七十八号"
    assert parse_law_number("令和元年五月一〇日法律第一〇号")[:4] == ("Reiwa", 1, "法律", 10)
    assert suppl_key("昭和二七年七月三一日法律第二七八号") == "327AC278"
    assert suppl_key(None) == "original"
    assert suppl_key("令和五年三月一日厚生労働省令第十号") == suppl_key("令和五年三月一日厚生労働省令第一〇号")
    assert M.law_part(LAW_ID, "article", "38_3_2") == f"{LAW}/article/38_3_2"
    assert M.law_paragraph(LAW_ID, "5", "2", suppl="original") == f"{LAW}/suppl/original/article/5/paragraph/2"


def test_entity_version_owns_and_parts_in_the_pipeline():
    """The general Entity fields the law loader relies on, on a bare store."""
    from kg.load.contract import Entity
    from kg.load.batches import remove_descriptions, settle_versions
    from kg.store.oxigraph import OxStore

    g = M.graph("laws")
    raw = ox.Store()
    store = OxStore(raw)
    p, v = "http://x/p", "http://x/version"
    old = [("http://x/a", p, "http://x/a/1"), ("http://x/a/1", p, "http://x/a/1/2"), ("http://x/a/1/2", p, "http://x/z"),
           ("http://x/a", v, "http://x/v2"), ("http://x/a", "http://x/kept", "http://x/k")]
    for s, pp, o in old:
        raw.add(ox.Quad(ox.NamedNode(s), ox.NamedNode(pp), ox.NamedNode(o), ox.NamedNode(g)))

    def entity(version, **kw):
        return Entity(M.law("x") if False else "http://x/a", [("http://x/a", v, version)], "s", 1, "k",
                      version=(v, version), extra=[("http://x/a", "http://x/log", version)], **kw)

    older, newer = entity("http://x/v1"), entity("http://x/v3", owns=("http://x/a/",), keep=frozenset({"http://x/kept"}))
    settled = settle_versions(store, g, [older])
    assert settled[0].action == "append" and settled[0].triples == [] and settled[0].extra
    settled = settle_versions(store, g, [newer, entity("http://x/v2")])
    assert [e.action for e in settled] == ["upsert", "append"]
    remove_descriptions(store, g, settled)
    left = {(q.subject.value, q.predicate.value, q.object.value) for q in raw}
    # owned nodes removed recursively; the kept predicate stays; nodes outside the prefix stay
    assert left == {("http://x/a", "http://x/kept", "http://x/k")}
