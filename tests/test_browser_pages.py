"""A person in a browser: search a corporation, open it, follow its municipality, page through
the corporations registered there; open a law and walk to an article."""

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
