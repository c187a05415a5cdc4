"""Generate ``kg/text/variants.txt``, the 異体字 fold table behind :func:`kg.text.normalize.fold_variants`.

Not imported at run time: the generated table is committed and shipped as package data.

Sources (both published, maintained tables; nothing here is picked by hand):

* **Unihan** (Unicode Character Database, https://www.unicode.org/Public/UCD/latest/ucd/Unihan.zip;
  Debian package ``unicode-data``: ``/usr/share/unicode/Unihan_*.txt.bz2``). © Unicode, Inc.,
  Unicode License v3 (permissive; https://www.unicode.org/license.txt). Used: ``kJis0`` (JIS X 0208
  membership and level), ``kIRG_JSource`` (a Japanese source at all), ``kJoyoKanji``,
  ``kJinmeiyoKanji`` (``2010:U+xxxx`` = 戸籍法施行規則 別表第二 二, the 人名用漢字 異体字 list of the
  Ministry of Justice), ``kZVariant``, ``kSemanticVariant`` (``:Z`` marks a z-variant),
  ``kSpoofingVariant``, ``kSimplifiedVariant``/``kTraditionalVariant``.
* **KANJIDIC2** (Electronic Dictionary Research and Development Group, Monash University;
  https://www.edrdg.org/wiki/index.php/KANJIDIC_Project; Debian package ``kanjidic-xml``:
  ``/usr/share/edict/kanjidic2.xml.gz``). Licence: Creative Commons Attribution-ShareAlike 3.0
  (EDRDG General Dictionary Licence, https://www.edrdg.org/edrdg/licence.html). Used: the
  ``<variant>`` cross references (JIS X 0208/0212/0213 and UCS) of the 13,108 kanji of
  JIS X 0208, 0212 and 0213.

Because KANJIDIC2 is share-alike, the generated ``variants.txt`` is CC BY-SA 3.0 (its header says
so and names both sources); the code of this project stays MIT.

The rule (what the IPA/CITPC MJ縮退マップ does for 戸籍統一文字 → JIS X 0208; that map itself is
CC BY-SA 2.1 JP and not available on this machine's registries):

1. A character outside JIS X 0208 folds into its JIS X 0208 variant (簞 → 箪, 髙 → 高, 﨑 → 崎,
   德 → 徳, 槗 → 橋, 𠮷 → 吉) from any source above.
2. A JIS X 0208 character that is not itself 常用漢字 or 人名用漢字 (別表第二 一) folds into a
   variant that is: 邊/邉 → 辺, 齋 → 斎, 舘 → 館, 濱 → 浜, 澤 → 沢; and an 異体字 of 別表第二 二
   into its 常用漢字 (嶋 → 島, 冨 → 富, 櫻 → 桜). For these only Japanese evidence counts
   (別表第二 二, KANJIDIC2, z-variants): Unihan's other semantic, simplified/traditional and
   spoofing relations come from Chinese dictionaries and usage (鯰 is 鮎 there, 籐 is 藤, 叶 is
   葉, 后 is 後), so they count only for characters outside JIS X 0208.
3. The target is the best-ranked candidate (常用 > JIS level 1 > 人名用 > JIS level 2 > other),
   preferring, at equal rank, the stronger source (別表第二 二 > KANJIDIC2 > Unihan z-variant >
   semantic > spoofing > simplified); a tie that neither breaks is left unfolded. Chains are
   followed to their end (邉 → 邊 → 辺 ends at 辺), so the map is idempotent.

Characters NFKC already folds (the CJK compatibility ideographs with decompositions, 塚 U+FA10,
神 U+FA19) are left to NFKC; the table only holds NFKC-stable characters.

Run: ``python -m kg.text.build_variants --unihan /usr/share/unicode --kanjidic
/usr/share/edict/kanjidic2.xml.gz`` (``apt-get download unicode-data kanjidic-xml`` and
``dpkg-deb -x`` give the files without installing them).
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import re
import unicodedata
import zipfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).with_name("variants.txt")

# source strength: lower is stronger
JINMEI, KANJIDIC, ZVAR, SEMANTIC_Z, SEMANTIC, SPOOF, SIMPLIFIED = range(7)
SOURCE_NAMES = ["jinmei", "kanjidic2", "kZVariant", "kSemanticVariant:Z", "kSemanticVariant",
                "kSpoofingVariant", "kSimplifiedVariant"]
_CP = re.compile(r"U\+([0-9A-F]{4,6})(?:<(\S*))?")


def _open_unihan(path: Path, name: str):
    if path.is_file() and path.suffix == ".zip":
        return io.TextIOWrapper(zipfile.ZipFile(path).open(name), encoding="utf-8")
    plain, packed = path / name, path / f"{name}.bz2"
    if plain.exists():
        return open(plain, encoding="utf-8")
    return bz2.open(packed, "rt", encoding="utf-8")


def read_unihan(path: Path) -> tuple[dict[str, dict[str, str]], str]:
    fields: dict[str, dict[str, str]] = defaultdict(dict)
    version = ""
    wanted = {"kJis0", "kIRG_JSource", "kJoyoKanji", "kJinmeiyoKanji", "kZVariant", "kSemanticVariant",
              "kSpoofingVariant", "kSimplifiedVariant", "kTraditionalVariant"}
    for name in ("Unihan_OtherMappings.txt", "Unihan_IRGSources.txt", "Unihan_Variants.txt"):
        with _open_unihan(path, name) as fh:
            for line in fh:
                if line.startswith("# Unicode version:"):
                    version = line.split(":", 1)[1].strip()
                if line.startswith("#") or not line.strip():
                    continue
                cp, field, value = line.rstrip("\n").split("\t")
                if field in wanted:
                    fields[chr(int(cp[2:], 16))][field] = value
    return fields, version


def read_kanjidic(path: Path) -> tuple[dict[str, list[str]], str]:
    """Each kanji's variants (as characters) from KANJIDIC2."""
    with gzip.open(path) as fh:
        root = ET.parse(fh).getroot()
    version = root.findtext("header/database_version") or ""
    by_code: dict[tuple[str, str], str] = {}
    raw: list[tuple[str, list[tuple[str, str]]]] = []
    for ch in root.iter("character"):
        literal = ch.findtext("literal")
        for cp in ch.find("codepoint"):
            by_code[(cp.get("cp_type"), cp.text.lower())] = literal
        raw.append((literal, [(v.get("var_type"), v.text.lower()) for v in ch.iter("variant")]))
    variants: dict[str, list[str]] = {}
    for literal, refs in raw:
        out = []
        for kind, code in refs:
            if kind in ("jis208", "jis212", "jis213"):
                target = by_code.get((kind, code))
            elif kind == "ucs":
                target = chr(int(code, 16))
            else:
                continue  # dictionary numbers (Nelson, De Roo, ...) name no character
            if target and target != literal:
                out.append(target)
        variants[literal] = out
    return variants, version


def build(unihan: dict[str, dict[str, str]], kanjidic: dict[str, list[str]]) -> dict[str, tuple[str, int]]:
    def in_0208(c: str) -> bool:
        return "kJis0" in unihan.get(c, {})

    def joyo(c: str) -> bool:
        v = unihan.get(c, {}).get("kJoyoKanji")
        return v is not None and ":" not in v

    def jinmei(c: str) -> bool:
        v = unihan.get(c, {}).get("kJinmeiyoKanji")
        return v is not None and ":" not in v

    def rank(c: str) -> int:
        f = unihan.get(c, {})
        if joyo(c):
            return 0
        if "kJis0" in f:
            level1 = int(f["kJis0"][:2]) <= 47
            if level1:
                return 1
            return 2 if jinmei(c) else 3
        return 4 if "kIRG_JSource" in f else 5

    # candidate edges c → (target, source strength)
    edges: dict[str, dict[str, int]] = defaultdict(dict)

    def edge(c: str, target: str, source: int) -> None:
        if c == target or unicodedata.normalize("NFKC", target) != target:
            return
        old = edges[c].get(target)
        if old is None or source < old:
            edges[c][target] = source

    for c, f in unihan.items():
        redirect = f.get("kJinmeiyoKanji", "")
        if ":" in redirect:
            edge(c, chr(int(redirect.split(":")[1][2:], 16)), JINMEI)
        for field, strength in (("kZVariant", ZVAR), ("kSemanticVariant", SEMANTIC),
                                ("kSpoofingVariant", SPOOF), ("kSimplifiedVariant", SIMPLIFIED),
                                ("kTraditionalVariant", SIMPLIFIED)):
            for m in _CP.finditer(f.get(field, "")):
                target = chr(int(m.group(1), 16))
                s = SEMANTIC_Z if strength == SEMANTIC and ":Z" in (m.group(2) or "") else strength
                edge(c, target, s)
    for c, targets in kanjidic.items():
        for t in targets:
            edge(c, t, KANJIDIC)

    step: dict[str, tuple[str, int]] = {}
    for c, cands in edges.items():
        if unicodedata.normalize("NFKC", c) != c:
            continue  # NFKC folds it first
        if in_0208(c):
            if joyo(c) or jinmei(c):
                continue  # its own character in the 常用/人名用 lists
            # Japanese evidence only: Unihan's plain semantic variants come from Chinese
            # dictionaries (鯰 is 鮎 there, 籐 is 藤), which is not how Japanese names read
            allowed = {t: s for t, s in cands.items() if s <= SEMANTIC_Z and in_0208(t)}
        else:
            allowed = {t: s for t, s in cands.items() if in_0208(t)}
        mine = rank(c)
        better = {t: s for t, s in allowed.items() if rank(t) < mine}
        if not better:
            continue
        best_rank = min(rank(t) for t in better)
        top = {t: s for t, s in better.items() if rank(t) == best_rank}
        strongest = min(top.values())
        winners = [t for t, s in top.items() if s == strongest]
        if len(winners) == 1:
            step[c] = (winners[0], strongest)
    # follow chains; ranks fall strictly along each step, so every chain ends
    final: dict[str, tuple[str, int]] = {}
    for c, (t, s) in step.items():
        while t in step:
            t = step[t][0]
        final[c] = (t, s)
    return final


def write(table: dict[str, tuple[str, int]], unihan_version: str, kanjidic_version: str, out: Path = OUT) -> None:
    lines = [
        "# 異体字 fold table for kg.text.normalize.fold_variants: source<TAB>target<TAB>evidence",
        "# GENERATED by kg/text/build_variants.py -- do not edit by hand.",
        f"# Sources: Unicode Unihan database {unihan_version} (© Unicode, Inc., Unicode License v3,",
        "#   https://www.unicode.org/license.txt) and KANJIDIC2 " + kanjidic_version + " (© Electronic Dictionary",
        "#   Research and Development Group, https://www.edrdg.org/edrdg/licence.html).",
        "# This table is licensed CC BY-SA 3.0 (https://creativecommons.org/licenses/by-sa/3.0/),",
        "#   as KANJIDIC2 requires of data derived from it.",
        f"# {len(table)} characters.",
    ]
    for c in sorted(table):
        t, s = table[c]
        lines.append(f"{c}\t{t}\t{SOURCE_NAMES[s]}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--unihan", type=Path, default=Path("/usr/share/unicode"),
                    help="directory of Unihan_*.txt[.bz2], or Unihan.zip")
    ap.add_argument("--kanjidic", type=Path, default=Path("/usr/share/edict/kanjidic2.xml.gz"))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    unihan, uv = read_unihan(args.unihan)
    kanjidic, kv = read_kanjidic(args.kanjidic)
    table = build(unihan, kanjidic)
    write(table, uv, kv, args.out)
    print(f"{args.out}: {len(table)} characters (Unihan {uv}, KANJIDIC2 {kv})")


if __name__ == "__main__":
    main()
