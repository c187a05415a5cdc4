"""`kg fetch jgrants` against a local HTTP server that serves recorded responses (never the internet)."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from support import jgrants_rows as J
from support.server import answering_server
from kg.loaders.jgrants_api import FetchError, fetch_jgrants


class Recorded:
    """path (+ keyword) → (status, body); every request is logged with its query parameters."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str | None], tuple[int, bytes, str]] = {}
        self.requests: list[tuple[str, dict]] = []

    def json(self, path: str, data, status: int = 200, keyword: str | None = None) -> None:
        self.routes[(path, keyword)] = (status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json")

    def raw(self, path: str, body: bytes, status: int = 200, keyword: str | None = None, ctype="text/html") -> None:
        self.routes[(path, keyword)] = (status, body, ctype)


@pytest.fixture
def api():
    recorded = Recorded()

    def answer(method, path, body):
        url = urlsplit(path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        recorded.requests.append((url.path, params))
        found = recorded.routes.get((url.path, params.get("keyword"))) or recorded.routes.get((url.path, None))
        return found or (404, b'{"message": "Not Found"}', "application/json")

    server = answering_server(answer)
    recorded.url = server.url + "/exp"
    yield recorded
    server.shutdown()
    server.server_close()


LIST = "/exp/v1/public/subsidies"


def serve_programs(api: Recorded) -> None:
    """Two searches ("補助金" and "設備"); program A is found by both."""
    api.json(LIST, J.response(J.list_item(J.detail()), J.list_c()), keyword="補助金")
    api.json(LIST, J.response(J.list_item(J.detail_v2()), J.list_item(J.detail())), keyword="設備")
    for item in (J.detail(), J.detail_v2(), J.list_c()):
        api.json(f"/exp/v1/public/subsidies/id/{item['id']}", J.response({k: v for k, v in item.items() if k != "workflow"}))
        api.json(f"/exp/v2/public/subsidies/id/{item['id']}", J.response(item))


def test_fetch_lists_every_keyword_and_fetches_each_detail_once(api, tmp_path):
    serve_programs(api)
    out = tmp_path / "out"
    result = fetch_jgrants(out, ["補助金", "設備"], api=api.url, delay=0, sort="acceptance_end_datetime", order="ASC")
    assert (result.listed, result.details, result.warnings) == (3, 3, [])
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "list-01-補助金.json", "list-02-設備.json", f"detail-{J.A}.json", f"detail-{J.B}.json", f"detail-{J.C}.json"])
    lists = [params for path, params in api.requests if path == LIST]
    assert lists == [{"keyword": "補助金", "sort": "acceptance_end_datetime", "order": "ASC", "acceptance": "1"},
                     {"keyword": "設備", "sort": "acceptance_end_datetime", "order": "ASC", "acceptance": "1"}]
    details = [path for path, _ in api.requests if path != LIST]
    assert details == [f"/exp/v1/public/subsidies/id/{x}" for x in (J.A, J.C, J.B)]     # A once, in listing order
    saved = json.loads((out / f"detail-{J.A}.json").read_text(encoding="utf-8"))
    assert saved["result"][0]["application_guidelines"][0]["data"] == J.BIG_BASE64    # written as received


def test_fetched_files_load_as_programs(api, tmp_path, cli):
    serve_programs(api)
    result = cli("fetch", "jgrants", "--keyword", "補助金", "--keyword", "設備", "--detail", "v2", "--delay", "0",
                 "--api-url", api.url, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "jgrants: 3 programs listed, 3 details fetched; 5 files in" in result.stdout
    assert f"detail-v2-{J.B}.json" in {p.name for p in (tmp_path / "out").iterdir()}
    loaded = cli("load", "programs", str(tmp_path / "out"))
    assert loaded.exit_code == 0, loaded.output
    assert "rejected 0" in loaded.output
    out = cli("query", "SELECT (COUNT(?p) AS ?n) WHERE { ?p a cpsv:PublicService }", "--format", "csv").output
    assert out.strip().splitlines()[-1] == "3", out
    rounds = cli("query", "SELECT ?r WHERE { ?p kg:applicationRound ?r }", "--format", "csv").output
    assert "#round-a0XJ200000TESTR002" in rounds


def test_the_api_base_url_comes_from_the_setting(api, tmp_path, cli, monkeypatch):
    serve_programs(api)
    monkeypatch.setenv("KG_JGRANTS_API", api.url)
    result = cli("fetch", "jgrants", "--keyword", "補助金", "--detail", "none", "--delay", "0", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert "2 programs listed, 0 details fetched; 1 files" in result.stdout


def test_an_http_error_is_one_line_with_the_api_message(api, tmp_path, cli):
    api.json(LIST, {"message": "keyword は2文字以上で指定してください"}, status=400)
    result = cli("fetch", "jgrants", "--keyword", "補助金", "--delay", "0", "--api-url", api.url, "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("kg: error: GET http://127.0.0.1:") and "/exp/v1/public/subsidies?keyword=" in lines[-1]
    assert lines[-1].endswith("HTTP 400 Bad Request: keyword は2文字以上で指定してください")
    assert "Traceback" not in result.output


def test_an_error_body_a_server_error_and_a_non_json_answer(api, tmp_path):
    api.json(LIST, {"errors": [{"message": "acceptance is required"}]}, keyword="エラー本文")
    api.raw(LIST, b"<html>maintenance</html>", keyword="保守中")
    api.raw(LIST, b"<html>Service Unavailable</html>", status=503, keyword="停止中")
    with pytest.raises(FetchError, match=r"the API answered with an error: acceptance is required$"):
        fetch_jgrants(tmp_path / "o", ["エラー本文"], api=api.url, delay=0)
    with pytest.raises(FetchError, match=r"the answer is not JSON \(line 1, column 1: Expecting value\)$"):
        fetch_jgrants(tmp_path / "o", ["保守中"], api=api.url, delay=0)
    with pytest.raises(FetchError, match=r"HTTP 503 Service Unavailable: <html>Service Unavailable</html>$"):
        fetch_jgrants(tmp_path / "o", ["停止中"], api=api.url, delay=0)


def test_a_failing_detail_stops_the_fetch_naming_the_program(api, tmp_path):
    api.json(LIST, J.response(J.list_c()))   # no detail route: 404
    with pytest.raises(FetchError, match=rf"/exp/v1/public/subsidies/id/{J.C}: HTTP 404 Not Found: Not Found$"):
        fetch_jgrants(tmp_path / "o", ["補助金"], api=api.url, delay=0)


def test_an_empty_result_is_an_error_and_writes_nothing(api, tmp_path, cli):
    api.json(LIST, J.response())
    result = cli("fetch", "jgrants", "--keyword", "存在しない制度", "--delay", "0", "--api-url", api.url,
                 "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "kg: error: no programs match '存在しない制度' (acceptance=1); nothing was written")
    assert list((tmp_path / "o").iterdir()) == []


def test_one_empty_search_among_others_is_a_warning(api, tmp_path):
    serve_programs(api)
    api.json(LIST, J.response(), keyword="該当なし")
    result = fetch_jgrants(tmp_path / "o", ["補助金", "該当なし"], api=api.url, delay=0, detail="none")
    assert result.listed == 2
    assert result.warnings == ["keyword '該当なし': no programs match (acceptance=1)"]


def test_a_network_failure_is_one_line(tmp_path):
    import socket

    with socket.socket() as s:      # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match=rf"^GET http://127\.0\.0\.1:{port}/exp/v1/public/subsidies\?.*: network error \("):
        fetch_jgrants(tmp_path / "o", ["補助金"], api=f"http://127.0.0.1:{port}/exp", delay=0)


@pytest.mark.parametrize("kwargs,needle", [
    ({"keywords": ["補"]}, "the API needs 2 to 255 characters"),
    ({"keywords": ["補助金"], "sort": "title"}, "--sort 'title'"),
    ({"keywords": ["補助金"], "order": "asc"}, "--order 'asc'"),
    ({"keywords": ["補助金"], "acceptance": 2}, "--acceptance 2"),
    ({"keywords": ["補助金"], "filters": {"area": "x"}}, "unknown filter(s) area"),
])
def test_parameters_the_api_would_refuse_are_refused_before_any_request(api, tmp_path, kwargs, needle):
    keywords = kwargs.pop("keywords")
    with pytest.raises(FetchError) as exc:
        fetch_jgrants(tmp_path / "o", keywords, api=api.url, delay=0, **kwargs)
    assert needle in str(exc.value)
    assert api.requests == []


def test_requests_are_spaced_by_the_delay(api, tmp_path):
    serve_programs(api)
    started = time.monotonic()
    fetch_jgrants(tmp_path / "o", ["補助金"], api=api.url, delay=0.15)      # 1 list + 2 details
    assert time.monotonic() - started >= 0.3
    assert len(api.requests) == 3


def test_optional_filters_are_sent(api, tmp_path):
    serve_programs(api)
    fetch_jgrants(tmp_path / "o", ["補助金"], api=api.url, delay=0, detail="none",
                  filters={"target_area_search": "和歌山県 / 全国", "industry": "製造業"})
    assert api.requests[0][1]["target_area_search"] == "和歌山県 / 全国"
    assert api.requests[0][1]["industry"] == "製造業"


def test_filters_from_the_command_line(api, tmp_path, cli):
    serve_programs(api)
    result = cli("fetch", "jgrants", "--keyword", "補助金", "--filter", "target_area_search=和歌山県 / 全国",
                 "--detail", "none", "--delay", "0", "--api-url", api.url, "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert api.requests[0][1]["target_area_search"] == "和歌山県 / 全国"
    bad = cli("fetch", "jgrants", "--keyword", "補助金", "--filter", "oops", "--api-url", api.url, "--out", str(tmp_path / "o"))
    assert bad.exit_code == 1 and "--filter takes NAME=VALUE" in bad.output
