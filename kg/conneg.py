"""Content negotiation, in one place: Accept headers with q-values and wildcards, and suffixes.

>>> best_match("text/turtle;q=0.5, application/ld+json", ["text/turtle", "application/ld+json"])
'application/ld+json'
>>> best_match("text/*;q=0.9, */*;q=0.1", ["application/rdf+xml", "text/turtle"])
'text/turtle'
>>> best_match("image/png", ["text/turtle"]) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    params: tuple[tuple[str, str], ...]

    def matches(self, media_type: str) -> int:
        """Specificity of the match (3 exact, 2 type/*, 1 */*), 0 when it does not match."""
        t, _, s = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type == t and self.subtype == "*":
            return 2
        if self.type == t and self.subtype == s:
            return 3
        return 0


def parse_accept(header: str | None) -> list[MediaRange]:
    if not header or not header.strip():
        return [MediaRange("*", "*", 1.0, ())]
    ranges = []
    for part in header.split(","):
        part = part.strip()
        if not part:
            continue
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if "/" not in media:
            media = media + "/*" if media == "*" else media + "/*"
        t, _, s = media.partition("/")
        q = 1.0
        params = []
        for p in pieces[1:]:
            k, _, v = p.partition("=")
            k = k.strip().lower()
            if k == "q":
                try:
                    q = max(0.0, min(1.0, float(v)))
                except ValueError:
                    q = 0.0
            else:
                params.append((k, v.strip().strip('"')))
        ranges.append(MediaRange(t, s or "*", q, tuple(params)))
    return ranges


def best_match(header: str | None, offered: list[str]) -> str | None:
    """The offered type the client prefers most (ties go to the server's order), None if none."""
    ranges = parse_accept(header)
    best: tuple[float, int, int] | None = None
    choice = None
    for index, media_type in enumerate(offered):
        quality, specificity = 0.0, 0
        for r in ranges:
            spec = r.matches(media_type)
            if spec > specificity:
                specificity, quality = spec, r.q
        if specificity and quality > 0:
            key = (quality, specificity, -index)
            if best is None or key > best:
                best, choice = key, media_type
    return choice
