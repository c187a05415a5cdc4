"""Property-style: random sequences of NTA diffs, loaded in random order and groupings; after
every load, ``kg validate`` finds nothing the load accepted, and the newest state wins.

The diffs are written as the NTA writes them (see ../shared/data/real/houjin): a change
republishes the corporation's whole history with ``correct=1`` and the file's date on every row,
a closure names a successor, a deletion is process 99, and a file may hold one corporation twice
(a concatenation of two diffs). Seeds are fixed so a failure is reproducible.
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
    store = open_home(settings.data_path).open_current()
    _, violations = revalidate(store, "houjin", M)
    assert violations == [], [(v.focus, v.path, v.message) for v in violations[:5]]
    problems = [d.message(M) for d in dangling(store, "houjin", M) if d.problem]
    assert problems == []


@pytest.mark.parametrize("seed", range(8))
def test_random_diffs_in_random_order_validate_after_every_load(tmp_path, seed):
    rng = random.Random(seed)
    timeline = Timeline(rng)
    for d in range(1, 1 + rng.randint(4, 8)):
        timeline.day(d)
    paths = [write_csv(tmp_path / name, rows) for name, rows in timeline.files]
    settings = load_settings({"KG_PENDING_ENTITIES": str(rng.choice([1, 3, 200_000]))},
                             data_dir=str(tmp_path / "data"), base_uri=BASE)
    in_order = seed % 2 == 0
    order = list(paths) if in_order else rng.sample(paths, len(paths))
    while order:  # some files alone, some several to one load
        take = rng.randint(1, 3)
        group, order = order[:take], order[take:]
        result = run_load(settings, "houjin", group)
        assert result.stats.rejected == 0
        _check(settings)
    store = open_home(settings.data_path).open_current()
    names = _names(store)
    if in_order:
        assert names == timeline.newest()
    else:  # a deletion loaded before an older file may be undone by it; everything else holds
        expected = timeline.newest()
        assert {n: v for n, v in names.items() if n in expected} == expected
