"""Geocoding: free-text Japanese addresses → ABR 町字 (and 街区/住居) with a representative point.

* :mod:`kg.geocode.places` -- the gazetteer of one store generation (prefectures, municipalities,
  the links' town index with labels and points, 住居表示 blocks and residences on first use);
* :mod:`kg.geocode.matcher` -- reading an address left to right into that gazetteer;
* :mod:`kg.geocode.formats` -- batches in (CSV, JSON lines, lines), answers out (GeoJSON, CSV).

The town matching is :class:`kg.link.addresses.TownIndex`, the same code that links corporations
to their 町字, so the links and the geocoder read addresses alike.
"""

from __future__ import annotations

from kg.geocode.matcher import LEVELS, Geocoded, Geocoder
from kg.geocode.places import Places
from kg.rdf.iri import Minter
from kg.store.interface import ReadStore


def geocoder_for(store: ReadStore, m: Minter, *, block_cache: int = 10_000, max_length: int = 500) -> Geocoder:
    """A geocoder over one store generation (reads its ABR data once; blocks on first use)."""
    return Geocoder(Places(store, m, block_cache=block_cache), max_length=max_length)


__all__ = ["LEVELS", "Geocoded", "Geocoder", "Places", "geocoder_for"]
