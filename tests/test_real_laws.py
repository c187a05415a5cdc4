"""The law loader on the real e-Gov files in ../shared/data/real/law/ (skipped when absent).

Done-when of the laws issue: zero rejections; 航空法 with all 531 articles (345 main, 186 in its
73 supplementary provisions) and their paragraphs; 行政手続法 in two revisions with the 2024 one
current; the API list responses as metadata; SPARQL for 第一条第一項 by IRI and for the laws
amended by a given amending law.
"""

from __future__ import annotations

import pytest

from kg.rdf.iri import Minter
from kg.load.pipeline import run_load
from support import current_store, raw_current, run_query

from support import BASE

pytestmark = [pytest.mark.real, pytest.mark.engines]

M = Minter(BASE)
KOKU = "327AC0000000231"          # 航空法
GYOSEI = "405AC0000000088"        # 行政手続法
GYOSEI_2018 = "405AC0000000088_20180401_429AC0000000004"
GYOSEI_2024 = "405AC0000000088_20240401_504AC0100000052"
SUBDIVISION = M.code("subdivision-type", "")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, module_backend):
    """The whole real law folder, loaded once for the module (embedded or into its engine)."""
    from kg.settings import load_settings
    from support import REAL

    if not REAL.is_dir():
        pytest.skip("../shared/data/real is not present")
    settings = load_settings({}, data_dir=str(tmp_path_factory.mktemp("real-laws") / "kg-data"), base_uri=BASE,
                             **(module_backend.overrides() if module_backend else {}))
    result = run_load(settings, "laws", [REAL / "law"])
    return result, current_store(settings)


def count(store, sparql: str) -> int:
    return int(next(iter(run_query(store, sparql, M)))["n"].value)


def test_every_real_file_loads_without_rejection(loaded):
    result, _ = loaded
    # 3 law texts, 5 laws of the v1 update list, 1 each from v2 /laws, /law_revisions, /keyword, /law_data
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (12, 12, 0)
    assert result.report_path is None
    assert len(result.stats.sources) == 8


def test_koku_ho_has_all_its_articles_and_paragraphs(loaded):
    _, store = loaded
    law = M.law(KOKU)
    kinds = {row["k"].value.rsplit("/", 1)[-1]: int(row["n"].value) for row in run_query(store, f"""
        SELECT ?k (COUNT(?s) AS ?n) WHERE {{ ?s eli:is_part_of+ <{law}> ; eli:type_subdivision ?k }} GROUP BY ?k""", M)}
    assert kinds["article"] == 531 and kinds["paragraph"] == 1100 and kinds["suppl"] == 73
    assert kinds["chapter"] == 13 and kinds["section"] == 6 and kinds["subsection"] == 5
    main = count(store, f"""SELECT (COUNT(?a) AS ?n) WHERE {{ ?a eli:is_part_of+ <{law}> ;
        eli:type_subdivision <{SUBDIVISION}article> FILTER(!CONTAINS(STR(?a), "/suppl/")) }}""")
    suppl = count(store, f"""SELECT (COUNT(?a) AS ?n) WHERE {{ ?a eli:is_part_of/eli:is_part_of* ?s .
        ?s eli:is_part_of <{law}> ; eli:type_subdivision <{SUBDIVISION}suppl> .
        ?a eli:type_subdivision <{SUBDIVISION}article> }}""")
    assert (main, suppl) == (345, 186)
    # every paragraph of every article is there and has text; ruby readings are not in it
    assert count(store, f"""SELECT (COUNT(?p) AS ?n) WHERE {{ ?p eli:is_part_of+ <{law}> ;
        eli:type_subdivision <{SUBDIVISION}paragraph> ; kg:text ?t }}""") == 1100
    text = next(iter(run_query(store, f"SELECT ?t WHERE {{ <{law}/article/2/paragraph/6> kg:text ?t }}", M)))["t"].value
    assert "内の矩形部分をいう。" in text and "\n" not in text
    # the file is indented: no layout whitespace leaks into the text
    assert count(store, f"""SELECT (COUNT(?p) AS ?n) WHERE {{ ?p eli:is_part_of+ <{law}> ; kg:text ?t
        FILTER(CONTAINS(?t, "\\n ") || CONTAINS(?t, "  ")) }}""") == 0
    # 附則 of different amending laws have their own articles 1, apart from the main article 1
    assert count(store, f"""SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ ?a eli:is_part_of+ <{law}> ; eli:id_local "1" ;
        eli:type_subdivision <{SUBDIVISION}article> }}""") > 10
    # deleted ranges keep their Num as the IRI segment
    assert count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{law}/article/121:122> eli:number ?x }}") == 1


def test_gyosei_tetsuzuki_ho_has_two_revisions_and_the_2024_one_is_current(loaded):
    _, store = loaded
    law = M.law(GYOSEI)
    rows = list(run_query(store, f"""SELECT ?r ?d ?amender WHERE {{ <{law}> eli:is_realized_by ?r .
        ?r eli:version_date ?d ; kg:amendingLaw ?amender }} ORDER BY ?d""", M))
    assert [(r["r"].value, r["d"].value, r["amender"].value) for r in rows] == [
        (M.law_revision(GYOSEI_2018), "2018-04-01", M.law("429AC0000000004")),
        (M.law_revision(GYOSEI_2024), "2024-04-01", M.law("504AC0100000052"))]
    for predicate in ("currentRevision", "textRevision"):
        assert [r["r"].value for r in run_query(store, f"SELECT ?r WHERE {{ <{law}> kg:{predicate} ?r }}", M)] == [
            M.law_revision(GYOSEI_2024)]
    # the 2024 text: 69 articles (2018 had 73) and the 2024 附則 of 令和四年法律第五十二号
    assert count(store, f"""SELECT (COUNT(?a) AS ?n) WHERE {{ ?a eli:is_part_of+ <{law}> ;
        eli:type_subdivision <{SUBDIVISION}article> }}""") == 69
    assert count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{law}/suppl/504AC052> a eli:LegalResourceSubdivision }}") == 1


def test_first_paragraph_of_article_one_by_iri(loaded):
    _, store = loaded
    iri = M.law_paragraph(GYOSEI, "1", "1")
    rows = list(run_query(store, f"SELECT ?text ?label WHERE {{ <{iri}> kg:text ?text ; rdfs:label ?label }}", M))
    assert len(rows) == 1
    assert rows[0]["text"].value.startswith("この法律は、処分、行政指導及び届出に関する手続並びに命令等を定める手続に関し、")
    assert rows[0]["text"].value.endswith("もって国民の権利利益の保護に資することを目的とする。")
    assert rows[0]["label"].value == "行政手続法 第一条第一項"


def test_laws_amended_by_a_given_law(loaded):
    _, store = loaded
    q = """SELECT ?title WHERE { ?law eli:amended_by <%s> ; dcterms:title ?title }"""
    assert [r["title"].value for r in run_query(store, q % M.law("504AC0100000052"), M)] == ["行政手続法"]
    assert [r["title"].value for r in run_query(store, q % M.law("506CO0000000161"), M)] == ["地方自治法施行令"]
    # and the same through the revisions, with the enforcement date
    rows = list(run_query(store, f"""SELECT ?law ?d WHERE {{ ?r kg:amendingLaw <{M.law('505CO0000000005')}> ;
        eli:realizes ?law ; eli:version_date ?d }}""", M))
    assert [(r["law"].value, r["d"].value) for r in rows] == [(M.law("421CO0000000220"), "2023-06-01")]


def test_api_lists_are_loaded_as_metadata(loaded):
    _, store = loaded

    def one(s, p):
        found = [r["o"].value for r in run_query(store, f"SELECT ?o WHERE {{ <{s}> {p} ?o }}", M)]
        assert len(found) == 1, (s, p, found)
        return found[0]

    order = M.law("322CO0000000016")  # v2 /laws: 地方自治法施行令
    assert one(order, "dcterms:title") == "地方自治法施行令"
    assert one(order, "kg:category") == M.code("law-category", "031")
    assert one(order, "eli:type_document") == M.code("law-type", "CabinetOrder")
    assert one(order, "eli:date_document") == "1947-05-03"
    rev = M.law_revision("322CO0000000016_20240401_506CO0000000161")
    assert one(rev, "kg:revisionStatus") == M.code("revision-status", "CurrentEnforced")
    digital = M.law_revision("503AC0000000036_20240607_506AC0000000046")  # v2 /law_revisions
    assert one(digital, "kg:revisionStatus") == M.code("revision-status", "PreviousEnforced")
    # v1 updatelawlists: 政令, 府省令 (issuer code from the law ID) and 人事院規則
    assert one(M.law("505M60000100008"), "kg:issuerCode") == "60000100"
    assert one(M.law("421M60000002048"), "kg:issuerCode") == "60000002"
    assert one(M.law("348RJNJ10004000"), "eli:number") == "昭和四十八年人事院規則一〇―四"
    assert one(M.law_revision("343CO0000000014_20230401_505CO0000000007"), "eli:version_date") == "2023-04-01"
    # v2 /law_data: its (abridged) full text becomes the current text of 国旗及び国歌に関する法律
    flag = M.law("411AC0000000127")
    assert one(flag, "kg:textRevision") == M.law_revision("411AC0000000127_19990813_000000000000000")
    assert one(f"{flag}/article/1", "kg:caption") == "（国旗）"
    assert sorted(r["a"].value for r in run_query(store, f"SELECT ?a WHERE {{ <{flag}> dcterms:alternative ?a }}", M)) == [
        "国旗・国歌法", "国旗国歌法", "日の丸君が代法"]


def test_revision_order_does_not_matter_on_real_files(real_dir, tmp_path):
    from kg.settings import load_settings
    import pyoxigraph as ox

    law_dir = real_dir / "law"
    # the 2018 text has articles in the 附則 of 平成二十九年法律第四号 that the 2024 text no longer lists
    stale = f"<{M.law(GYOSEI)}/suppl/429AC004/article/35"
    dumps = []
    for name, order in (("old-first", [GYOSEI_2018, GYOSEI_2024]), ("new-first", [GYOSEI_2024, GYOSEI_2018]),
                        ("old-only", [GYOSEI_2018])):
        s = load_settings({}, data_dir=str(tmp_path / name), base_uri=BASE)
        for rev in order:
            assert run_load(s, "laws", [law_dir / f"{rev}.xml"]).stats.rejected == 0
        store = raw_current(s.data_path)
        dumps.append(set(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(M.graph("laws"))).decode().splitlines()))
    assert dumps[0] == dumps[1]
    assert any(line.startswith(stale) for line in dumps[2])
    assert not any(stale in line for line in dumps[0])


def test_koku_ho_parses_in_bounded_memory(real_dir):
    """The 970 KB 航空法 file: the parser holds open provisions only, not an element tree."""
    import tracemalloc

    from kg.loaders.lawtext import parse_law_xml

    path = real_dir / "law" / f"{KOKU}_20240401_505AC0000000063.xml"
    tracemalloc.start()
    with open(path, "rb") as fh:
        doc = parse_law_xml(fh, path.name)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(doc.articles()) == 531
    # an ElementTree of this file alone takes ~4.5 MB; the parser's own overhead is far below it
    assert peak - retained < 1_500_000, (peak, retained)
