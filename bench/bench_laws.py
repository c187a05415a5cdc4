#!/usr/bin/env python3
"""Load a synthetic e-Gov bulk zip of N laws and report articles per second and peak RSS.

    python bench/bench_laws.py [--laws 10000] [--template LAW.xml] [--keep DIR] [--tmp DIR]

1. generate the zip (not timed): N copies of a template 法令標準XML law, each with its own law ID
   (平成 year 1-30 x number 1-999, so up to 29,970 laws), matching Era/Year/Num attributes and
   法令番号, stored as ``{law_revision_id}/{law_revision_id}.xml`` like the e-Gov bulk download;
2. count the template's articles and paragraphs with the loader's own parser (not timed);
3. OURS: ``kg load laws ZIP --no-progress`` with a fresh KG_DATA_DIR, as a child process reaped
   with os.wait4: wall time and that child's peak RSS.

The default template is the bundled 国旗及び国歌に関する法律 (2 articles: the per-file cost
dominates); ``--template ../shared/data/real/law/405AC0000000088_20240401_504AC0100000052.xml``
(行政手続法, 69 articles) is closer to an average law. Results: stdout and bench/out/laws-N.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_load import _LOAD_LINE, kg_command, measured  # noqa: E402  (same measuring as the houjin bench)

BASE_URI = "http://localhost:8000/"
DEFAULT_TEMPLATE = ROOT / "kg" / "samples" / "laws" / "411AC0000000127_19990813_000000000000000.xml"
COUNT = """
import sys, collections
from kg.loaders.lawtext import parse_law_xml
doc = parse_law_xml(open(sys.argv[1], "rb"), sys.argv[1])
kinds = collections.Counter(n.kind for n in doc.nodes)
print(kinds["article"], kinds["paragraph"], len(doc.nodes))
"""


def kanji(n: int) -> str:
    digits = "〇一二三四五六七八九"
    out = ""
    for unit, name in ((100, "百"), (10, "十")):
        q, n = divmod(n, unit)
        if q:
            out += ("" if q == 1 else digits[q]) + name
    return out + (digits[n] if n else "")


def generate(template: Path, laws: int, out: Path) -> int:
    """The zip of ``laws`` laws; returns its size in bytes."""
    text = template.read_text(encoding="utf-8")
    head = re.search(r"<Law\b[^>]*>", text)
    if head is None:
        raise SystemExit(f"bench: {template} is not 法令標準XML (no <Law> element)")
    if laws > 30 * 999:
        raise SystemExit("bench: at most 29,970 laws (平成1-30 x 999 numbers)")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for i in range(laws):
            year, num = 1 + i // 999, 1 + i % 999
            law_id = f"4{year:02d}AC0000000{num:03d}"
            revision = f"{law_id}_20240401_506AC0000000001"
            attrs = re.sub(r'\b(Era|Year|Num)="[^"]*"', "", head.group(0)[4:-1])
            law = f'<Law Era="Heisei" Year="{year:02d}" Num="{num:03d}"{attrs}>'
            body = text[:head.start()] + law + text[head.end():]
            body = re.sub(r"<LawNum>[^<]*</LawNum>", f"<LawNum>平成{'元' if year == 1 else kanji(year)}年法律第{kanji(num)}号</LawNum>",
                          body, count=1)
            z.writestr(f"{revision}/{revision}.xml", body)
    return out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--laws", type=int, default=10_000)
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    parser.add_argument("--keep", type=Path, help="keep the zip and the data directory here")
    parser.add_argument("--tmp", type=Path, help="directory for temporary files")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-laws-", dir=args.tmp))
    work.mkdir(parents=True, exist_ok=True)
    try:
        archive = work / f"laws-{args.laws}.zip"
        start = time.perf_counter()
        size = generate(args.template, args.laws, archive)
        print(f"generated {archive} ({size / 1e6:.1f} MB, {args.laws:,} laws) in {time.perf_counter() - start:.1f} s")
        counted = subprocess.run([sys.executable, "-c", COUNT, str(args.template)], capture_output=True, text=True,
                                 check=True, cwd=ROOT).stdout.split()
        articles_per_law, paragraphs_per_law, nodes_per_law = map(int, counted)

        data = work / "kg-data"
        shutil.rmtree(data, ignore_errors=True)
        env = {**os.environ, "KG_DATA_DIR": str(data), "KG_BASE_URI": BASE_URI}
        ours = measured([*kg_command(), "load", "laws", str(archive), "--no-progress"], env=env, log=work / "load.log")
        m = _LOAD_LINE.search(ours["output"])
        if not m:
            raise SystemExit(f"bench: unexpected kg output:\n{ours['output']}")
        read, loaded, rejected, triples = (int(x.replace(",", "")) for x in m.groups()[:4])
        articles = loaded * articles_per_law
        result = {
            "laws": args.laws, "template": str(args.template), "zip_bytes": size,
            "articles_per_law": articles_per_law, "paragraphs_per_law": paragraphs_per_law,
            "subdivisions_per_law": nodes_per_law,
            "read": read, "loaded": loaded, "rejected": rejected, "triples": triples,
            "seconds": round(ours["seconds"], 2), "peak_rss_mb": round(ours["peak_rss_mb"], 1),
            "user_s": round(ours["user_s"], 2), "sys_s": round(ours["sys_s"], 2),
            "laws_per_s": round(loaded / ours["seconds"], 1),
            "articles_per_s": round(articles / ours["seconds"], 1),
            "triples_per_s": round(triples / ours["seconds"]),
            "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        }
        print(f"kg load laws: {loaded:,}/{read:,} laws ({rejected} rejected), {articles:,} articles, {triples:,} triples "
              f"in {result['seconds']} s: {result['articles_per_s']:,} articles/s, {result['laws_per_s']:,} laws/s, "
              f"{result['triples_per_s']:,} triples/s; peak RSS {result['peak_rss_mb']} MB")
        out = HERE / "out" / f"laws-{args.laws}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
