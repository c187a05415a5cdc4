"""Screenshots of each kind of page, desktop (1280 px) and phone (390 px), on the demo data.

Reproducible: it loads the bundled samples into a temporary data directory (``kg demo
--no-serve``), serves them with ``kg serve`` on a free loopback port, opens every page in
Debian's chromium driven by Playwright and writes ``{kind}-desktop.png`` and ``{kind}-390.png``
(full page) into ``--out``. Needs the test extras (playwright) and ``apt-get install chromium``.

    python bench/screenshots.py --out /tmp/shots            # every kind
    python bench/screenshots.py --out /tmp/shots --only law corporation
    python bench/screenshots.py --url http://127.0.0.1:8000  # an already running server
    python bench/screenshots.py --out /tmp/shots --only law corporation-closed --first-screen --height 1500

Japanese text needs a Japanese font in the browser's system (``apt-get install fonts-ipafont-gothic``
or ``fonts-noto-cjk``); without one the pages are right but the pictures show boxes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

#: one page of each kind on the demo data: name → path
PAGES: dict[str, str] = {
    "home": "/",
    "corporation": "/doc/corporation/7000012050002",
    "corporation-closed": "/doc/corporation/1040001042029",
    "prefecture": "/doc/prefecture/130001",
    "municipality": "/doc/municipality/131059",
    "town": "/doc/town/131059-0006002",
    "block": "/doc/block/131059-0001001-001",
    "residence": "/doc/residence/131059-0001001-001-004",
    "law": "/doc/law/411AC0000000127",
    "law-revision": "/doc/law-revision/411AC0000000127_19990813_000000000000000",
    "article": "/doc/law/411AC0000000127/article/1",
    "paragraph": "/doc/law/411AC0000000127/article/2/paragraph/2",
    "program": "/doc/program/jgrants-a0WDEMO0000000001A",
    "code-scheme": "/doc/code/corporation-kind",
    "code-concept": "/doc/code/corporation-kind/301",
    "ontology-term": "/def/Town",
    "search": "/search?q=%E5%9B%BD%E7%A8%8E",
    "search-number": "/search?q=7000012050002",
    "datasets": "/datasets",
    "dumps": "/dumps/",
    "sparql": "/sparql",
    "not-found": "/doc/corporation/1000011000013",
    "bad-request": "/doc/corporation/123",
    "unknown-path": "/no/such/page",
}
WIDTHS = {"desktop": 1280, "390": 390}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_demo(tmp: Path) -> tuple[str, subprocess.Popen]:
    kg = Path(sys.executable).parent / "kg"
    port = _free_port()
    env = {**os.environ, "KG_DATA_DIR": str(tmp / "data"), "KG_HOST": "127.0.0.1", "KG_PORT": str(port),
           "KG_BASE_URI": f"http://127.0.0.1:{port}/"}
    subprocess.run([str(kg), "demo", "--no-serve"], env=env, check=True, stdout=subprocess.DEVNULL)
    log = open(tmp / "serve.log", "w")
    proc = subprocess.Popen([str(kg), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).read()
            return url, proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"kg serve did not start; see {tmp / 'serve.log'}")


def shoot(url: str, out: Path, only: list[str] | None, *, full_page: bool = True, height: int = 900) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium)")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        for width_name, width in WIDTHS.items():
            page = browser.new_page(viewport={"width": width, "height": height if width > 600 else 844})
            for name, path in PAGES.items():
                if only and name not in only:
                    continue
                page.goto(url + path)
                if name == "sparql":
                    page.get_by_role("button").first.click()
                    page.wait_for_selector("table.results tbody tr, #status.error", timeout=10_000)
                target = out / f"{name}-{width_name}.png"
                page.screenshot(path=str(target), full_page=full_page)
                written.append(target)
            page.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--url", help="a running server to photograph instead of a fresh demo")
    parser.add_argument("--only", nargs="*", help="page kinds to take (default: all): " + " ".join(PAGES))
    parser.add_argument("--first-screen", action="store_true", help="only what the first screen shows, not the whole page")
    parser.add_argument("--height", type=int, default=900, help="height of the desktop screen in pixels (390 px: 844)")
    args = parser.parse_args()
    if args.url:
        written = shoot(args.url.rstrip("/"), args.out, args.only, full_page=not args.first_screen, height=args.height)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url, proc = _serve_demo(Path(tmp))
            try:
                written = shoot(url, args.out, args.only, full_page=not args.first_screen, height=args.height)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
    print(f"{len(written)} screenshots in {args.out}")


if __name__ == "__main__":
    main()
