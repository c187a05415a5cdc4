"""異体字 folding: the generated table, its rules, and what NFKC does and does not do."""

from __future__ import annotations

import unicodedata
from importlib.resources import files
from pathlib import Path

import pytest

from kg.text.normalize import _VARIANTS, address_key, fold, fold_variants

TABLE = [line.split("\t") for line in files("kg.text").joinpath("variants.txt").read_text(encoding="utf-8").splitlines()
         if line and not line.startswith("#")]


@pytest.mark.parametrize("variant,common", [
    ("簞", "箪"), ("髙", "高"), ("﨑", "崎"), ("德", "徳"), ("邊", "辺"), ("邉", "辺"), ("齋", "斎"), ("舘", "館"),
    ("槗", "橋"), ("濵", "浜"), ("濱", "浜"), ("澤", "沢"), ("嶋", "島"), ("冨", "富"), ("櫻", "桜"), ("國", "国"),
    ("𠮷", "吉"), ("瀨", "瀬"), ("峯", "峰"),
    ("\ufa10", "塚"), ("\ufa19", "神"),           # compatibility ideographs: NFKC's part
    ("葛\U000E0100", "葛"), ("辻\U000E0101", "辻"),  # an IVS names a glyph, not another character
])
def test_variant_pairs_fold_to_one_key(variant, common):
    assert fold_variants(variant) == fold_variants(common) == common
    assert fold(variant) == fold(common)
    assert address_key(variant) == address_key(common)


def test_what_nfkc_folds_and_what_it_leaves():
    def nfkc(s):
        return unicodedata.normalize("NFKC", s)

    assert nfkc("\ufa10\ufa19") == "塚神"           # compatibility ideographs with a decomposition
    assert nfkc("\ufa11") == "\ufa11"               # 﨑 is a unified ideograph that only lives in that block
    assert nfkc("簞髙德邊") == "簞髙德邊"            # variants of unified ideographs: NFKC has no opinion
    assert fold_variants("\ufa11") == "崎"


@pytest.mark.parametrize("a,b", [("埼", "崎"), ("鯰", "鮎"), ("籐", "藤"), ("叶", "葉"), ("后", "後"), ("卍", "万"),
                                 ("于", "於"), ("鰌", "鰍")])
def test_distinct_japanese_characters_stay_distinct(a, b):
    """Only Japanese evidence folds JIS X 0208 characters: Chinese-dictionary variants do not."""
    assert fold_variants(a) != fold_variants(b)


def test_joyo_kanji_are_never_folded_away():
    for ch in "高崎徳辺斎館橋島富桜国浜沢埼葉後藤吉":
        assert fold_variants(ch) == ch


def test_table_is_idempotent_and_nfkc_stable():
    sources = {s for s, _, _ in TABLE}
    assert len(TABLE) > 3000 and len(sources) == len(TABLE)
    for source, target, evidence in TABLE:
        assert target not in sources, (source, target)             # chains were followed to their end
        assert unicodedata.normalize("NFKC", target) == target
        assert unicodedata.normalize("NFKC", source) == source     # NFKC runs first; its cases are not here
        assert evidence in {"jinmei", "kanjidic2", "kZVariant", "kSemanticVariant:Z", "kSemanticVariant",
                            "kSpoofingVariant", "kSimplifiedVariant"}
    text = "".join(s for s, _, _ in TABLE)
    assert fold_variants(fold_variants(text)) == fold_variants(text)
    assert len(_VARIANTS) == len(TABLE) + 16 + 240


def test_table_names_its_sources_and_licence():
    head = files("kg.text").joinpath("variants.txt").read_text(encoding="utf-8").split("\n", 8)[:8]
    text = "\n".join(head)
    assert "Unihan" in text and "KANJIDIC2" in text and "CC BY-SA 3.0" in text and "build_variants.py" in text


@pytest.mark.skipif(not (Path("/usr/share/unicode/Unihan_Variants.txt.bz2").exists()
                         and Path("/usr/share/edict/kanjidic2.xml.gz").exists()),
                    reason="Debian unicode-data and kanjidic-xml are not installed")
def test_generator_reproduces_the_committed_table(tmp_path):
    from kg.text import build_variants as b

    unihan, uv = b.read_unihan(Path("/usr/share/unicode"))
    kanjidic, kv = b.read_kanjidic(Path("/usr/share/edict/kanjidic2.xml.gz"))
    b.write(b.build(unihan, kanjidic), uv, kv, tmp_path / "v.txt")
    committed = files("kg.text").joinpath("variants.txt").read_text(encoding="utf-8")
    assert (tmp_path / "v.txt").read_text(encoding="utf-8") == committed
