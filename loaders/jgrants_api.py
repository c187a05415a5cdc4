"""`kg fetch jgrants`: save live jGrants API responses as files for `kg load programs`.

The public API (FORMATS.md §4.1) needs ``keyword`` (2–255 characters: one character silently
matches nothing), ``sort``, ``order`` and ``acceptance`` on every list request, and has no "list
all" and no page or offset parameter: one request returns every match of one search. So a fetch
is a series of searches (``--keyword`` repeated), merged by program id, then one detail request
per program. Each response is written as it came, one JSON file per response, so the files are
the API's own shapes (the loader tells list and detail apart by their content).

Requests are spaced by ``delay`` seconds (be polite to a public service). Every failure is one
:class:`FetchError` line naming the URL and the reason: an HTTP error (with the API's message when
the body has one), an error body, an answer that is not JSON, a network failure or a timeout. A
search that matches nothing is a warning; if all of them match nothing it is an error.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence
from urllib.parse import quote, urlencode

from kg.loaders.jgrants import api_error_message

DEFAULT_API = "https://api.jgrants-portal.go.jp/exp"
SORTS = ("created_date", "acceptance_start_datetime", "acceptance_end_datetime")
ORDERS = ("ASC", "DESC")
DETAILS = ("v1", "v2", "none")
#: optional list filters of the API (several values joined with " / ")
FILTERS = ("use_purpose", "industry", "target_number_of_employees", "target_area_search")
_ID = re.compile(r"[0-9A-Za-z]{1,18}")
USER_AGENT = "jp-base-registry-kg (kg fetch jgrants)"


class FetchError(Exception):
    """A fetch that cannot go on; the message is one line: URL and reason."""


@dataclass
class FetchResult:
    files: list[Path] = field(default_factory=list)
    listed: int = 0           # distinct programs over all searches
    details: int = 0
    warnings: list[str] = field(default_factory=list)


class _Client:
    """GET JSON with a polite pause between requests and one-line errors."""

    def __init__(self, delay: float, timeout: float):
        self.delay, self.timeout = delay, timeout
        self.last: float | None = None

    def get(self, url: str) -> tuple[bytes, object]:
        if self.last is not None and self.delay > 0:
            time.sleep(max(0.0, self.delay - (time.monotonic() - self.last)))
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            body = exc.read() if exc.fp is not None else b""
            detail = _message_of(body)
            raise FetchError(f"GET {url}: HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise FetchError(f"GET {url}: no answer within {self.timeout:g} s") from None
            raise FetchError(f"GET {url}: network error ({reason})") from None
        except (TimeoutError, socket.timeout):
            raise FetchError(f"GET {url}: no answer within {self.timeout:g} s") from None
        except OSError as exc:
            raise FetchError(f"GET {url}: network error ({exc})") from None
        finally:
            self.last = time.monotonic()
        try:
            data = json.loads(body.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise FetchError(f"GET {url}: the answer is not UTF-8 JSON") from None
        except json.JSONDecodeError as exc:
            raise FetchError(f"GET {url}: the answer is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        if not isinstance(data, dict) or not isinstance(data.get("result"), (list, dict)):
            message = api_error_message(data)
            if message:
                raise FetchError(f"GET {url}: the API answered with an error: {message}")
            raise FetchError(f"GET {url}: not a jGrants API response (no result array)")
        return body, data


def _message_of(body: bytes) -> str | None:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        text = body.decode("utf-8", "replace").strip()
        return " ".join(text.split())[:200] or None
    return api_error_message(data)


def _reported_count(data: dict) -> int | None:
    """metadata.resultset.count of a list response, when it is there."""
    resultset = data.get("metadata", {}).get("resultset") if isinstance(data.get("metadata"), dict) else None
    count = resultset.get("count") if isinstance(resultset, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def _write(path: Path, body: bytes) -> Path:
    """Write atomically: a killed fetch never leaves a half file for `kg load` to trip on."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(body)
    os.replace(tmp, path)
    return path


def _slug(keyword: str) -> str:
    return re.sub(r"[^\w-]+", "_", keyword).strip("_")[:40] or "keyword"


def fetch_jgrants(out_dir: str | os.PathLike[str], keywords: Sequence[str], *, api: str = DEFAULT_API,
                  sort: str = "created_date", order: str = "DESC", acceptance: int = 1, detail: str = "v1",
                  delay: float = 1.0, timeout: float = 60.0, filters: Mapping[str, str] | None = None,
                  log: Callable[[str], None] | None = None) -> FetchResult:
    """List programs for each keyword, fetch each program's detail, write one file per response."""
    words = [k.strip() for k in keywords]
    if not words:
        raise FetchError("give at least one --keyword")
    for word in words:
        if not 2 <= len(word) <= 255:
            raise FetchError(f"--keyword {word!r}: the API needs 2 to 255 characters "
                             f"(a one-character keyword silently matches nothing)")
    if sort not in SORTS:
        raise FetchError(f"--sort {sort!r}: one of {', '.join(SORTS)}")
    if order not in ORDERS:
        raise FetchError(f"--order {order!r}: ASC or DESC")
    if acceptance not in (0, 1):
        raise FetchError(f"--acceptance {acceptance!r}: 0 (all) or 1 (accepting now)")
    if detail not in DETAILS:
        raise FetchError(f"--detail {detail!r}: one of {', '.join(DETAILS)}")
    unknown = set(filters or ()) - set(FILTERS)
    if unknown:
        raise FetchError(f"unknown filter(s) {', '.join(sorted(unknown))}; one of {', '.join(FILTERS)}")
    if delay < 0 or timeout <= 0:
        raise FetchError("--delay must be 0 or more and the timeout more than 0 seconds")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"{out}: cannot create the output directory ({exc.strerror})") from None
    base = api.rstrip("/")
    client = _Client(delay, timeout)
    result = FetchResult()
    ids: dict[str, None] = {}
    for i, word in enumerate(words, 1):
        params = {"keyword": word, "sort": sort, "order": order, "acceptance": str(acceptance),
                  **{k: v for k, v in (filters or {}).items() if v}}
        url = f"{base}/v1/public/subsidies?{urlencode(params)}"
        body, data = client.get(url)
        items = data["result"] if isinstance(data["result"], list) else [data["result"]]
        count = _reported_count(data)
        if log:
            log(f"GET {url} → {len(items)} programs")
        if isinstance(count, int) and count > len(items):
            result.warnings.append(f"keyword {word!r}: the API counts {count} programs but returned {len(items)}")
        if not items:
            result.warnings.append(f"keyword {word!r}: no programs match (acceptance={acceptance})")
            continue
        result.files.append(_write(out / f"list-{i:02d}-{_slug(word)}.json", body))
        for j, item in enumerate(items):
            pid = item.get("id") if isinstance(item, dict) else None
            if not isinstance(pid, str) or not _ID.fullmatch(pid):
                result.warnings.append(f"keyword {word!r}: result[{j}] has no usable id ({pid!r}); its detail is not fetched")
                continue
            ids.setdefault(pid)
    if not ids and not result.files:
        raise FetchError(f"no programs match {', '.join(map(repr, words))} (acceptance={acceptance}); nothing was written")
    result.listed = len(ids)
    if detail == "none":
        return result
    for pid in ids:
        url = f"{base}/{detail}/public/subsidies/id/{quote(pid)}"
        body, data = client.get(url)
        items = data["result"] if isinstance(data["result"], list) else [data["result"]]
        if not items:
            raise FetchError(f"GET {url}: the API returned no program for id {pid}")
        if log:
            log(f"GET {url} → detail")
        name = f"detail-{pid}.json" if detail == "v1" else f"detail-v2-{pid}.json"
        result.files.append(_write(out / name, body))
        result.details += 1
    return result
