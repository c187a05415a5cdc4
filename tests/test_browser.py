"""A real browser (Debian's chromium driven by Playwright) runs an example query in the UI."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def server(demo_server):
    return demo_server


def test_example_query_runs_in_the_ui_and_shows_a_table(server, browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server + "/sparql")
    page.get_by_role("button", name="合併と承継先 / Mergers and successors").click()
    page.wait_for_selector("table.results tbody tr")
    table = page.inner_text("table.results")
    assert "千葉日野自動車株式会社" in table and "南関東日野自動車株式会社" in table
    # IRIs under the base are linked by their local path
    href = page.get_attribute("table.results tbody tr td a", "href")
    assert href.startswith("/id/corporation/")
    # the permalink puts the query in the URL; reloading it runs the query again
    assert "q=" in page.url
    page.goto(page.url)
    page.wait_for_selector("table.results tbody tr")
    # Ctrl+Enter runs what is in the editor
    page.fill("#query", "SELECT ?n WHERE { corp:7000012050002 rov:legalName ?n }")
    page.press("#query", "Control+Enter")
    page.wait_for_selector("table.results td:has-text('国税庁')")
    # a malformed query shows the parser's message
    page.fill("#query", "SELECT ?n WHERE {")
    page.press("#query", "Control+Enter")
    page.wait_for_selector("#status.error")
    assert "400" in page.inner_text("#status")
    assert not [e for e in errors if "400" not in e], errors
