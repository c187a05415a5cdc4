#!/usr/bin/env python3
"""Towns loaded per second, and corporations linked to towns per second.

    python bench/bench_links.py [--rows 1000000] [--real ../shared/data/real]

1. `kg load abr` the real 和歌山県 files (都道府県, 市区町村, every 町字 of the prefecture and
   their points) into a fresh store: towns/s;
2. generate N synthetic corporations (bench/gen_houjin.py) and move each to a random real
   和歌山県 town, its street written the ways people write it (漢数字 or arabic 丁目, full or
   half width, 大字 or not, a hyphenated form) -- then `kg load houjin` (which links);
3. `kg link` (a full rebuild of graph/links): corporations matched per second and the match rate
   by level.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_houjin  # noqa: E402

FW = str.maketrans("0123456789-", "０１２３４５６７８９－")
KANJI = "〇一二三四五六七八九"


def kanji(n: int) -> str:
    if n < 10:
        return KANJI[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else KANJI[tens]) + "十" + (KANJI[ones] if ones else "")


def street_for(town: dict, rnd: random.Random) -> str:
    oaza, chome = town["oaza_cho"], town["chome_number"]
    block, lot = rnd.randint(1, 30), rnd.randint(1, 20)
    style = rnd.random()
    prefix = "大字" if town["machiaza_type"] == "1" and not oaza.startswith("大字") and rnd.random() < 0.2 else ""
    if chome:
        n = int(chome)
        if style < 0.4:
            text = f"{oaza}{n}丁目{block}番{lot}号".translate(FW)
        elif style < 0.7:
            text = f"{oaza}{kanji(n)}丁目{block}番地{lot}".translate(FW)
        else:
            text = f"{oaza}{n}-{block}-{lot}"
    else:
        text = f"{prefix}{oaza}{town['koaza']}{block}番地{lot}".translate(FW)
    return text


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if out.returncode:
        raise SystemExit(f"bench: {' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return seconds, out.stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--real", type=Path, default=HERE.parent.parent / "shared" / "data" / "real")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    abr = args.real / "abr"
    towns = [r for r in csv.DictReader(open(abr / "mt_town_pref30.csv", encoding="utf-8")) if r["oaza_cho"] or r["koaza"]]
    tmp = Path(tempfile.mkdtemp(prefix="kg-bench-links-"))
    env = {**os.environ, "KG_DATA_DIR": str(tmp / "data")}
    kg = shutil.which("kg") or "kg"
    town_rows = sum(1 for _ in open(abr / "mt_town_pref30.csv", encoding="utf-8")) - 1
    abr_seconds, abr_out = run([kg, "load", "abr", "--no-progress", str(abr / "mt_pref_all.csv"), str(abr / "mt_city_all.csv"),
                                str(abr / "mt_town_pref30.csv"), str(abr / "mt_town_pos_pref30.csv")], env)
    synthetic = tmp / "synthetic.csv"
    gen_houjin.generate(args.rows, synthetic, seed=args.seed)
    rnd = random.Random(args.seed)
    moved = tmp / "wakayama.csv"
    with open(synthetic, encoding="utf-8", newline="") as src, open(moved, "w", encoding="utf-8", newline="") as dst:
        for seq, row in enumerate(csv.reader(src), 1):
            town = rnd.choice(towns)
            row[9], row[10], row[11] = "和歌山県", town["city"] + town["ward"], street_for(town, rnd)
            row[13], row[14] = "30", town["lg_code"][2:5]
            row[16] = row[17] = row[27] = ""
            dst.write(gen_houjin.format_row(seq, row))
    houjin_seconds, houjin_out = run([kg, "load", "houjin", "--no-progress", str(moved)], env)
    link_seconds, link_out = run([kg, "link"], env)
    levels = dict(re.findall(r"(town|oaza|municipality) ([\d,]+) \(", link_out))
    matched = sum(int(v.replace(",", "")) for v in levels.values())
    result = {
        "towns": {"rows": town_rows, "seconds": abr_seconds, "rows_per_s": town_rows / abr_seconds},
        "houjin_load_with_links": {"rows": args.rows, "seconds": houjin_seconds},
        "link": {"corporations": matched, "seconds": link_seconds, "corporations_per_s": matched / link_seconds,
                 "levels": {k: int(v.replace(",", "")) for k, v in levels.items()}},
        "output": {"abr": abr_out.strip(), "houjin": houjin_out.strip(), "link": link_out.strip()},
    }
    print(f"towns:  {town_rows:,} 和歌山県 town rows (+ prefectures, municipalities, points) in {abr_seconds:.1f} s "
          f"= {town_rows / abr_seconds:,.0f} town rows/s (whole abr load)")
    print(f"houjin: {args.rows:,} corporations loaded and linked in {houjin_seconds:.1f} s")
    print(f"link:   {matched:,} corporations matched in {link_seconds:.1f} s = {matched / link_seconds:,.0f} /s (kg link, full rebuild)")
    print(f"        {link_out.strip()}")
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / f"links-{args.rows}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
