"""Japanese text normalisation: the one place that decides when two spellings are the same.

Every comparison of text across sources goes through a *key* function here, never through ad
hoc ``unicodedata`` calls: search folds names (:func:`fold`), the address links compare street
addresses (:func:`address_key`), program links find law titles (:func:`law_text_key`), loaders
match code-list labels (:func:`label_key`) and CSV headers (:func:`header_key`). Each key is a
function of NFKC (which folds full/half width, as JIS X 0208 and 0201 text is typed both ways)
plus the edits its comparison needs; the data keeps the source spelling.

Our own code rather than jaconv: NFKC is in the standard library, and the one kana edit we
need (katakana → hiragana) is a 90-entry table, shorter than the dependency.

>>> fold("ｺｸｾﾞｲﾁｮｳ") == fold("こくぜいちょう") == fold("コクゼイチョウ")
True
>>> address_key("大字 霞ヶ関 三丁目１－１")
'霞ケ関3丁目1-1'
>>> kanji_to_int("百五十一"), int_to_kanji(2024)
(151, '二千二十四')
"""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_HIRAGANA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
                 "元": 1}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_WIDE = str.maketrans("０１２３４５６７８９", "0123456789")

#: 表記ゆれ in place names: ケ/ヶ/が, の/ノ/之 and the dashes people type between numbers
_ADDRESS_VARIANTS = str.maketrans({"ヶ": "ケ", "ヵ": "ケ", "が": "ケ", "ガ": "ケ", "ノ": "の", "之": "の",
                                   "‐": "-", "－": "-", "―": "-", "−": "-", "–": "-", "—": "-"})
_ADDRESS_NUMBER = re.compile(r"[〇一二三四五六七八九十百千]+(?=丁目|番|号|地割|線|条)")
_ADDRESS_PREFIX = re.compile(r"^(?:大字|字)+")
_LAW_NUMBER = re.compile(r"[〇一二三四五六七八九十百千]+(?=年|号)")


def nfkc(text: str | None) -> str:
    """Width-folded text (全角/半角 alike): the base of every key below."""
    return unicodedata.normalize("NFKC", text or "")


def compact(text: str | None) -> str:
    """NFKC without any white space (Japanese text is unsegmented: spaces are typing noise)."""
    return _SPACE.sub("", nfkc(text))


def fold(text: str) -> str:
    """The search key of a name: NFKC, katakana as hiragana, lower case, no spaces.

    >>> fold("ＮＴＴ データ")
    'nttでーた'
    """
    return _SPACE.sub("", nfkc(text).lower().translate(_HIRAGANA))


def address_key(text: str | None) -> str:
    """One spelling for the ways a Japanese street address is written.

    >>> address_key("霞が関３丁目") == address_key("霞ケ関三丁目")
    True
    """
    text = compact(text).translate(_ADDRESS_VARIANTS)
    text = _ADDRESS_NUMBER.sub(lambda m: str(kanji_to_int(m.group())), text)
    return _ADDRESS_PREFIX.sub("", text)


def law_text_key(text: str | None) -> str:
    """One spelling for finding law titles and law numbers in text.

    e-Gov writes 平成十一年法律第百二十七号, programs often 平成11年法律第127号; 元年 is 1年.

    >>> law_text_key("平成十一年法律第百二十七号") == law_text_key("平成11年 法律第127号")
    True
    """
    text = compact(text).replace("元年", "1年")
    return _LAW_NUMBER.sub(lambda m: str(kanji_to_int(m.group())), text)


def label_key(text: str) -> str:
    """A code-list label as sources type it (JSIC writes ，/, where others write 、).

    >>> label_key("農業，林業") == label_key("農業、 林業")
    True
    """
    return compact(text).replace(",", "、")


def header_key(name: str) -> str:
    """A CSV header cell in comparable form (width, case, spaces and a BOM ignored)."""
    return nfkc(name).strip().strip("\ufeff").replace(" ", "").lower()


def kanji_to_int(text: str) -> int | None:
    """Kanji numerals, positional (``一五一``) or traditional (``百五十一``); None if not a numeral.

    >>> [kanji_to_int(t) for t in ("百五十一", "一五一", "二十", "元", "〇八", "１２", "千九", "x", "百五", "二〇")]
    [151, 151, 20, 1, 8, 12, 1009, None, 105, 20]
    """
    text = text.strip().translate(_WIDE)
    if not text:
        return None
    if text.isdigit() and text.isascii():
        return int(text)
    if any(ch in _KANJI_UNITS for ch in text):
        total, digit = 0, None
        for ch in text:
            if ch in _KANJI_UNITS:
                total += (1 if digit is None else digit) * _KANJI_UNITS[ch]
                digit = None
            elif ch in _KANJI_DIGITS:
                digit = _KANJI_DIGITS[ch]
            else:
                return None
        return total + (digit or 0)
    value = 0
    for ch in text:
        if ch in _KANJI_DIGITS:
            value = value * 10 + _KANJI_DIGITS[ch]
        elif ch.isdigit() and ch.isascii():
            value = value * 10 + int(ch)
        else:
            return None
    return value


def int_to_kanji(n: int) -> str:
    """Traditional kanji numeral, as in 法令番号 and article titles.

    >>> [int_to_kanji(n) for n in (1, 10, 11, 88, 100, 231, 1009, 2024)]
    ['一', '十', '十一', '八十八', '百', '二百三十一', '千九', '二千二十四']
    """
    if n <= 0:
        return "〇"
    digits = "〇一二三四五六七八九"
    out = []
    for unit, name in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, unit)
        if q:
            out.append(("" if q == 1 else int_to_kanji(q)) + name)
    if n:
        out.append(digits[n])
    return "".join(out)


def is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def display_width(text: str) -> int:
    """Columns a terminal gives ``text`` (wide and full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
