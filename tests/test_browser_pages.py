"""A person in a browser: search a corporation, open it, follow its municipality, page through
the corporations registered there; open a law and walk to an article. And, through the same
`kg serve`, a system resolving a corporate number with a one-entity SPARQL query."""

from __future__ import annotations


import pytest

from kg.load.pipeline import run_load
from kg.settings import load_settings
from support import BASE, load_demo, number, nta_row, write_csv
from support.server import start_server


pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def site(module_backend, demo_copy, tmp_path_factory):
    """``kg serve`` over the demo data and 30 more corporations in 文京区: embedded, or on the
    module's engine."""
    tmp = tmp_path_factory.mktemp("site")
    if module_backend is None:
        settings = load_settings({}, data_dir=str(demo_copy), base_uri=BASE)
    else:
        settings = load_demo(tmp / "data", module_backend)
    extra = [nta_row(i, number(f"{i:012d}"), name=f"株式会社文京テスト{i}", street=f"湯島２丁目{i}番") for i in range(1, 31)]
    run_load(settings, "houjin", [write_csv(tmp / "extra.csv", extra)])
    yield from start_server(settings.data_path, tmp, **(module_backend.env() if module_backend else {}))


def test_search_open_follow_and_page(site, browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site + "/")
    page.fill("input[name=q]", "東京増田")
    page.press("input[name=q]", "Enter")
    page.click("ol.hits a:has-text('東京増田医療器株式会社')")
    page.wait_for_selector("h1:has-text('東京増田医療器株式会社')")
    assert "/doc/corporation/1010001072706" in page.url           # /id/ answered 303 to /doc/
    page.click("table.props a[href='/id/municipality/131059']")
    page.wait_for_selector("h1:has-text('文京区')")
    group = page.locator(".incoming-group", has=page.locator("h3:has-text('法人 — 所在市区町村')"))
    assert "件" in group.locator("h3").inner_text()
    assert group.locator("li").count() == 20
    group.locator("a[rel=next]").click()
    page.wait_for_selector("ol[start='21']")
    assert not errors, errors


def test_open_a_law_and_walk_to_an_article(site, browser):
    page = browser.new_page()
    page.goto(site + "/id/law/411AC0000000127")
    page.wait_for_selector("h1")
    page.click("a[href='/id/law/411AC0000000127/article/1']")
    page.wait_for_selector("nav.siblings a[rel=next]")
    page.click("nav.siblings a[rel=next]")
    page.wait_for_selector("nav.siblings a[rel=prev]")
    assert page.url.endswith("/doc/law/411AC0000000127/article/2")
    page.click("a[href='/id/law/411AC0000000127/article/2/paragraph/1']")
    page.wait_for_selector(".lawtext:has-text('国歌は、君が代とする。')")


def test_a_system_resolves_a_corporate_number_with_sparql(site):
    """Eight clients at once ask for one corporation (on an engine the event loop sends these to
    it on kept-alive connections): every answer is whole and the same, and a query the engine
    cannot parse is a 400 with its reason."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    corp = f"{BASE}id/corporation/{number(f'{1:012d}')}"
    query = f"SELECT ?p ?o WHERE {{ GRAPH ?g {{ <{corp}> ?p ?o }} }}"

    def ask(text: str) -> tuple[int, bytes, str]:
        request = urllib.request.Request(site + "/sparql", data=urllib.parse.urlencode({"query": text}).encode(),
                                         headers={"Accept": "application/sparql-results+json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.read(), r.headers.get("X-KG-Generation", "")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), ""

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, [query] * 40))
    assert {status for status, _, _ in answers} == {200} and len({body for _, body, _ in answers}) == 1
    assert all(generation.startswith("gen-") for _, _, generation in answers)
    rows = json.loads(answers[0][1])["results"]["bindings"]
    assert "株式会社文京テスト1" in {r["o"]["value"] for r in rows}
    status, body, _ = ask("SELECT ?p WHERE { nope:x ?p ?o }")
    assert status == 400 and body.strip()
