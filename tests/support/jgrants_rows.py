"""jGrants API responses written for the tests, in the shapes of FORMATS.md §4.1.

The list item mirrors the real record quoted there (grant_radar's unit test); the detail adds the
fields of the v1 detail response, the v2 detail its ``workflow``. Ids are Salesforce-style.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

LIST_KEYS = ("id", "name", "title", "target_area_search", "subsidy_max_limit", "acceptance_start_datetime",
             "acceptance_end_datetime", "target_number_of_employees", "institution_name")
BIG_BASE64 = base64.b64encode(b"%PDF-1.4\n" + b"0" * 200_000).decode()

A = "a0WJ200000TESTAAA1"   # 和歌山県, detail v1, open
B = "a0WJ200000TESTBBB2"   # 全国, detail v2 with two rounds, closed
C = "a0WJ200000TESTCCC3"   # 近畿地方, list only


def detail(pid: str = A, **over) -> dict:
    item = {
        "id": pid, "name": "S-00012345", "title": "和歌山県ものづくり設備導入補助金",
        "subsidy_catch_phrase": "生産性向上のための設備導入を支援",
        "detail": "<p>本事業は<b>国旗及び国歌に関する法律</b>とは関係がありません&amp;ご注意ください。</p>"
                  "<script>alert('x')</script><ul><li>対象：製造業</li><li>補助率&nbsp;2/3</li></ul>",
        "use_purpose": "設備整備・IT導入をしたい / 新たな事業を行いたい",
        "industry": "製造業 / 卸売業、小売業",
        "target_area_search": "和歌山県",
        "target_area_detail": "和歌山市・海南市",
        "target_number_of_employees": "20名以下",
        "subsidy_rate": "2/3以内",
        "subsidy_max_limit": 5000000,
        "acceptance_start_datetime": "2025-04-01T00:00:00.000Z",
        "acceptance_end_datetime": "2025-12-26T08:00:00.000Z",
        "project_end_deadline": "2026-03-31",
        "request_reception_presence": "有",
        "is_enable_multiple_request": False,
        "institution_name": "和歌山県",
        "update_datetime": "2025-03-15T10:30:00",
        "front_subsidy_detail_page_url": f"https://www.jgrants-portal.go.jp/subsidy/{pid}",
        "application_guidelines": [{"name": "公募要領.pdf", "data": BIG_BASE64}],
        "outline_of_grant": [{"name": "交付要綱.pdf", "data": BIG_BASE64}],
        "application_form": [{"name": "様式1.docx", "data": BIG_BASE64}],
    }
    item.update(over)
    return item


def detail_v2(pid: str = B, **over) -> dict:
    item = detail(pid, name="S-00023456", title="全国中小企業省力化投資補助金", target_area_search="全国",
                  target_area_detail=None, institution_name="中小企業庁", industry="製造業", subsidy_max_limit=0,
                  use_purpose="設備整備・IT導入をしたい", target_number_of_employees="従業員数の制約なし",
                  acceptance_start_datetime="2024-01-10T01:00:00.000Z",
                  acceptance_end_datetime="2024-03-29T08:00:00.000Z", detail="<p>省力化投資を支援します。</p>",
                  granttype=None, workflow=[
                      {"id": "a0XJ200000TESTR001", "target_area_search": "全国", "target_area_detail": None,
                       "acceptance_start_datetime": "2024-01-10T01:00:00.000Z",
                       "acceptance_end_datetime": "2024-02-09T08:00:00.000Z"},
                      {"id": "a0XJ200000TESTR002", "target_area_search": "和歌山県 / 大阪府",
                       "target_area_detail": "被災地域", "acceptance_start_datetime": "2024-02-13T01:00:00.000Z",
                       "acceptance_end_datetime": "2024-03-29T08:00:00.000Z"}])
    item.update(over)
    return item


def list_item(full: dict) -> dict:
    return {k: full.get(k) for k in LIST_KEYS}


def list_c(**over) -> dict:
    item = {"id": C, "name": "S-00034567", "title": "近畿地域事業承継支援事業", "institution_name": "",
            "target_area_search": "近畿地方", "target_number_of_employees": "50名以下", "subsidy_max_limit": None,
            "acceptance_start_datetime": "2025-05-01T00:00:00.000Z", "acceptance_end_datetime": "2025-05-31T08:00:00.000Z"}
    item.update(over)
    return item


def response(*items: dict) -> dict:
    return {"metadata": {"type": "application/json", "resultset": {"count": len(items)}}, "result": list(items)}


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def write_all(directory: Path) -> dict[str, Path]:
    """The list response (A, B, C) and the details of A (v1) and B (v2)."""
    return {
        "list": write(directory / "list.json", response(list_item(detail()), list_item(detail_v2()), list_c())),
        "a": write(directory / "a.json", response(detail())),
        "b": write(directory / "b.json", response(detail_v2())),
    }
