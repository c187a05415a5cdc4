"""Dereferencing: /id/ → 303 → /doc/ in HTML and every RDF format; 404, 400, 304; escaping; paging."""

from __future__ import annotations

import json
import re

import pytest
import rdflib

from kg.load.pipeline import run_load
from kg.resources import package_dir
from kg.server import create_app
from kg.server.executor import InlineExecutor
from kg.settings import load_settings

from support import BASE, load_demo, number, nta_row, write_csv

FORMATS = [("text/turtle", "turtle", ".ttl"), ("application/n-triples", "nt", ".nt"),
           ("application/ld+json", "json-ld", ".jsonld"), ("application/rdf+xml", "xml", ".rdf")]
ENTITIES = {
    "corporation": "corporation/7000012050002",
    "closed corporation": "corporation/1040001042029",
    "municipality": "municipality/131059",
    "prefecture": "prefecture/130001",
    "town": "town/131059-0006002",
    "code concept": "code/corporation-kind/301",
}


pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def app(module_backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pages")
    settings = load_demo(tmp / "data", module_backend)
    many = [nta_row(i, number(f"{i:012d}"), name=f"株式会社文京{i}", street=f"湯島２丁目{i}番") for i in range(1, 46)]
    many.append(nta_row(46, number("000000000046"), name="<script>alert('x')</script>株式会社", street="湯島２丁目"))
    run_load(settings, "houjin", [write_csv(tmp / "many.csv", many)])
    executor = InlineExecutor(settings)
    app = create_app(settings, executor=executor)
    app.config["TEST_SETTINGS"] = settings
    yield app
    executor.close()


@pytest.mark.parametrize("kind", sorted(ENTITIES))
def test_id_redirects_with_303(app, kind):
    r = app.test_client().get("/id/" + ENTITIES[kind])
    assert r.status_code == 303
    assert r.headers["Location"].endswith("/doc/" + ENTITIES[kind])


@pytest.mark.parametrize("kind", sorted(ENTITIES))
@pytest.mark.parametrize("media,fmt,suffix", FORMATS)
def test_every_entity_in_every_rdf_format(app, kind, media, fmt, suffix):
    c = app.test_client()
    iri = rdflib.URIRef(BASE + "id/" + ENTITIES[kind])
    by_accept = c.get("/doc/" + ENTITIES[kind], headers={"Accept": media})
    by_suffix = c.get("/doc/" + ENTITIES[kind] + suffix)
    for r in (by_accept, by_suffix):
        assert r.status_code == 200 and r.mimetype == media
        g = rdflib.Graph().parse(data=r.get_data(), format=fmt)
        assert (iri, None, None) in g or (None, None, iri) in g
    assert by_accept.headers["Vary"] == "Accept"


@pytest.mark.parametrize("kind", sorted(ENTITIES))
def test_every_entity_has_an_html_page(app, kind):
    r = app.test_client().get("/doc/" + ENTITIES[kind], headers={"Accept": "text/html,*/*;q=0.8"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert '<script type="application/ld+json">' in page
    assert "SPARQL で開く" in page
    for _, _, suffix in FORMATS:
        assert f'{ENTITIES[kind]}{suffix}"' in page


def test_corporation_page_content(app):
    page = app.test_client().get("/doc/corporation/7000012050002.html").get_data(as_text=True)
    assert "<h1>国税庁</h1>" in page and "コクゼイチョウ" in page and "National Tax Agency" in page
    assert "商号又は名称" in page and 'title="http://www.w3.org/ns/regorg#legalName"' in page and "legal name" in page
    assert "2015年10月5日" in page                         # dates formatted
    assert 'href="/id/municipality/131016"' in page          # IRIs under the base by local path
    assert "国の機関" in page                               # linked values by label
    assert "出典：国税庁法人番号公表サイト" in page           # attribution of the source dataset
    jsonld = page.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert any("http://www.w3.org/ns/regorg#legalName" in node for node in json.loads(jsonld))


def test_successor_and_points_are_navigable(app):
    c = app.test_client()
    page = c.get("/doc/corporation/1040001042029.html").get_data(as_text=True)
    assert 'href="/id/corporation/5010401092060"' in page and "南関東日野自動車株式会社" in page
    town = c.get("/doc/town/131059-0001001.html").get_data(as_text=True)
    assert "https://maps.gsi.go.jp/#16/" in town


def test_incoming_links_are_counted_and_paged(app):
    c = app.test_client()
    page = c.get("/doc/town/131059-0006002.html").get_data(as_text=True)
    assert "47 件" in page                       # every corporation of 湯島２丁目 (46 + the demo one), counted
    assert page.count('<li><a href="/id/corporation/') == 20
    assert "次へ / next" in page
    nxt = page.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = c.get("/doc/town/131059-0006002.html" + nxt.split("#")[0]).get_data(as_text=True)
    assert '<ol start="21">' in second and "前へ / previous" in second


def test_values_from_the_data_are_escaped(app):
    page = app.test_client().get("/doc/corporation/" + number("000000000046") + ".html").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(" in page


@pytest.mark.parametrize("path,status,needle", [
    ("/id/corporation/2040001042029", 400, "expected 1"),          # bad check digit
    ("/id/corporation/12345", 400, "13 ASCII digits"),
    ("/doc/municipality/131050", 400, "expected 9"),
    ("/id/town/131059-12", 400, "7-digit"),
    ("/doc/corporation/1000011000013", 404, "見つかりません"),      # valid but unknown
    ("/def/NoSuchTerm", 404, "見つかりません"),
])
def test_malformed_and_unknown(app, path, status, needle):
    r = app.test_client().get(path, headers={"Accept": "text/html"})
    assert r.status_code == status
    assert needle in r.get_data(as_text=True)


def test_conditional_requests(app):
    c = app.test_client()
    first = c.get("/doc/corporation/7000012050002.ttl")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert c.get("/doc/corporation/7000012050002.ttl", headers={"If-None-Match": etag}).status_code == 304
    assert c.get("/doc/corporation/7000012050002.ttl", headers={"If-Modified-Since": modified}).status_code == 304
    assert c.get("/doc/corporation/7000012050002.ttl", headers={"If-None-Match": '"other"'}).status_code == 200


def test_ontology_terms_dereference(app):
    c = app.test_client()
    r = c.get("/def/successor", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=r.get_data(), format="turtle")
    labels = {str(o) for o in g.objects(rdflib.URIRef(BASE + "def/successor"), rdflib.RDFS.label)}
    assert {"承継先法人", "successor corporation"} <= labels


def test_not_acceptable(app):
    r = app.test_client().get("/doc/corporation/7000012050002", headers={"Accept": "image/png"})
    assert r.status_code == 406


def test_law_structure_is_navigable(tmp_path):
    samples = package_dir("samples")
    if not (samples / "laws").is_dir():
        pytest.skip("no demo laws")
    settings = load_settings({}, data_dir=str(tmp_path / "data"), base_uri=BASE)
    run_load(settings, "laws", [samples / "laws"])
    executor = InlineExecutor(settings)
    try:
        c = create_app(settings, executor=executor).test_client()
        law = c.get("/doc/law/411AC0000000127.html").get_data(as_text=True)
        assert 'href="/id/law/411AC0000000127/article/1"' in law        # law → its articles
        article = c.get("/doc/law/411AC0000000127/article/1.html").get_data(as_text=True)
        assert 'rel="next" href="/id/law/411AC0000000127/article/2"' in article
        assert 'href="/id/law/411AC0000000127/article/1/paragraph/1"' in article   # → paragraphs
        second = c.get("/doc/law/411AC0000000127/article/2.html").get_data(as_text=True)
        assert 'rel="prev" href="/id/law/411AC0000000127/article/1"' in second
        paragraph = c.get("/doc/law/411AC0000000127/article/1/paragraph/1.html").get_data(as_text=True)
        assert "国旗は、日章旗とする。" in paragraph
    finally:
        executor.close()


def test_incoming_counts_follow_a_new_load_and_pages_do_not_overlap(tmp_path):
    """Counts are kept per generation: a load that adds corporations shows them at once."""
    from kg.server.handler import RequestHandler

    settings = load_settings({}, data_dir=str(tmp_path / "data"), base_uri=BASE)
    prop, muni = BASE + "def/municipality", BASE + "id/municipality/131059"
    first = [nta_row(i, number(f"{i:012d}"), name=f"株式会社湯島{i}") for i in range(1, 31)]
    run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", first)])
    worker = RequestHandler(settings)

    def page(offset=0):
        answer = worker.handle({"kind": "describe", "iri": muni, "prop": prop, "offset": offset, "format": "page"})
        data = json.loads(answer.body)
        return data["incoming_counts"][prop], {i["s"]["value"] for i in data["incoming"] if i["p"] == prop}

    count, seen = page()
    assert count == 30 and len(seen) == 20
    count, later = page(20)
    assert len(later) == 10 and not seen & later                      # two pages, all 30 corporations
    more = [nta_row(i, number(f"{i:012d}"), name=f"株式会社湯島{i}") for i in range(31, 36)]
    run_load(settings, "houjin", [write_csv(tmp_path / "b.csv", more)])
    assert page()[0] == 35
    html = create_app(settings, executor=InlineExecutor(settings)).test_client().get("/doc/municipality/131059.html")
    assert "35" in html.get_data(as_text=True)


def test_hub_counts_are_counted_at_load_and_only_trusted_for_their_generation(tmp_path, monkeypatch):
    """A municipality's counts come from the load (kg.store.hubs); a generation made otherwise counts live."""
    import sqlite3

    from kg.store.describe import incoming_counts
    from kg.store.hubs import FILENAME, read_hubs
    from kg.server.handler import RequestHandler
    from kg.store.generations import Generations

    settings = load_settings({}, data_dir=str(tmp_path / "data"), base_uri=BASE, update_token="t", hub_min=3)
    rows = [nta_row(i, number(f"{i:012d}"), name=f"株式会社湯島{i}") for i in range(1, 6)]
    run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", rows)])
    gens = Generations(settings.data_path)
    gen = gens.current_path()
    muni, prop = BASE + "id/municipality/131059", BASE + "def/municipality"
    hubs = read_hubs(gen)
    assert hubs[muni] == incoming_counts(gens.open_current(), muni) and hubs[muni][prop] == 5
    assert BASE + "id/code/corporation-kind/301" in hubs

    def shown(worker):
        answer = worker.handle({"kind": "describe", "iri": muni, "prop": None, "offset": 0, "format": "page"})
        return json.loads(answer.body)["incoming_counts"][prop]

    db = sqlite3.connect(gen / FILENAME)           # prove the page reads them: make them wrong
    db.execute("UPDATE counts SET counts = ? WHERE iri = ?", (json.dumps({prop: 12345}), muni))
    db.commit()
    db.close()
    assert shown(RequestHandler(settings)) == 12345
    # an update makes a generation whose copied counts file carries the old stamp: counted live
    RequestHandler(settings).handle(
        {"kind": "update", "update": f"INSERT DATA {{ GRAPH <{BASE}graph/houjin> {{ <{BASE}id/x> <{prop}> <{muni}> }} }}"})
    assert gens.current_path() != gen and read_hubs(gens.current_path()) == {}
    assert shown(RequestHandler(settings)) == 6


def test_a_diff_recounts_the_known_hubs(tmp_path, monkeypatch):
    """An update of a loaded dataset recounts the hubs it had, exactly, without looking for new ones."""
    from kg.store.describe import incoming_counts
    from kg.store.hubs import read_hubs
    from kg.store.generations import Generations

    settings = load_settings({}, data_dir=str(tmp_path / "data"), base_uri=BASE, hub_min=3)
    bunkyo = [nta_row(i, number(f"{i:012d}"), name=f"株式会社湯島{i}") for i in range(1, 5)]
    run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", bunkyo)])
    muni, prop = BASE + "id/municipality/131059", BASE + "def/municipality"
    chuo = BASE + "id/municipality/131024"
    more = [nta_row(i, number(f"{i:012d}"), name=f"株式会社湯島{i}") for i in range(5, 7)]
    more += [nta_row(i, number(f"{i:012d}"), city="中央区", city_code="102") for i in range(7, 11)]
    run_load(settings, "houjin", [write_csv(tmp_path / "b.csv", more)])     # a diff: upsert
    gens = Generations(settings.data_path)
    hubs = read_hubs(gens.current_path())
    assert hubs[muni][prop] == 6 and hubs[muni] == incoming_counts(gens.open_current(), muni)
    assert chuo not in hubs                       # a new hub is left to its page's first view
    run_load(settings, "houjin", [write_csv(tmp_path / "c.csv", bunkyo + more)], replace=True)
    assert read_hubs(Generations(settings.data_path).current_path())[chuo][prop] == 4


# ---- what a reader sees (issue 15) -------------------------------------------------------------

def _html(app, path: str) -> str:
    r = app.test_client().get(path, headers={"Accept": "text/html"})
    assert r.status_code == 200, (path, r.status_code)
    return r.get_data(as_text=True)


def test_corporation_summary_banner_and_history(app):
    page = _html(app, "/doc/corporation/1040001042029")
    summary = page.split('class="summary"')[1].split("</section>")[0]
    assert summary.index("法人番号") < summary.index("商号又は名称") < summary.index("状態")  # number first
    assert "〒261-0002 千葉県千葉市美浜区新港１７７番地" in summary              # address with postcode
    assert "corporation/1040001042029#" not in summary         # no raw fragment IRI (#address, #registration)
    assert 'class="banner closed"' in page and "2021年7月12日" in page and "合併による解散等" in page
    record = page.split('<li id="record-')[1]                                   # the timeline has the record
    assert "2019年5月1日" in record and "国内所在地の変更" in record
    assert "Linked from here" not in page
    ttl = app.test_client().get("/doc/corporation/1040001042029.ttl").get_data(as_text=True)
    assert "record-" in ttl                                                     # the RDF holds the history too


def test_matched_town_gives_the_address_a_map_link(app):
    summary = _html(app, "/doc/corporation/4000020300004").split('class="summary"')[1].split("</section>")[0]
    address = summary.split("国内所在地")[1].split("</tr>")[0]
    assert "〒640-8585" in address and "https://maps.gsi.go.jp/#16/" in address


def test_law_page_has_contents_and_text_in_document_order(app):
    page = _html(app, "/doc/law/411AC0000000127")
    toc = page.split('class="toc"')[1].split("</nav>")[0]
    order = ["第一条", "第二条", "附　則", "別記第一", "別記第二"]
    assert [toc.index(x) for x in order] == sorted(toc.index(x) for x in order)
    text = page.split('class="lawtext"')[1].split("</section>")[0]
    lines = ["国旗は、日章旗とする。", "日章旗の制式は、別記第一のとおりとする。", "国歌は、君が代とする。",
             "この法律は、公布の日から施行する。", "（第一条関係）", "（第二条関係）"]
    assert [text.index(x) for x in lines] == sorted(text.index(x) for x in lines)
    assert "（1999年8月13日版）" in page                   # revisions told apart by their date
    assert "略称" in page and ">alternative<" not in page


def test_article_page_shows_its_text_and_its_own_numbering(app):
    page = _html(app, "/doc/law/411AC0000000127/article/1")
    text = page.split('class="lawtext"')[1].split("</section>")[0]
    assert text.index("第一条") < text.index("国旗は、日章旗とする。") < text.index("２") < text.index("別記第一のとおり")
    summary = page.split('class="summary"')[1].split("</section>")[0]
    assert "番号" in summary and "法令番号" not in summary and "法令ID" not in summary


def test_labels_and_values_are_readable(app):
    town = _html(app, "/doc/town/131059-0006002")
    for th in town.split("<th")[1:]:
        label = th.split(">", 1)[1].split("<", 1)[0]
        assert "_" not in label, label                       # no raw ABR column names
    program = _html(app, "/doc/program/jgrants-a0WDEMO0000000001A")
    shown = program.split("</head>")[1].split('<details class="technical">')[0]
    visible = re.sub(r"<[^>]+>", "\n", shown)                  # the text, without tags and their attributes
    assert "1,000,000 円" in visible and "対象業種" in visible and "利用目的" in visible and "対象要件" in visible
    for raw in ("hasCriterion", "thematicArea", "元の応答", "#legal-basis-"):
        assert raw not in visible, raw
    assert 'class="literal multiline"' in shown             # the description keeps its line breaks


def test_incoming_links_grouped_by_class_and_each_thing_once(app):
    page = _html(app, "/doc/municipality/131059")
    incoming = page.split('class="incoming"')[1]
    heads = [h.split("</h3>")[0] for h in incoming.split("<h3")[1:]]
    assert any(h.split(">", 1)[1].startswith("町字") for h in heads)
    assert any(h.split(">", 1)[1].startswith("法人") for h in heads)
    assert incoming.count('href="/id/town/131059-0006002"') == 1   # linked twice (municipality, isPartOf), listed once


def test_code_concepts_sorted_by_code_and_records_apart(app):
    scheme = _html(app, "/doc/code/corporation-kind")
    own = scheme.split('class="incoming"')[0]
    codes = [c.split("<")[0] for c in own.split('<span class="code">')[1:]]
    assert codes and codes == sorted(codes, key=int)
    concept = _html(app, "/doc/code/corporation-kind/301")
    incoming = concept.split('class="incoming"')[1]
    assert "法人の履歴レコード" in incoming                     # a past record is its own group, not the corporation again
    assert "過去の記録 / past record" in incoming


@pytest.mark.parametrize("path,status", [("/no/such/page", 404), ("/search?type=bogus&q=x", 400),
                                         ("/doc/corporation/1000011000013", 404), ("/id/corporation/12345", 400)])
def test_error_pages_are_styled_bilingual_with_a_search_box(app, path, status):
    c = app.test_client()
    r = c.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == status and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert 'role="search"' in page and 'name="q"' in page and "style.css" in page
    assert any(ja in page for ja in ("見つかりません", "不正な")) and any(en in page for en in ("Not found", "Bad request", "Malformed"))
    plain = c.get(path, headers={"Accept": "*/*"}) if not path.startswith(("/doc/", "/id/")) else None
    if plain is not None:                                    # a program gets one line of text
        assert plain.status_code == status and plain.mimetype == "text/plain"
        assert plain.get_data(as_text=True).count("\n") == 1


def test_dumps_are_listed_and_datasets_count_each_load_once(app):
    c = app.test_client()
    empty = c.get("/dumps/")
    assert empty.status_code == 200 and "kg dump" in empty.get_data(as_text=True)
    folder = app.config["TEST_SETTINGS"].data_path / "dumps"
    folder.mkdir(exist_ok=True)
    (folder / "houjin.nq.gz").write_bytes(b"\x1f\x8b")
    try:
        assert 'href="/dumps/houjin.nq.gz"' in c.get("/dumps/").get_data(as_text=True)
    finally:
        (folder / "houjin.nq.gz").unlink()
    page = c.get("/datasets").get_data(as_text=True)
    abr = page.split('id="abr"')[1].split("</section>")[0]
    rows = abr.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")
    files = abr.count('<ul class="files">')
    assert rows == files and abr.count("<li>") > rows      # one row per load, its several files beneath


def test_home_names_every_source_and_where_to_start(app):
    page = _html(app, "/")
    assert "Jグランツ" in page.split("<form")[0] and "Jグランツ" in page.split("<footer>")[1]
    assert "UTC" not in page and 'href="/id/law/411AC0000000127"' in page
    assert "法人番号 7000012050002（国税庁）" in page                 # examples described in Japanese too


def test_a_law_with_chapters_reads_in_order_and_articles_walk_across_chapters(tmp_path):
    from support.laws import write_law

    settings = load_settings({}, data_dir=str(tmp_path / "data"), base_uri=BASE)
    run_load(settings, "laws", [write_law(tmp_path, "2020")])
    executor = InlineExecutor(settings)
    try:
        c = create_app(settings, executor=executor).test_client()
        law_id = next((tmp_path).glob("*.xml")).name.split("_")[0]
        page = c.get(f"/doc/law/{law_id}.html").get_data(as_text=True)
        toc = re.sub(r"<[^>]+>", " ", page.split('class="toc"')[1].split("</nav>")[0])
        heads = ["第一章", "第一条", "第二条", "第二条の二", "第二章", "第一節", "第三条", "附", "別表第一"]
        positions = [toc.index(h) for h in heads]
        assert positions == sorted(positions), toc
        assert "附　則 （令和元年五月一〇日法律第一〇号）　抄" in toc                 # an amending law's 附則 as printed
        text = re.sub(r"<[^>]+>", "", page.split('class="lawtext"')[1].split("</section>")[0])
        assert text.index("前項の手続は、公正に行う。") < text.index("災害の場合") < text.index("地震") < text.index("第二条")
        last_in_chapter = c.get(f"/doc/law/{law_id}/article/2_2.html").get_data(as_text=True)
        assert f'rel="next" href="/id/law/{law_id}/article/3"' in last_in_chapter      # into 第二章第一節
        first_in_chapter = c.get(f"/doc/law/{law_id}/article/3.html").get_data(as_text=True)
        assert f'rel="prev" href="/id/law/{law_id}/article/2_2"' in first_in_chapter
    finally:
        executor.close()


def test_a_paragraph_page_prints_its_number_and_text(app):
    page = _html(app, "/doc/law/411AC0000000127/article/2/paragraph/2")
    text = re.sub(r"<[^>]+>", "", page.split('class="lawtext"')[1].split("</section>")[0])
    assert "２　君が代の歌詞及び楽曲は、別記第二のとおりとする。" in text
    assert "その他" not in page.split('<details class="technical">')[0]        # the text is not a stray row


def test_a_hub_property_is_one_group_naming_its_classes(demo_copy):
    """Past KG_HUB_MIN links a property is not split by class (that would count every link): one
    group, its total, the classes of what the page shows, paged by property."""
    settings = load_settings({}, data_dir=str(demo_copy), base_uri=BASE, hub_min=3, page_size=5)
    executor = InlineExecutor(settings)
    try:
        c = create_app(settings, executor=executor).test_client()
        page = c.get("/doc/municipality/131059.html").get_data(as_text=True)
        incoming = page.split('class="incoming"')[1]
        heads = [re.sub(r"<[^>]+>", "", h.split("</h3>")[0]) for h in incoming.split("<h3")[1:]]
        hub = [h for h in heads if "所在市区町村" in h and "所属" not in h]
        assert len(hub) == 1, heads
        count = int(re.search(r"([\d,]+) 件", hub[0]).group(1).replace(",", ""))
        named = hub[0].split("—")[0]
        assert count > 20 and any(k in named for k in ("法人", "町字", "住居", "街区"))  # the total; the classes shown
        nxt = incoming.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
        assert "class=" not in nxt and "offset=5" in nxt
    finally:
        executor.close()
