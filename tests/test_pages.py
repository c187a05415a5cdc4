"""Dereferencing: /id/ → 303 → /doc/ in HTML and every RDF format; 404, 400, 304; escaping; paging."""

from __future__ import annotations

import json

import pytest
import rdflib

from kg.load.pipeline import run_load
from kg.resources import package_dir
from kg.server import create_app
from kg.server.executor import InlineExecutor
from kg.settings import load_settings

from support import BASE, number, nta_row, write_csv

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


@pytest.fixture(scope="module")
def app(demo_copy, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pages")
    settings = load_settings({}, data_dir=str(demo_copy), base_uri=BASE)
    many = [nta_row(i, number(f"{i:012d}"), name=f"株式会社文京{i}", street=f"湯島２丁目{i}番") for i in range(1, 46)]
    many.append(nta_row(46, number("000000000046"), name="<script>alert('x')</script>株式会社", street="湯島２丁目"))
    run_load(settings, "houjin", [write_csv(tmp / "many.csv", many)])
    executor = InlineExecutor(settings)
    yield create_app(settings, executor=executor)
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
