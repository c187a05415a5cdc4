"""Property-style: random sequences of NTA diffs and of ABR releases, loaded in random order and
groupings; after every load, ``kg validate`` finds nothing the load accepted, and the newest state
wins.

The diffs are written as the NTA writes them (see ../shared/data/real/houjin): a change
republishes the corporation's whole history with ``correct=1`` and the file's date on every row,
a closure names a successor, a deletion is process 99, and a file may hold one corporation twice
(a concatenation of two diffs). ABR releases are written as the Digital Agency writes them (see
../shared/data/real/abr): town rows copied or given twice with different flags, ``_pos`` and
parcel rows for towns that no town file holds. Seeds are fixed so a failure is reproducible.

Every backend runs them; an engine the first seeds only (a load there costs ~10x an embedded
one, and the suite has ten minutes).
"""

from __future__ import annotations

import random

import pytest

from kg.load.pipeline import run_load
from kg.rdf.iri import Minter
from kg.settings import load_settings
from kg.store import open_home
from kg.validation.integrity import dangling
from kg.validation.revalidate import revalidate
from support import BASE, number, nta_row, run_query, write_csv

M = Minter(BASE)
pytestmark = pytest.mark.engines

#: seeds an engine runs (the embedded store runs them all)
ENGINE_SEEDS = 3


def _settings(tmp_path, backend, rng: random.Random, seed: int):
    """The test's settings: a random pending-entity budget; on an engine, the first seeds only."""
    if backend is not None and seed >= ENGINE_SEEDS:
        pytest.skip(f"seeds from {ENGINE_SEEDS} run on the embedded store only")
    return load_settings({"KG_PENDING_ENTITIES": str(rng.choice([1, 3, 200_000]))}, data_dir=str(tmp_path / "data"),
                         base_uri=BASE, **(backend.overrides() if backend else {}))


class Timeline:
    """Corporations and what happens to them, one diff file per day."""

    def __init__(self, rng: random.Random, corporations: int = 6):
        self.rng = rng
        self.numbers = [number(f"{7_000_000_000_00 + rng.randrange(10**10):012d}") for _ in range(corporations)]
        self.history: dict[str, list[dict]] = {n: [] for n in self.numbers}  # states, oldest first
        self.deleted: set[str] = set()
        self.files: list[tuple[str, list[list[str]]]] = []

    def _rows(self, num: str, date: str, correct: str, start: int) -> list[list[str]]:
        states = self.history[num]
        return [nta_row(start + i, num, update=date, correct=correct, latest="1" if i == len(states) - 1 else "0",
                        **state) for i, state in enumerate(states)]

    def day(self, d: int) -> None:
        date = f"2021-07-{d:02d}"
        rows: list[list[str]] = []
        live = [n for n in self.numbers if n not in self.deleted]
        for num in self.rng.sample(live, k=min(len(live), self.rng.randint(1, 4))):
            states = self.history[num]
            event = "new" if not states else self.rng.choice(["rename", "move", "correct", "close", "delete", "again"])
            if event == "new" or (event in ("close", "delete") and states[-1].get("close")):
                event = "new" if not states else "correct"
            if event == "new":
                states.append(dict(process="01", change="2015-10-05", name=f"株式会社{num[-4:]}"))
            elif event == "rename":
                states.append({**states[-1], "process": "12", "change": date, "name": states[-1]["name"] + "新"})
            elif event == "move":
                states.append({**states[-1], "process": "13", "change": date, "street": f"本郷{d}丁目"})
            elif event == "close":
                successor = self.rng.choice([n for n in self.numbers if n != num])
                states.append({**states[-1], "process": "21", "change": date, "close": date, "cause": "11",
                               "successor": successor})
            elif event == "delete":
                rows.append(nta_row(len(rows) + 1, num, process="99", update=date, change=date,
                                    name=states[-1]["name"]))
                self.deleted.add(num)
                continue
            correct = "1" if event in ("correct", "again") else "0"
            rows.extend(self._rows(num, date, correct, len(rows) + 1))
            if event == "again":  # the same corporation again further down the file
                rows.append(None)  # placeholder: filled after sorting
        # NTA files are sorted by number; a repeat ("again") is appended after the rest
        body = sorted((r for r in rows if r is not None), key=lambda r: r[1])
        for num in [n for n in self.numbers if n not in self.deleted]:
            if any(r is None for r in rows) and self.history[num] and self.rng.random() < 0.3:
                body.extend(self._rows(num, date, "1", len(body) + 1))
        if body:
            self.files.append((f"diff_{date.replace('-', '')}.csv", body))

    def newest(self) -> dict[str, str]:
        """Expected legal name of every corporation not deleted (the newest file wins)."""
        return {n: s[-1]["name"] for n, s in self.history.items() if s and n not in self.deleted}


def _names(store) -> dict[str, str]:
    return {r["c"].value.rsplit("/", 1)[-1]: r["n"].value for r in run_query(
        store, "SELECT ?c ?n WHERE { ?c a rov:RegisteredOrganization ; rov:legalName ?n FILTER(lang(?n) = 'ja') }", M)}


def _check(settings) -> None:
    store = open_home(settings).open_current()
    _, violations = revalidate(store, "houjin", M)
    assert violations == [], [(v.focus, v.path, v.message) for v in violations[:5]]
    problems = [d.message(M) for d in dangling(store, "houjin", M) if d.problem]
    assert problems == []


@pytest.mark.parametrize("seed", range(8))
def test_random_diffs_in_random_order_validate_after_every_load(tmp_path, backend, seed):
    rng = random.Random(seed)
    timeline = Timeline(rng)
    for d in range(1, 1 + rng.randint(4, 8)):
        timeline.day(d)
    paths = [write_csv(tmp_path / name, rows) for name, rows in timeline.files]
    settings = _settings(tmp_path, backend, rng, seed)
    in_order = seed % 2 == 0
    order = list(paths) if in_order else rng.sample(paths, len(paths))
    while order:  # some files alone, some several to one load
        take = rng.randint(1, 3)
        group, order = order[:take], order[take:]
        result = run_load(settings, "houjin", group)
        assert result.stats.rejected == 0
        _check(settings)
    store = open_home(settings).open_current()
    names = _names(store)
    if in_order:
        assert names == timeline.newest()
    else:  # a deletion loaded before an older file may be undone by it; everything else holds
        expected = timeline.newest()
        assert {n: v for n, v in names.items() if n in expected} == expected


# ---- ABR: releases with duplicates, conflicts, points and parcels for towns never loaded ---------

from support import abr_rows as A  # noqa: E402

WAKAYAMA_SHI = "302015"


class Releases:
    """ABR files of 和歌山市 as successive releases publish them: each town file a random subset of
    the towns (a row may be copied, or given twice with different flags), each point and parcel file
    for towns of any release, including towns that no town file holds (as real ``_pos`` files do)."""

    def __init__(self, rng: random.Random, towns: int = 8):
        self.rng = rng
        self.ids = [f"{i:04d}000" for i in range(1, towns + 1)]
        self.files: list[tuple[str, str]] = []  # (release/name, csv text)
        self.conflicts: dict[str, set[str]] = {}  # file -> keys given twice with different values

    def town(self, mid: str, release: int) -> dict[str, str]:
        return A.town(WAKAYAMA_SHI, mid, "1", A.WAKAYAMA_SHI, f"町{mid[:4]}", "マチ", "Machi",
                      post=f"640{release:02d}{mid[2:4]}")

    def release(self, r: int) -> None:
        rng = self.rng
        present = sorted(rng.sample(self.ids, k=rng.randint(2, len(self.ids) - 2)))
        rows, conflicted = [], set()
        for mid in present:
            row = self.town(mid, r)
            rows.append(row)
            twice = rng.random()
            if twice < 0.15:
                rows.append(dict(row))  # an exact copy: loads once
            elif twice < 0.3:
                rows.append({**row, "rsdt_addr_flg": "1", "rsdt_addr_mtd_code": "1"})  # a conflict: both rejected
                conflicted.add(f"{WAKAYAMA_SHI}-{mid}")
        self._add(r, "mt_town_pref30.csv", A.TOWN, rows, conflicted)
        pointed = sorted(rng.sample(self.ids, k=rng.randint(1, len(self.ids))))  # any town, loaded or not
        self._add(r, "mt_town_pos_pref30.csv", A.TOWN_POS, [
            dict(lg_code=WAKAYAMA_SHI, machiaza_id=mid, rsdt_addr_flg="0", rep_lon=f"135.{r}{i:03d}",
                 rep_lat=f"34.{r}{i:03d}", rep_srid="EPSG:6668", rep_src_code="1") for i, mid in enumerate(pointed)])
        lots = sorted(rng.sample(self.ids, k=rng.randint(1, 3)))
        self._add(r, f"mt_parcel_city{WAKAYAMA_SHI}.csv", A.PARCEL, [
            dict(lg_code=WAKAYAMA_SHI, machiaza_id=mid, prc_id=f"{n:05d}0000000000", prc_num1=str(n),
                 rsdt_addr_flg="0", prc_rec_flg="1", efct_date=A.D, src_code="1")
            for mid in lots for n in range(1, rng.randint(2, 4))])

    def _add(self, r: int, name: str, columns, rows, conflicted=frozenset()) -> None:
        path = f"r{r}/{name}"
        self.files.append((path, A.csv_text(columns, rows)))
        self.conflicts[path] = set(conflicted)


def _untyped_subjects(store) -> list[str]:
    """Subjects of the ABR graph with no rdf:type: a phantom made by a row whose entity never arrived."""
    return [r["s"].value for r in run_query(store, f"""
        SELECT DISTINCT ?s WHERE {{ GRAPH <{M.graph('abr')}> {{ ?s ?p ?o FILTER NOT EXISTS {{ ?s a ?t }} }} }}""", M)]


@pytest.mark.parametrize("seed", range(6))
def test_random_abr_releases_in_random_order_validate_after_every_load(tmp_path, backend, seed):
    from kg.load.report import read_report

    rng = random.Random(1000 + seed)
    releases = Releases(rng)
    for r in range(1, rng.randint(2, 4) + 1):
        releases.release(r)
    paths = {}
    for rel, text in releases.files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
        paths[rel] = tmp_path / rel
    base = A.write_all(tmp_path / "base", ["mt_pref_all.csv", "mt_city_all.csv"])
    settings = _settings(tmp_path, backend, rng, seed)
    order = rng.sample(list(paths), len(paths))
    if seed % 3:  # the base files first; otherwise somewhere in between, so towns meet a missing city
        run_load(settings, "abr", base)
    else:
        order.insert(rng.randrange(len(order) + 1), "base")
    while order:
        take = rng.randint(1, 3)
        group, order = order[:take], order[take:]
        files = [p for rel in group for p in (base if rel == "base" else [paths[rel]])]
        result = run_load(settings, "abr", files)
        store = open_home(settings).open_current()
        _, violations = revalidate(store, "abr", M)
        assert violations == [], [(v.focus, v.path, v.message) for v in violations[:5]]
        assert [d.message(M) for d in dangling(store, "abr", M) if d.problem] == []
        assert _untyped_subjects(store) == []
        reported = read_report(result.report_path) if result.report_path else []
        for rel in group:
            name = rel.rsplit("/", 1)[-1]
            conflicted = {r["key"] for r in reported if r["constraint"] == "conflict" and r["source"] == name}
            assert releases.conflicts.get(rel, set()) <= conflicted, rel
        for rel in group:  # a conflicting key never reaches the store with two flags
            for key in releases.conflicts.get(rel, ()):
                town = M.town(*key.split("-"))
                flags = list(run_query(store, f"SELECT ?f WHERE {{ <{town}> <{M.term('residentialAddressIndication')}> ?f }}", M))
                assert len(flags) <= 1, (rel, key)
