"""Literals in the lexical form the store keeps, so that the N-Triples a load writes are the
lines a dump of the store gives back byte for byte (the content digest, :mod:`kg.load.digest`,
hashes those lines at load time and anyone recomputes it from a dump).

The engine stores valid numbers, booleans and date-times by value and writes them back in one
form: ``"0012"^^xsd:integer`` comes back as ``"12"``, ``"1.50"^^xsd:decimal`` as ``"1.5"``,
``"1"^^xsd:boolean`` as ``"true"``. Language tags come back in lower case, and control
characters escaped as ``\\uXXXX``. Values the engine cannot read (out of range, malformed)
come back as they were written, and so are left alone here.

>>> canonical_lexical("0012", XSD + "integer"), canonical_lexical("+1.20", XSD + "decimal")
('12', '1.2')
>>> canonical_lexical("1", XSD + "boolean"), canonical_lexical("1e-7", XSD + "double")
('true', '0.0000001')
>>> canonical_lexical("2024-01-01T00:00:00.500+00:00", XSD + "dateTime")
'2024-01-01T00:00:00.5Z'
>>> escape("a\\tb\\x01")
'a\\\\tb\\\\u0001'
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Callable

XSD = "http://www.w3.org/2001/XMLSchema#"
_I64 = 1 << 63

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_ESCAPES.update({chr(c): f"\\u{c:04X}" for c in (*range(0x20), 0x7F) if chr(c) not in _ESCAPES})
_TABLE = str.maketrans(_ESCAPES)
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f\x7f]')


def escape(value: str) -> str:
    """A literal's text as N-Triples writes it between the quotes."""
    if value.isprintable() and '"' not in value and "\\" not in value:
        return value  # the common case, in C
    return value.translate(_TABLE) if _NEEDS_ESCAPE.search(value) else value


_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?\Z")
_DOUBLE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_SECONDS = re.compile(r"(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)\Z")


def _integer(value: str, minimum: int = -_I64) -> str:
    if value.isascii() and value.isdigit() and (value[0] != "0" or len(value) == 1) and len(value) < 19:
        return value  # already canonical: the common case, without a regex
    if not _INTEGER.match(value):
        return value
    number = int(value)
    return str(number) if minimum <= number < _I64 else value


def _decimal(value: str) -> str:
    whole, dot, fraction = value.partition(".")
    if whole.isascii() and whole.isdigit() and (whole[0] != "0" or len(whole) == 1) and len(whole) <= 20 and \
            (not dot or fraction.isascii() and fraction.isdigit() and fraction[-1] != "0" and len(fraction) <= 18):
        return value  # already canonical
    match = _DECIMAL.match(value)
    if not match or not (match.group(2) or match.group(3)):
        return value
    sign, whole, fraction = match.group(1), match.group(2).lstrip("0") or "0", (match.group(3) or "").rstrip("0")
    if len(fraction) > 18 or len(whole) > 20:  # beyond the engine's decimal: kept as written
        return value
    text = whole + ("." + fraction if fraction else "")
    return "-" + text if sign == "-" and text != "0" else text


def _boolean(value: str) -> str:
    return {"1": "true", "0": "false"}.get(value, value)


def _double(value: str) -> str:
    if not _DOUBLE.match(value):
        return {"INF": "INF", "-INF": "-INF", "NaN": "NaN"}.get(value, value)
    number = float(value)
    if math.isinf(number):
        return "INF" if number > 0 else "-INF"
    try:
        text = format(Decimal(repr(number)), "f")
    except InvalidOperation:  # pragma: no cover - repr of a finite float is always a decimal
        return value
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _date_time(value: str) -> str:
    match = _SECONDS.match(value)
    if not match:
        return _zone(value)
    fraction = match.group(2).rstrip("0")
    return _zone(f"{match.group(1)}{'.' + fraction if fraction else ''}{match.group(3)}")


def _zone(value: str) -> str:
    return value[:-6] + "Z" if value.endswith(("+00:00", "-00:00")) else value


_CANONICAL: dict[str, Callable[[str], str]] = {
    XSD + "integer": _integer,
    XSD + "decimal": _decimal,
    XSD + "boolean": _boolean,
    XSD + "double": _double,
    XSD + "dateTime": _date_time,
}


def canonical_lexical(value: str, datatype: str) -> str:
    """The lexical form the store gives back for ``value`` of ``datatype``."""
    canon = _CANONICAL.get(datatype)
    return value if canon is None else canon(value)


def canonical_datatype(value: str, datatype: str) -> str:
    """The datatype the store gives back: an ``xsd:nonNegativeInteger`` that reads as an integer
    comes back as ``xsd:integer``.

    >>> canonical_datatype("01", XSD + "nonNegativeInteger").rsplit("#", 1)[1]
    'integer'
    """
    if datatype == XSD + "nonNegativeInteger" and _INTEGER.match(value) and -_I64 <= int(value) < _I64:
        return XSD + "integer"
    return datatype
