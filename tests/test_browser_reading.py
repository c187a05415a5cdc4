"""What a reader sees in a real browser (Debian's chromium via Playwright) on the demo data: each
kind of page at phone width without sideways scrolling and without a raw fragment IRI in its
text, a corporation's summary, a law in document order, an ASK query that finishes."""

from __future__ import annotations

import re

import pytest

#: one page of each kind on the demo data
PAGES = {
    "home": "/", "corporation": "/doc/corporation/7000012050002", "closed corporation": "/doc/corporation/1040001042029",
    "prefecture": "/doc/prefecture/130001", "municipality": "/doc/municipality/131059",
    "town": "/doc/town/131059-0006002", "block": "/doc/block/131059-0001001-001",
    "residence": "/doc/residence/131059-0001001-001-004", "law": "/doc/law/411AC0000000127",
    "revision": "/doc/law-revision/411AC0000000127_19990813_000000000000000",
    "article": "/doc/law/411AC0000000127/article/1", "paragraph": "/doc/law/411AC0000000127/article/2/paragraph/2",
    "program": "/doc/program/jgrants-a0WDEMO0000000001A", "code scheme": "/doc/code/corporation-kind",
    "code concept": "/doc/code/corporation-kind/301", "ontology term": "/def/Town", "search": "/search?q=国税",
    "datasets": "/datasets", "dumps": "/dumps/", "sparql": "/sparql", "not found": "/doc/corporation/1000011000013",
    "unknown path": "/no/such/page",
}
#: the elements that stick out on the right, for the message of a failure
WIDEST = """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
  document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' +
  (e.textContent || '').trim().slice(0, 60))"""
FRAGMENT_IRI = re.compile(r"https?://\S+#[\w-]+")


@pytest.fixture(scope="module")
def phone(browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    yield page
    page.close()


@pytest.fixture(scope="module")
def desktop(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    yield page
    page.close()


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_each_kind_of_page_fits_a_phone_and_shows_no_raw_fragment_iri(demo_server, phone, kind):
    phone.goto(demo_server + PAGES[kind])
    overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{kind}: {overflow}px wider than the screen: {phone.evaluate(WIDEST)}"
    text = phone.inner_text("body")              # closed <details> (technical details) are not visible text
    assert not FRAGMENT_IRI.findall(text), (kind, FRAGMENT_IRI.findall(text))
    assert phone.locator("header.top nav a").first.is_visible()


def test_corporation_summary_as_a_reader_sees_it(demo_server, desktop):
    desktop.goto(demo_server + "/doc/corporation/7000012050002")
    rows = desktop.locator(".summary table.props tr")
    first = rows.nth(0).inner_text()
    assert "法人番号" in first and "7000012050002" in first
    summary = desktop.inner_text(".summary")
    for field in ("商号又は名称", "国税庁", "状態", "存続", "法人種別", "国の機関", "〒100-0013", "2015年10月5日"):
        assert field in summary, field
    assert desktop.inner_text("h1") == "国税庁" and "コクゼイチョウ" in desktop.inner_text(".kana")
    closed = desktop.goto(demo_server + "/doc/corporation/1040001042029")
    assert closed.status == 200 and "閉鎖" in desktop.inner_text(".banner.closed")
    desktop.click(".timeline li >> nth=0")
    assert desktop.locator(".timeline li[id^='record-']").count() == 1


def test_a_law_reads_in_document_order(demo_server, desktop):
    desktop.goto(demo_server + "/doc/law/411AC0000000127")
    toc = desktop.locator(".toc li").all_inner_texts()
    assert [t.split()[0] for t in toc] == ["第一条", "第二条", "附", "別記第一", "別記第二"]
    text = desktop.inner_text(".lawtext")
    order = ["第一条", "国旗は、日章旗とする。", "第二条", "国歌は、君が代とする。", "この法律は、公布の日から施行する。",
             "（第一条関係）", "（第二条関係）"]
    positions = [text.index(x) for x in order]
    assert positions == sorted(positions)
    desktop.click(".toc a:has-text('第二条')")
    assert desktop.url.endswith("#article-2")
    desktop.goto(demo_server + "/doc/law/411AC0000000127/article/2")
    assert "国歌は、君が代とする。" in desktop.inner_text(".lawtext")
    assert desktop.get_attribute("nav.siblings a[rel=prev]", "href").endswith("/article/1")


def test_ask_finishes_and_an_error_clears_the_old_table(demo_server, desktop):
    desktop.goto(demo_server + "/sparql")
    assert desktop.get_attribute("#permalink", "href").startswith(demo_server + "/sparql?q=")
    desktop.fill("#query", "ASK { corp:7000012050002 rov:legalName ?n }")
    desktop.click("#run")
    desktop.wait_for_selector(".ask.yes")
    assert "実行中" not in desktop.inner_text("#status")
    desktop.fill("#query", "SELECT ?p ?o WHERE { corp:7000012050002 ?p ?o } LIMIT 3")
    desktop.click("#run")
    desktop.wait_for_selector("table.results tbody tr")
    assert "rov:" in desktop.inner_text("table.results") or "rdf:" in desktop.inner_text("table.results")
    desktop.fill("#query", "SELEC ?s WHERE { ?s ?p ?o }")
    desktop.click("#run")
    desktop.wait_for_selector("#status.error")
    assert "SELECT, CONSTRUCT, ASK or DESCRIBE" in desktop.inner_text("#status")
    assert desktop.locator("table.results").count() == 0
    desktop.fill("#query", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 4")
    desktop.click("#run")
    desktop.wait_for_selector("pre.triples")
    assert "4 トリプル" in desktop.inner_text("#status")
    assert not desktop.errors, desktop.errors
