#!/usr/bin/env python3
"""Batch geocoding throughput and match rate per level, ours beside the peers, on the same addresses
and the same ABR rows.

    python bench/bench_geocode.py [--real ../shared/data/real] [--addresses 20000] [--no-peers] [--no-http]

1. The ABR rows: the real files in ../shared/data/real/abr (都道府県, 市区町村, every 町字 of
   和歌山県 and its points, 文京区 and 屋久島町 towns, the 住居表示 residences of 和歌山市 and 文京区).
2. The addresses (deterministic): every town and residence written in the forms people write
   them (prefecture or not, 郡 or not, full/half width, 漢数字, hyphens, 丁目 as a bare number,
   大字/字 added or left out, ケ/ヶ, a postcode, a building name before or after), plus the real
   NTA addresses of ../shared/data/real/houjin (any prefecture: most are not loaded), cycled to N.
   Each written town or residence knows the 町字ID (and residence) it must come back as.
3. Ours: `kg load abr` into a fresh store (not timed as throughput), the index build, then the
   geocoder in-process over all N (addresses/s), `kg geocode` on a CSV file (a process, with
   start-up and index), and POST /geocode batches to `kg serve` (HTTP, CSV answers).
   Baseline in the same run: the normaliser alone (address_key) over the same N.
4. Peers (node, from bench/peers/, git-ignored; created with `npm install` on the first run):
   * @geolonia/normalize-japanese-addresses 3.x: its dictionary is the japanese-addresses-v2 API,
     which it fetches over HTTP, or reads from disk when `config.japaneseAddressesApi` is a
     file:// URL (its `fetchOrReadFile`); that API is written here from the same ABR CSVs.
   * @digital-go-jp/abr-geocoder 2.x: `abrg download` first asks the ABR CKAN for its package
     list, then downloads each dataset zip; bench/peer_abrg.js instead feeds the same local CSVs to
     its own loaders (DatasetFile classes, loadCsvToDatabase); `abrg` (its CLI, 2 threads) then
     builds its trie caches and geocodes a file. Its geocoder stops the whole run with a TypeError
     on text before an address and on addresses in 京都府 when 京都市 is not loaded: it gets the
     addresses without such text, and not those in 京都府 (counted as errors).
   Their answers are scored like ours (level reached, right 町字, right 住居).

Results: a table on stdout and bench/out/geocode.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / "peers"
FW = str.maketrans("0123456789-", "０１２３４５６７８９－")
KANJI = "〇一二三四五六七八九"
ABR_FILES = ("mt_pref_all.csv", "mt_pref_pos_all.csv", "mt_city_all.csv", "mt_city_pos_all.csv", "mt_town_pref30.csv",
             "mt_town_pos_pref30.csv", "mt_town_all__subset_131059_bunkyo.csv",
             "mt_town_all__subset_465054_yakushima.csv",
             "mt_rsdtdsp_rsdt_pref30__subset_302015_0001000_0023001.csv",
             "mt_rsdtdsp_rsdt_pos_pref30__subset_302015_0001000_0023001.csv",
             "mt_rsdtdsp_rsdt_pref13__subset_131059_0001001_0001003.csv",
             "mt_rsdtdsp_rsdt_pos_pref13__subset_131059_0001001_0001003.csv")
#: abr-geocoder's geocoder fails (TypeError in kyoto-street-transform.js:104, ending its whole run)
#: on an address with text before it (a postcode, a company name): it gets them without that text
BEFORE_ADDRESS = __import__("re").compile(r"^(?:〒\s*\d{3}-?\d{4}\s*|株式会社サンプル\s+)")
LEVELS = ("residence", "block", "town", "oaza", "municipality", "prefecture", "none", "error")
#: levels every tool can be put on: a 大字 (our "oaza", abr-geocoder's "machiaza") counts as a 町字 answer
COARSE = {"oaza": "town"}


def kanji(n: int) -> str:
    if n <= 0:
        return "〇"
    out = ""
    for unit, name in ((100, "百"), (10, "十")):
        q, n = divmod(n, unit)
        if q:
            out += ("" if q == 1 else KANJI[q]) + name
    return out + (KANJI[n] if n else "")


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def dedupe(records: list[dict[str, str]], key) -> list[dict[str, str]]:
    """One row a key; keys given twice with different values are dropped (our loader rejects both)."""
    seen: dict = {}
    for r in records:
        seen.setdefault(key(r), []).append(r)
    return [group[0] for group in seen.values() if all(g == group[0] for g in group)]


# ---- the addresses -----------------------------------------------------------------------------

def town_addresses(abr: Path) -> list[tuple[str, str, str]]:
    """(address, expected lg-machiaza, expected residence key or "") for every town and residence."""
    from kg.text.normalize import address_key

    towns = []
    for name in ("mt_town_pref30.csv", "mt_town_all__subset_131059_bunkyo.csv", "mt_town_all__subset_465054_yakushima.csv"):
        towns += dedupe([r for r in rows(abr / name) if r["oaza_cho"] or r["koaza"]],
                        lambda r: (r["lg_code"], r["machiaza_id"]))
    names = Counter((r["lg_code"], address_key(r["oaza_cho"] + r["chome"] + r["koaza"])) for r in towns)
    out = []
    for i, r in enumerate(towns):
        if names[(r["lg_code"], address_key(r["oaza_cho"] + r["chome"] + r["koaza"]))] > 1:
            continue   # one name for two towns: only 同一町字識別情報 tells them apart
        pref, county, city = r["pref"], r["county"], r["city"]
        oaza, chome, koaza, number = r["oaza_cho"], r["chome"], r["koaza"], r["chome_number"]
        n, m = 1 + (i * 7) % 98, 1 + (i * 13) % 30
        post = (r["post_code"].split(";")[0] if r["post_code"] else "")
        bare = oaza[2:] if oaza.startswith("大字") else oaza
        form = i % 8
        if form == 0:
            text = f"{pref}{county}{city}{oaza}{chome}{koaza}{n}番地"
        elif form == 1:
            text = f"{city}{bare}{chome}{koaza[1:] if koaza.startswith('字') else koaza}{n}"
        elif form == 2:
            text = f"{pref}{city}{oaza}{chome}{koaza}{n}番{m}号".translate(FW)
        elif form == 3:
            ch = f"{kanji(int(number))}丁目" if number else chome
            text = f"{pref}{county}{city}{oaza}{ch}{koaza}{kanji(n)}番地"
        elif form == 4 and post:
            text = f"〒{post[:3]}-{post[3:]} {pref}{city}{oaza}{chome}{koaza}{n}-{m} サンプルビル{m}F"
        elif form == 5 and number:
            text = f"{city}{bare}{int(number)}-{n}-{m}"
        elif form == 6:
            text = f"株式会社サンプル {pref}{city}{oaza.replace('ケ', 'ヶ')}{chome}{koaza.replace('ケ', 'ヶ')}{n}番地の{m}"
        else:
            text = f"{pref} {city} {('大字' + oaza) if oaza and not oaza.startswith('大字') and not number else oaza}" \
                   f"{chome}{koaza} {n}"
        out.append((text, f"{r['lg_code']}-{r['machiaza_id']}", ""))
    for name in ("mt_rsdtdsp_rsdt_pref30__subset_302015_0001000_0023001.csv",
                 "mt_rsdtdsp_rsdt_pref13__subset_131059_0001001_0001003.csv"):
        for i, r in enumerate(dedupe(rows(abr / name), lambda r: tuple(r[c] for c in ("lg_code", "machiaza_id", "blk_id", "rsdt_id", "rsdt2_id")))):
            pref = "和歌山県" if r["lg_code"].startswith("30") else "東京都"
            number = r["rsdt_num"] + (f"-{r['rsdt_num2']}" if r["rsdt_num2"] else "")
            chome = r["chome"]
            form = i % 4
            if form == 0:
                text = f"{pref}{r['city']}{r['oaza_cho']}{chome}{r['blk_num']}番{number}号"
            elif form == 1:
                c = chome.translate(str.maketrans("１２３４５６７８９", "123456789")).replace("丁目", "-") if chome else ""
                text = f"{r['city']}{r['oaza_cho']}{c}{r['blk_num']}-{number}"
            elif form == 2:
                text = f"{pref}{r['city']}{r['oaza_cho']}{chome}{kanji(int(r['blk_num']))}番{kanji(int(r['rsdt_num']))}号"
            else:
                text = f"{r['city']}{r['oaza_cho']}{chome}{r['blk_num']}－{number} ハイツ{i % 9 + 1}0{i % 7 + 1}".translate(FW)
            out.append((text, f"{r['lg_code']}-{r['machiaza_id']}", f"{r['blk_num']}-{number}"))
    return out


def nta_addresses(real: Path) -> list[tuple[str, str, str]]:
    out = []
    with open(real / "houjin" / "nta_diff_20210714_unicode.csv", encoding="utf-8-sig", newline="") as fh:
        for r in csv.reader(fh):
            if r[9]:
                out.append((r[9] + r[10] + r[11], "", ""))
    return out


def address_set(real: Path, n: int) -> list[tuple[str, str, str]]:
    import random

    base = town_addresses(real / "abr") + nta_addresses(real)
    random.Random(17).shuffle(base)   # any N mixes every kind and form
    return [base[i % len(base)] for i in range(n)] if n > len(base) else base[:n]


# ---- scoring -------------------------------------------------------------------------------------

def score(answers: list[tuple[str, str, str]], expected: list[tuple[str, str, str]]) -> dict:
    """answers: (level, lg-machiaza or "", residence key or ""), one per address."""
    levels = Counter(COARSE.get(a[0], a[0]) for a in answers)
    with_town = [(a, e) for a, e in zip(answers, expected) if e[1]]
    with_rsdt = [(a, e) for a, e in zip(answers, expected) if e[2]]
    return {
        "levels": {k: levels.get(k, 0) for k in LEVELS if k not in COARSE},
        "level_rates": {k: round(levels.get(k, 0) / len(answers), 4) for k in LEVELS if k not in COARSE},
        "right_town": round(sum(a[1] == e[1] for a, e in with_town) / max(1, len(with_town)), 4),
        "right_residence": round(sum(a[2] == e[2] and a[1] == e[1] for a, e in with_rsdt) / max(1, len(with_rsdt)), 4),
        "towns_expected": len(with_town), "residences_expected": len(with_rsdt),
    }


def ours_answer(p: dict) -> tuple[str, str, str]:
    town = f"{p['municipality_code']}-{p['machiaza_id']}" if p.get("machiaza_id") else ""
    block = p.get("block") or ""
    return p["level"], town, f"{block}-{p['residence']}" if p.get("residence") else ""


# ---- ours ------------------------------------------------------------------------------------------

def run_ours(real: Path, addresses: list[tuple[str, str, str]], work: Path, http: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    from kg.geocode import geocoder_for
    from kg.geocode.formats import properties
    from kg.load.pipeline import run_load
    from kg.rdf.iri import Minter
    from kg.settings import load_settings
    from kg.store import open_home
    from kg.text.normalize import address_key

    base = "http://localhost:8000/"
    data = work / "kg-data"
    settings = load_settings({}, data_dir=str(data), base_uri=base)
    t = time.perf_counter()
    run_load(settings, "abr", [real / "abr" / f for f in ABR_FILES])
    load_s = time.perf_counter() - t
    store = open_home(data, create=False).open_current()
    t = time.perf_counter()
    geocoder = geocoder_for(store, Minter(base))
    index_s = time.perf_counter() - t
    texts = [a[0] for a in addresses]
    t = time.perf_counter()
    for text in texts:
        address_key(text)
    floor_s = time.perf_counter() - t
    t = time.perf_counter()
    answers = [geocoder.geocode(text) for text in texts]
    cold_s = time.perf_counter() - t   # first pass: 住居表示 blocks read per town on first use
    t = time.perf_counter()
    answers = [geocoder.geocode(text) for text in texts]
    warm_s = time.perf_counter() - t
    own = Counter(a.level for a in answers)
    result = {"load_s": round(load_s, 2), "index_s": round(index_s, 3), "own_levels": dict(own),
              "normaliser_floor_per_s": round(len(texts) / floor_s),
              "first_pass_per_s": round(len(texts) / cold_s), "per_s": round(len(texts) / warm_s),
              "ratio_to_normaliser": round(floor_s / warm_s, 3),
              **score([ours_answer(properties(a)) for a in answers], addresses)}
    # `kg geocode` on a CSV file: a process, start-up and index included
    path = work / "addresses.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "address"])
        w.writerows((i, text) for i, text in enumerate(texts))
    kg = Path(sys.executable).parent / "kg"
    env = {**os.environ, "KG_DATA_DIR": str(data), "KG_BASE_URI": base}
    t = time.perf_counter()
    out = subprocess.run([str(kg), "geocode", str(path)], env=env, capture_output=True, check=True)
    result["cli_per_s"] = round(len(texts) / (time.perf_counter() - t))
    result["cli_rows"] = out.stdout.count(b"\n") - 1
    if http:
        result.update(run_http(data, texts, env, work))
    return result


def run_http(data: Path, texts: list[str], env: dict, work: Path) -> dict:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kg = Path(sys.executable).parent / "kg"
    log = open(work / "serve.log", "w")
    proc = subprocess.Popen([str(kg), "serve"], env={**env, "KG_PORT": str(port), "KG_MAX_BODY": "4M"},
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        batch = 10_000
        bodies = []
        for i in range(0, len(texts), batch):
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(["address"])
            w.writerows([t] for t in texts[i:i + batch])
            bodies.append(buf.getvalue().encode())

        def post(body: bytes) -> bytes:
            req = urllib.request.Request(url + "/geocode?format=csv", data=body, method="POST",
                                         headers={"Content-Type": "text/csv"})
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.read()

        for _ in range(4):   # every query process builds its index on its first request
            post(bodies[0])
        t = time.perf_counter()
        rows_back = sum(post(b).count(b"\n") - 1 for b in bodies)
        elapsed = time.perf_counter() - t
        return {"http_per_s": round(len(texts) / elapsed), "http_rows": rows_back, "http_batch": batch}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


# ---- peers --------------------------------------------------------------------------------------------

def ensure_peers() -> str | None:
    """Install the peers into bench/peers/ (git-ignored); None when installed, else why not."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm not installed"
    if (PEERS / "node_modules" / "@geolonia" / "normalize-japanese-addresses").exists():
        return None
    PEERS.mkdir(exist_ok=True)
    stub = PEERS / "stub-uws"
    stub.mkdir(exist_ok=True)
    # hyper-express (abr-geocoder's HTTP server) depends on uWebSockets.js, published only as a
    # GitHub repository (unreachable here): a stand-in lets npm install the rest; the CLI server
    # is never started by this benchmark
    (stub / "package.json").write_text('{"name":"uWebSockets.js","version":"20.0.0","main":"index.js"}')
    (stub / "index.js").write_text('module.exports = new Proxy({}, { get() { throw new Error("uWebSockets.js stub"); } });\n')
    (PEERS / "package.json").write_text(json.dumps({
        "name": "kg-bench-peers", "private": True,
        "dependencies": {"@digital-go-jp/abr-geocoder": "2.2.0", "@geolonia/normalize-japanese-addresses": "3.1.3"},
        "overrides": {"uWebSockets.js": "file:./stub-uws"}}))
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--foreground-scripts"], cwd=PEERS,
                          capture_output=True, text=True, timeout=900)
    return None if done.returncode == 0 else "npm install failed: " + done.stderr.strip().splitlines()[-1]


def write_nja_api(abr: Path, root: Path) -> Path:
    """The japanese-addresses-v2 API (ja.json, {pref}/{city}.json, {pref}/{city}-住居表示.txt) from ABR CSVs."""
    api = root / "api"
    (api / "ja").mkdir(parents=True, exist_ok=True)

    def point(r):
        return [float(r["rep_lon"]), float(r["rep_lat"])] if r.get("rep_lon") and r.get("rep_lat") else None

    lg_pos = {r["lg_code"]: r for name in ("mt_pref_pos_all.csv", "mt_city_pos_all.csv") for r in rows(abr / name)}
    prefs = []
    by_pref = {}
    for r in rows(abr / "mt_pref_all.csv"):
        p = {"code": int(r["lg_code"]), "pref": r["pref"], "pref_k": r["pref_kana"], "pref_r": r["pref_roma"],
             "point": point(lg_pos.get(r["lg_code"], {})) or [0, 0], "cities": []}
        prefs.append(p)
        by_pref[r["pref"]] = p
    cities = {}
    for r in rows(abr / "mt_city_all.csv"):
        if r["ablt_date"]:
            continue
        c = {"code": int(r["lg_code"]), "city": r["city"], "city_k": r["city_kana"], "city_r": r["city_roma"],
             "point": point(lg_pos.get(r["lg_code"], {})) or [0, 0]}
        for k, col in (("county", "county"), ("county_k", "county_kana"), ("county_r", "county_roma"),
                       ("ward", "ward"), ("ward_k", "ward_kana"), ("ward_r", "ward_roma")):
            if r[col]:
                c[k] = r[col]
        by_pref[r["pref"]]["cities"].append(c)
        cities[r["lg_code"]] = (r["pref"], f"{r['county']}{r['city']}{r['ward']}")
    (api / "ja.json").write_text(json.dumps({"meta": {"updated": int(time.time())}, "data": prefs}, ensure_ascii=False))
    town_pos = {(r["lg_code"], r["machiaza_id"]): r for r in rows(abr / "mt_town_pos_pref30.csv")}
    towns_of: dict[str, list] = {}
    for name in ("mt_town_pref30.csv", "mt_town_all__subset_131059_bunkyo.csv", "mt_town_all__subset_465054_yakushima.csv"):
        for r in dedupe(rows(abr / name), lambda r: (r["lg_code"], r["machiaza_id"])):
            t = {"machiaza_id": r["machiaza_id"]}
            for k, col in (("oaza_cho", "oaza_cho"), ("chome", "chome"), ("koaza", "koaza")):
                if r[col]:
                    t[k] = r[col]
            if r["chome_number"]:   # its API writes 丁目 in 漢数字 (青葉一丁目), whatever ABR's column says
                t["chome_n"] = int(r["chome_number"])
                t["chome"] = kanji(int(r["chome_number"])) + "丁目"
            if r["rsdt_addr_flg"] == "1":
                t["rsdt"] = True
            pt = point(town_pos.get((r["lg_code"], r["machiaza_id"]), {}))
            if pt:
                t["point"] = pt
            towns_of.setdefault(r["lg_code"], []).append(t)
    rsdt_pos = {}
    residences: dict[tuple[str, str], list] = {}
    for name in ABR_FILES:
        if "rsdt_pos" in name:
            for r in rows(abr / name):
                rsdt_pos[(r["lg_code"], r["machiaza_id"], r["blk_id"], r["rsdt_id"], r["rsdt2_id"])] = r
    for name in ABR_FILES:
        if "rsdtdsp_rsdt_pref" in name:
            for r in rows(abr / name):
                residences.setdefault((r["lg_code"], r["machiaza_id"]), []).append(r)
    for lg, (pref, city) in cities.items():
        folder = api / "ja" / pref
        folder.mkdir(exist_ok=True)
        towns = towns_of.get(lg, [])
        blob = bytearray()
        for t in towns:
            found = residences.get((lg, t["machiaza_id"]))
            if not found:
                continue
            lines = [f"{t.get('oaza_cho', '')}{t.get('chome', '')}{t.get('koaza', '')}", "blk_num,rsdt_num,rsdt_num2,lng,lat"]
            for r in found:
                p = rsdt_pos.get((r["lg_code"], r["machiaza_id"], r["blk_id"], r["rsdt_id"], r["rsdt2_id"]), {})
                lines.append(f"{r['blk_num']},{r['rsdt_num']},{r['rsdt_num2']},{p.get('rep_lon', '')},{p.get('rep_lat', '')}")
            chunk = ("\n".join(lines) + "\n").encode()
            t["csv_ranges"] = {"住居表示": {"start": len(blob), "length": len(chunk)}}
            blob += chunk
        (folder / f"{city}.json").write_text(json.dumps({"meta": {"updated": 0}, "data": towns}, ensure_ascii=False))
        if blob:
            (folder / f"{city}-住居表示.txt").write_bytes(bytes(blob))
    return api


def run_nja(real: Path, addresses: list[tuple[str, str, str]], work: Path) -> dict:
    t = time.perf_counter()
    api = write_nja_api(real / "abr", work / "nja")
    build_s = time.perf_counter() - t
    inp = work / "nja-in.json"
    inp.write_text(json.dumps([a[0] for a in addresses], ensure_ascii=False))
    out = work / "nja-out.json"
    done = subprocess.run(["node", str(HERE / "peer_normalize.mjs"), f"file://{api}/ja", str(inp), str(out)],
                          capture_output=True, text=True, timeout=900, cwd=PEERS)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    got = json.loads(out.read_text())
    answers = []
    level_names = {8: "residence", 3: "town", 2: "municipality", 1: "prefecture", 0: "none"}
    own = Counter("error" if a is None else a["level"] for a in got["answers"])
    for a in got["answers"]:
        if a is None:
            answers.append(("error", "", ""))
            continue
        level = level_names.get(a["level"], str(a["level"]))
        town = f"{a['city_code']:06d}-{a['machiaza_id']}" if a.get("machiaza_id") and a.get("city_code") else ""
        rsdt = "-".join(x for x in (a.get("blk_num"), a.get("rsdt_num")) if x) + (f"-{a['rsdt_num2']}" if a.get("rsdt_num2") else "")
        if level == "residence" and not a.get("rsdt_num"):
            level = "block" if a.get("blk_num") else "town"
        answers.append((level, town, rsdt if a.get("rsdt_num") else ""))
    return {"dictionary_build_s": round(build_s, 2), "per_s": round(len(addresses) / got["seconds"]),
            "errors": got["errors"], "own_levels": {str(k): v for k, v in own.items()}, **score(answers, addresses)}


def run_abrg(real: Path, addresses: list[tuple[str, str, str]], work: Path) -> dict:
    """abr-geocoder's database from the local CSVs (bench/peer_abrg.js), then its own CLI on a file."""
    abrg_dir = work / "abrg"
    t = time.perf_counter()
    done = subprocess.run(["node", str(HERE / "peer_abrg.js"), str(real / "abr"), str(abrg_dir), *ABR_FILES],
                          capture_output=True, text=True, timeout=900, cwd=PEERS)
    if done.returncode != 0:
        return {"error": (done.stderr.strip() or done.stdout.strip())[-800:]}
    build_s = time.perf_counter() - t
    cli = PEERS / "node_modules" / "@digital-go-jp" / "abr-geocoder" / "build" / "interface" / "cli" / "cli.js"

    def abrg(lines: list[str]) -> tuple[float, list]:
        path = work / "abrg-in.txt"
        path.write_text("\n".join(lines) + "\n")
        t = time.perf_counter()
        out = subprocess.run(["node", str(cli), str(path), "-d", str(abrg_dir), "-f", "json", "--silent"],
                             capture_output=True, text=True, timeout=1800, cwd=PEERS)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip()[-800:])
        return time.perf_counter() - t, json.loads(out.stdout)

    try:
        cache_s, _ = abrg([addresses[0][0]])    # the first run builds its trie caches
        startup_s, _ = abrg([addresses[0][0]])  # a run's own start-up, caches built
        # and on any address in 京都府 when 京都市's towns are not in its database (its 京都 通り名
        # step then searches an empty dictionary, same TypeError): those are not given to it and
        # count as errors
        given = [i for i, a in enumerate(addresses) if "京都府" not in a[0] and "京都市" not in a[0]]
        total_s, got_given = abrg([BEFORE_ADDRESS.sub("", addresses[i][0]) for i in given])
    except RuntimeError as exc:
        return {"error": str(exc)}
    names = {"residential_detail": "residence", "residential_block": "block", "machiaza_detail": "town",
             "machiaza": "town", "parcel": "residence", "city": "municipality", "prefecture": "prefecture",
             "unknown": "none"}
    got: list = [None] * len(addresses)
    for i, item in zip(given, got_given):
        got[i] = item
    answers, own = [], Counter()
    for item in got:
        if item is None:
            own["not given"] += 1
            answers.append(("error", "", ""))
            continue
        r = item["result"]
        own[r.get("match_level")] += 1
        town = f"{r['lg_code']}-{r['machiaza_id']}" if r.get("lg_code") and r.get("machiaza_id") else ""
        rsdt = (f"{r['blk_num']}-{r['rsdt_num']}" + (f"-{r['rsdt_num2']}" if r.get("rsdt_num2") else "")
                if r.get("rsdt_num") and r.get("blk_num") else "")
        answers.append((names.get(r.get("match_level"), "none"), town, rsdt))
    return {"input_note": "without the postcode or company name written before an address (it fails on them)", "database_build_s": round(build_s, 2), "trie_cache_build_s": round(cache_s - startup_s, 2),
            "startup_s": round(startup_s, 2), "cli_total_s": round(total_s, 2),
            "per_s": round(len(given) / max(1e-9, total_s - startup_s)), "not_given": len(addresses) - len(given),
            "own_levels": dict(own),
            **score(answers, addresses)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    ap.add_argument("--addresses", type=int, default=10_000)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "geocode.json")
    args = ap.parse_args()
    if not (args.real / "abr" / "mt_town_pref30.csv").exists():
        sys.exit(f"bench_geocode: no real ABR files under {args.real}/abr")
    addresses = address_set(args.real, args.addresses)
    results: dict = {"addresses": len(addresses),
                     "with_expected_town": sum(1 for a in addresses if a[1]),
                     "with_expected_residence": sum(1 for a in addresses if a[2])}
    with tempfile.TemporaryDirectory(prefix="bench-geocode-") as tmp:
        work = Path(tmp)
        results["ours"] = run_ours(args.real, addresses, work, not args.no_http)
        if not args.no_peers:
            why = ensure_peers()
            if why:
                results["peers"] = why
            else:
                results["normalize-japanese-addresses"] = run_nja(args.real, addresses, work)
                results["abr-geocoder"] = run_abrg(args.real, addresses, work)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
