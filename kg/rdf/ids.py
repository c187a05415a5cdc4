"""Checking an entity ID in a URL before looking it up: a wrong length or check digit is a 400
that says why, not a 404 that leaves the user guessing."""

from __future__ import annotations

import re

from kg.rdf.checkdigits import corporate_number_problem, local_government_code_problem

_TOWN = re.compile(r"^(\d{6})-(\d{7})$")
_LAW = re.compile(r"^\d{3}[A-Z]{2}[0-9A-Z]{10}$")


def id_problem(path: str) -> str | None:
    """Why ``kind/id`` (the part of an IRI after ``id/``) is malformed, or None."""
    kind, _, rest = path.partition("/")
    ident = rest.split("/", 1)[0]
    if kind == "corporation":
        return corporate_number_problem(ident)
    if kind in ("municipality", "prefecture"):
        problem = local_government_code_problem(ident)
        if problem is None and kind == "prefecture" and ident[2:5] != "000":
            return f"{ident} is a municipality code; prefecture codes end in 000 and a check digit"
        return problem
    if kind == "town":
        m = _TOWN.match(ident)
        if not m:
            return f"town IDs are a 6-digit local government code, a hyphen and a 7-digit 町字ID, got {ident!r}"
        return local_government_code_problem(m.group(1))
    if kind == "law" and not _LAW.match(ident):
        return f"law IDs look like 405AC0000000088 (15 characters: era+year, type, number), got {ident!r}"
    return None
