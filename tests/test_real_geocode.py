"""The geocoder against the REAL ABR files and NTA addresses in ../shared/data/real (skipped when absent).

Every town of the real 和歌山県 release, written as people write its address, comes back as that
town; every real residence of the 住居表示 samples as that residence; and the geocoder agrees
with the corporation links on every real NTA address in a loaded municipality.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from kg.geocode import geocoder_for
from kg.link.addresses import TownIndex
from kg.load.pipeline import run_load
from kg.rdf.iri import Minter
from kg.settings import load_settings
from kg.store import open_home
from kg.text.normalize import address_key
from support import BASE, REAL

pytestmark = [pytest.mark.real, pytest.mark.engines]
M = Minter(BASE)
FILES = ("mt_pref_all.csv", "mt_pref_pos_all.csv", "mt_city_all.csv", "mt_city_pos_all.csv", "mt_town_pref30.csv",
         "mt_town_pos_pref30.csv", "mt_town_all__subset_131059_bunkyo.csv", "mt_town_all__subset_465054_yakushima.csv",
         "mt_rsdtdsp_rsdt_pref30__subset_302015_0001000_0023001.csv",
         "mt_rsdtdsp_rsdt_pos_pref30__subset_302015_0001000_0023001.csv",
         "mt_rsdtdsp_rsdt_pref13__subset_131059_0001001_0001003.csv",
         "mt_rsdtdsp_rsdt_pos_pref13__subset_131059_0001001_0001003.csv")


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def real(tmp_path_factory, module_backend):
    if not (REAL / "abr" / "mt_town_pref30.csv").exists():
        pytest.skip("../shared/data/real is not present")
    settings = load_settings({}, data_dir=str(tmp_path_factory.mktemp("real-geocode") / "d"), base_uri=BASE,
                             **(module_backend.overrides() if module_backend else {}))
    run_load(settings, "abr", [REAL / "abr" / name for name in FILES])
    store = open_home(settings, create=False).open_current()
    return store, geocoder_for(store, M)


def loaded_towns(store) -> set[str]:
    return {s["t"].value for s in store.query(f"SELECT ?t WHERE {{ ?t a <{M.term('Town')}> }}")}


def test_every_real_wakayama_town_written_as_an_address_comes_back(real):
    store, geocoder = real
    towns = loaded_towns(store)
    names = Counter()
    written = []
    for r in rows(REAL / "abr" / "mt_town_pref30.csv"):
        iri = str(M.town(r["lg_code"], r["machiaza_id"]))
        if iri not in towns or not (r["oaza_cho"] or r["koaza"]):   # rejected rows; a town with no name
            continue
        name = r["oaza_cho"] + r["chome"] + r["koaza"]
        names[(r["lg_code"], address_key(name))] += 1
        written.append((r, iri, name))
    wrong = []
    for r, iri, name in written:
        # one name twice in a municipality (同一町字識別情報 tells them apart; 海南市 has 大字小原 and 小原)
        if names[(r["lg_code"], address_key(name))] > 1:
            continue
        got = geocoder.geocode(f"和歌山県{r['county']}{r['city']}{name}１２３番地")
        if got.town != iri:
            wrong.append((name, got.level, got.town))
    assert len(written) > 3400 and wrong == []


def test_every_real_residence_comes_back(real):
    store, geocoder = real
    wrong, total = [], 0
    for name in ("mt_rsdtdsp_rsdt_pref30__subset_302015_0001000_0023001.csv",
                 "mt_rsdtdsp_rsdt_pref13__subset_131059_0001001_0001003.csv"):
        for r in rows(REAL / "abr" / name):
            number = r["rsdt_num"] + (f"-{r['rsdt_num2']}" if r["rsdt_num2"] else "")
            got = geocoder.geocode(f"{r['city']}{r['oaza_cho']}{r['chome']}{r['blk_num']}番{number}号")
            total += 1
            expected = str(M.residence(r["lg_code"], r["machiaza_id"], r["blk_id"], r["rsdt_id"], r["rsdt2_id"]))
            if got.residence is None or got.residence[1].iri != expected:
                wrong.append((r["city"], r["oaza_cho"], r["chome"], r["blk_num"], number, got.level))
    assert total > 1200 and wrong == []


def test_geocoder_and_links_agree_on_real_nta_addresses(real):
    store, geocoder = real
    index = TownIndex.from_store(store, M)
    compared = 0
    with open(REAL / "houjin" / "nta_diff_20210714_unicode.csv", encoding="utf-8-sig", newline="") as fh:
        for r in csv.reader(fh):
            muni = str(M.municipality_from_codes(r[13], r[14])) if r[13] and r[14] else None
            if muni is None or not index.has_towns(muni):
                continue
            level, town = index.match(muni, r[11])
            got = geocoder.geocode(r[9] + r[10] + r[11])
            assert (got.municipality.iri, got.town) == (muni, town), (r[9] + r[10] + r[11], got.level)
            compared += 1
    assert compared >= 15
