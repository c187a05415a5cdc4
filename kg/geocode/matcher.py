"""Free-text Japanese address → prefecture, municipality, 町字, 街区, 住居 and a representative point.

The text is normalised once with the links' key (:func:`kg.text.normalize.address_key`: width,
漢数字 before 丁目/番/号, ケ/ヶ/が, の/ノ/之, hyphens, 異体字, spaces, a leading 大字/字), then read
left to right in that key: a postcode (〒100-0013) is set aside; a prefecture name; a
municipality name (with or without its 郡; a ward with its city), inferred when the prefecture is
missing and the name is unique, or when only one of the same-named municipalities has the town
that follows; then the town by the links' own matcher (:meth:`TownIndex.match_key`); then, where
住居表示 data is loaded, the 街区 and 住居 numbers. Whatever is left (a building name, a room, a
地番 the graph does not hold) is the remainder; text before the first place name (a building or
company name written first) is reported as skipped.

Levels, deepest first: residence, block, town (大字+丁目 or 小字, or a 大字 with nothing below it),
oaza (a 大字 whose 丁目/小字 was not recognised), municipality, prefecture, none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg.geocode.places import Block, Place, Places, Point, Residence
from kg.text.normalize import address_key

LEVELS = ("residence", "block", "town", "oaza", "municipality", "prefecture", "none")

_POSTCODE = re.compile(r"^(?:〒|郵便番号:?|〶)?(\d{3})-?(\d{4})(?!\d)")
_COUNTRY = re.compile(r"^(?:日本国?|japan)[,、]?", re.IGNORECASE)
_BLOCK = re.compile(r"(\d+)(番地|番|-|の)?")
_RESIDENCE = re.compile(r"(\d+)(?:(?:-|の)(\d+))?(号)?")


@dataclass
class Geocoded:
    """One answer. ``error`` says why it stops where it does when that is not the address's fault
    (the prefecture's towns are not loaded, the municipality name is ambiguous)."""

    input: str
    level: str = "none"
    id: str | None = None
    postcode: str | None = None
    prefecture: Place | None = None
    prefecture_inferred: bool = False
    municipality: Place | None = None
    town: str | None = None
    town_label: str = ""
    machiaza_id: str = ""
    block: Block | None = None
    residence: tuple[str, Residence] | None = None
    point: Point | None = None
    point_level: str | None = None
    remainder: str = ""
    skipped: str = ""
    error: str | None = None
    not_loaded: bool = False
    candidates: list[Place] = field(default_factory=list)

    @property
    def iri(self) -> str | None:
        """The deepest entity reached."""
        if self.residence is not None:
            return self.residence[1].iri
        if self.block is not None:
            return self.block.iri
        for place in (self.town, self.municipality, self.prefecture):
            if place is not None:
                return place if isinstance(place, str) else place.iri
        return None


class Geocoder:
    """Geocodes with one generation's :class:`Places`; safe to share between threads."""

    def __init__(self, places: Places, *, max_length: int = 500):
        self.places = places
        self.max_length = max_length

    def geocode(self, text: str, id: str | None = None) -> Geocoded:
        out = Geocoded(text, id=id)
        if not text or not text.strip():
            out.error = "empty address"
            return out
        if len(text) > self.max_length:
            out.error = f"address longer than {self.max_length} characters (KG_GEOCODE_MAX_LENGTH)"
            return out
        key = _COUNTRY.sub("", address_key(text))
        post = _POSTCODE.match(key)
        if post:
            out.postcode = post.group(1) + post.group(2)
            key = key[post.end():]
        start, pref, pos = self._locate(key)
        out.skipped = key[:start]
        if pref is not None:
            out.prefecture = self.places.prefectures[pref]
        candidates, pos = self._municipalities_at(key, pos, pref)
        if not candidates:
            out.remainder = key[pos:]
            if pref is None:
                out.error = "no prefecture or municipality recognised"
            else:
                out.level = "prefecture"
                self._check_loaded(out, pref)
            return self._point(out)
        rest = address_key(key[pos:])   # again: a 大字/字 now leads
        muni = self._choose(out, candidates, rest)
        if muni is None:
            out.remainder = rest
            return self._point(out)
        out.municipality = self.places.municipalities[muni]
        if out.prefecture is None:
            out.prefecture = self.places.prefectures.get(out.municipality.prefecture)
            out.prefecture_inferred = True
        out.level = "municipality"
        if not self.places.towns.has_towns(muni):
            out.remainder = rest
            self._check_loaded(out, out.municipality.prefecture, muni)
            return self._point(out)
        found = self.places.towns.match_key(muni, rest)
        used = found.length
        details = None
        if found.level in ("town", "oaza"):
            out.level = found.level
            out.town = found.town
            details = self.places.towns.details.get(found.town) if found.town else None
            out.town_label = details.label if details else rest[:used]
            out.machiaza_id = details.machiaza_id if details else ""
        if found.level == "town" and details is not None and details.residential and rest[used:used + 1].isdigit():
            used = self._street(out, found.town, rest, used)
        out.remainder = rest[used:]
        return self._point(out)

    # ---- steps ------------------------------------------------------------------------------

    def _prefecture_at(self, key: str, i: int) -> tuple[str | None, int]:
        for length in (4, 3):
            iri = self.places.prefecture_keys.get(key[i:i + length])
            if iri is not None:
                return iri, i + length
        return None, i

    def _municipalities_at(self, key: str, i: int, pref: str | None) -> tuple[list[str], int]:
        """The municipalities whose name (longest first) starts at ``i``, within ``pref`` if given."""
        keys, munis = self.places.municipality_keys, self.places.municipalities
        for length in range(min(self.places.longest_municipality, len(key) - i), 0, -1):
            found = keys.get(key[i:i + length])
            if found:
                chosen = [c for c in found if pref is None or munis[c].prefecture == pref]
                if chosen:
                    return chosen, i + length
        return [], i

    def _locate(self, key: str) -> tuple[int, str | None, int]:
        """(where the address starts, its prefecture IRI or None, where the municipality starts):
        at the start, or after a name written before it (the first place name in the text)."""
        for start in range(len(key)):
            pref, pos = self._prefecture_at(key, start)
            if pref is not None:
                return start, pref, pos
            if self._municipalities_at(key, start, None)[0]:
                return start, None, start
        return 0, None, 0

    def _choose(self, out: Geocoded, candidates: list[str], rest: str) -> str | None:
        """One municipality of several of the same name: the only one whose towns hold ``rest``."""
        if len(candidates) == 1:
            return candidates[0]
        towns = self.places.towns
        holding = [c for c in candidates if towns.match_key(c, rest).level in ("town", "oaza")]
        if len(holding) == 1:
            return holding[0]
        munis = self.places.municipalities
        out.candidates = [munis[c] for c in candidates]
        names = ", ".join(f"{self._pref_name(munis[c])}{munis[c].name} ({munis[c].code})" for c in candidates)
        out.error = (f"ambiguous municipality {munis[candidates[0]].name}: {names}; "
                     "give the prefecture")
        prefs = {munis[c].prefecture for c in candidates}
        if out.prefecture is None and len(prefs) == 1:
            out.prefecture = self.places.prefectures.get(prefs.pop())
            out.prefecture_inferred = True
        out.level = "prefecture" if out.prefecture is not None else "none"
        return None

    def _pref_name(self, muni: Place) -> str:
        pref = self.places.prefectures.get(muni.prefecture or "")
        return pref.name if pref else ""

    def _check_loaded(self, out: Geocoded, pref: str | None, muni: str | None = None) -> None:
        """Say so when the answer stops because the prefecture's ABR towns are not in the store."""
        if pref in self.places.loaded_prefectures and muni is None:
            return
        place = self.places.prefectures.get(pref or "")
        name = place.name if place else "?"
        out.not_loaded = True
        if muni is not None and pref in self.places.loaded_prefectures:
            m = self.places.municipalities[muni]
            out.error = f"the ABR towns (町字) of {name}{m.name} ({m.code}) are not loaded"
        else:
            out.error = (f"prefecture {name} ({place.code if place else '?'}) is not loaded: "
                         f"load its ABR town file (mt_town_pref{place.code[:2] if place else '??'})")

    def _street(self, out: Geocoded, town: str, rest: str, used: int) -> int:
        """街区 and 住居 numbers after the town, where 住居表示 data is loaded; the new ``used``."""
        m = _BLOCK.match(rest, used)
        if m is None:
            return used
        blocks = self.places.blocks(town)
        block = blocks.get(str(int(m.group(1)))) if blocks else None
        if block is None:
            return used
        out.block, out.level = block, "block"
        end = m.end() if m.group(2) else m.end(1)
        r = _RESIDENCE.match(rest, end)
        if r is None or not m.group(2):
            return end
        number = str(int(r.group(1)))
        if r.group(2):
            wanted = f"{number}-{int(r.group(2))}"
            if wanted in block.residences:
                out.residence, out.level = (wanted, block.residences[wanted]), "residence"
                return r.end()
        if number in block.residences:
            out.residence, out.level = (number, block.residences[number]), "residence"
            return r.end(3) if r.group(3) and not r.group(2) else r.end(1)
        return end

    def _point(self, out: Geocoded) -> Geocoded:
        """The representative point of the deepest entity that has one."""
        details = self.places.towns.details.get(out.town) if out.town else None
        for level, point in (("residence", out.residence[1].point if out.residence else None),
                             ("block", out.block.point if out.block else None),
                             ("town", Point.from_wkt(details.wkt) if details else None),
                             ("municipality", out.municipality.point if out.municipality else None),
                             ("prefecture", out.prefecture.point if out.prefecture else None)):
            if point is not None:
                out.point, out.point_level = point, level
                break
        return out
