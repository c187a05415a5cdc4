"""Load-time statistics (kg.load.statistics): the cubes in graph/statistics answer the researchers'
aggregates exactly as the live aggregate over the data does, after fresh loads, diffs (renames,
moves, closures, mergers, deletions, new corporations), an ABR load that relinks everything,
`kg link`, and a load that finds them missing and counts them in the store."""

from __future__ import annotations

import pytest

from kg.load import statistics
from kg.load.pipeline import run_load
from kg.rdf import ROV
from kg.rdf.iri import Minter
from kg.resources import package_dir
from kg.store import open_home

from support import BASE, load_demo, nta_row, number, write_csv

M = Minter(BASE)
pytestmark = pytest.mark.engines
HOUJIN, LINKS, STATS = M.graph("houjin"), M.graph("links"), M.graph("statistics")
RO = ROV.RegisteredOrganization
KG = M.def_
QB = "http://purl.org/linked-data/cube#"


def _rows(store, sparql: str, *names: str) -> set[tuple]:
    out = set()
    for s in store.query(sparql):
        out.add(tuple("" if s[n] is None else s[n].value for n in names))
    return out


def live(store) -> dict[str, set[tuple]]:
    """The aggregates as a researcher writes them over the data graphs."""
    return {
        "prefecture-kind-status": _rows(store, f"""SELECT ?pref ?kind ?status (STR(COUNT(?c)) AS ?n) WHERE {{
            GRAPH <{HOUJIN}> {{ ?c a <{RO}> OPTIONAL {{ ?c <{KG}prefecture> ?pref }}
              OPTIONAL {{ ?c <{ROV.orgType}> ?kind }} OPTIONAL {{ ?c <{ROV.orgStatus}> ?status }} }}
            }} GROUP BY ?pref ?kind ?status""", "pref", "kind", "status", "n"),
        "closures": _rows(store, f"""SELECT ?year ?cause (STR(COUNT(?c)) AS ?n) WHERE {{
            GRAPH <{HOUJIN}> {{ ?c a <{RO}> ; <{KG}closeDate> ?d OPTIONAL {{ ?c <{KG}closeCause> ?cause }} }}
            BIND(SUBSTR(STR(?d), 1, 4) AS ?year) }} GROUP BY ?year ?cause""", "year", "cause", "n"),
        "municipality": _rows(store, f"""SELECT ?muni (STR(COUNT(?c)) AS ?n) WHERE {{
            GRAPH <{HOUJIN}> {{ ?c a <{RO}> OPTIONAL {{ ?c <{KG}municipality> ?muni }} }} }} GROUP BY ?muni""",
                              "muni", "n"),
        "municipality-linked": _rows(store, f"""SELECT ?muni (STR(COUNT(DISTINCT ?c)) AS ?n) WHERE {{
            GRAPH <{HOUJIN}> {{ ?c a <{RO}> ; <{KG}municipality> ?muni }} GRAPH <{LINKS}> {{ ?c <{KG}town> ?t }}
            }} GROUP BY ?muni""", "muni", "n"),
        "match-level": _rows(store, f"""SELECT ?level (STR(COUNT(DISTINCT ?c)) AS ?n) WHERE {{
            GRAPH <{LINKS}> {{ ?c <{KG}addressMatchLevel> ?level }} }} GROUP BY ?level""", "level", "n"),
    }


def cubes(store) -> dict[str, set[tuple]]:
    """The same aggregates read from graph/statistics, as the README's queries read them."""
    out = {}
    for name, cube in statistics.CUBES.items():
        dims = " ".join(f"OPTIONAL {{ ?o <{KG}{d}> ?d{i} }}" for i, d in enumerate(cube.dimensions))
        names = [f"d{i}" for i in range(len(cube.dimensions))]
        out[name] = _rows(store, f"""SELECT * WHERE {{ GRAPH <{STATS}> {{
            ?o <{QB}dataSet> <{statistics.dataset_iri(M, name)}> ; <{KG}{cube.measure}> ?n {dims} }} }}""", *names, "n")
    return out


def assert_cubes_are_the_live_aggregates(settings) -> dict[str, set[tuple]]:
    store = open_home(settings, create=False).open_current()
    found, want = cubes(store), live(store)
    assert found == want
    return found


def _diff(tmp_path):
    """Moved to another prefecture (one of them linked to a 町字 before), closed by merger,
    deleted, and a new corporation."""
    merger = "令和３年７月１日東京都港区新橋五丁目１８番１号南関東日野自動車株式会社（5010401092060）に合併し解散"
    return write_csv(tmp_path / "diff_20250106.csv", [
        nta_row(1, "7000012050002", process="12", update="2025-01-06", change="2025-01-06", name="国税庁",
                kind="101", pref="千葉県", city="千葉市美浜区", street="新港１７７番地", pref_code="12", city_code="106"),
        nta_row(2, "1040001042029", process="21", update="2025-01-06", change="2024-07-12", close="2024-07-12",
                cause="11", successor="5010401092060", change_cause=merger, name="千葉日野自動車株式会社", pref="千葉県",
                city="千葉市美浜区", street="新港１７７番地", pref_code="12", city_code="106"),
        nta_row(3, "5111101000006", process="99", update="2025-01-06", name="株式会社検索対象除外"),
        # linked to a 町字 of 文京区 in the demo: moves to a municipality without ABR towns
        nta_row(5, "1010001072706", process="13", update="2025-01-06", change="2025-01-06", name="東京増田医療器株式会社",
                pref="千葉県", city="千葉市美浜区", street="新港１７７番地", pref_code="12", city_code="106"),
        nta_row(4, number("010001000006"), update="2025-01-06", change="2025-01-06", assigned="2025-01-06",
                name="株式会社新設", city="千代田区", street="霞が関１丁目１番１号", city_code="101"),
    ])


def test_the_cubes_follow_every_kind_of_load(tmp_path, data_dir, backend, cli):
    settings = load_demo(data_dir, backend)
    first = assert_cubes_are_the_live_aggregates(settings)
    assert first["municipality-linked"], "the demo links some corporations to a 町字"
    assert any(year for year, _, _ in first["closures"])
    assert {level for level, _ in first["match-level"]} >= {str(M.code("address-match-level", "town"))}

    result = run_load(settings, "houjin", [package_dir("samples") / "houjin" / "diff_20210714.csv"])
    assert result.stats.tally.counts is not None  # carried, not counted
    assert_cubes_are_the_live_aggregates(settings)
    run_load(settings, "houjin", [_diff(tmp_path)])
    after = assert_cubes_are_the_live_aggregates(settings)
    bunkyo = str(M.municipality("131059"))
    linked = {dict(first["municipality-linked"])[bunkyo], dict(after["municipality-linked"])[bunkyo]}
    assert linked == {"2", "1"} and dict(after["municipality-linked"])[bunkyo] == "1"  # one moved away
    run_load(settings, "abr", [package_dir("samples") / "abr"])  # relinks every corporation
    assert assert_cubes_are_the_live_aggregates(settings) == after
    assert cli("link").exit_code == 0
    assert assert_cubes_are_the_live_aggregates(settings) == after


def test_a_load_that_finds_no_cubes_counts_them(tmp_path, data_dir, backend):
    settings = load_demo(data_dir, backend)
    with open_home(settings).build() as build:  # as a SPARQL Update leaves them (kg.server.handler)
        build.store.remove_graph(STATS)
    result = run_load(settings, "houjin", [_diff(tmp_path)])
    assert result.stats.tally.counts is None
    assert_cubes_are_the_live_aggregates(settings)
    result = run_load(settings, "houjin", [package_dir("samples") / "houjin" / "diff_20210714.csv"])
    assert result.stats.tally.counts is not None
    assert_cubes_are_the_live_aggregates(settings)


def test_a_cube_an_older_kg_did_not_keep_is_counted(tmp_path, data_dir, backend):
    """Statistics written before the match-level cube existed: the load does not carry the
    others and start that one from zero, it counts them all."""
    from kg.store.interface import Quad

    settings = load_demo(data_dir, backend)
    ds = statistics.dataset_iri(M, "match-level")
    with open_home(settings).build() as build:
        store = build.store
        old = [q for q in store.quads(None, None, None, STATS)
               if str(q.subject) == str(ds) or str(q.object) == str(ds)
               or str(q.subject).startswith(str(ds) + "#")]
        assert old
        store.remove([Quad(q.subject, q.predicate, q.object, STATS) for q in old])
    result = run_load(settings, "houjin", [package_dir("samples") / "houjin" / "diff_20210714.csv"])
    assert result.stats.tally.counts is None
    assert assert_cubes_are_the_live_aggregates(settings)["match-level"]


def test_a_replace_counts_from_zero(tmp_path, data_dir, backend):
    settings = load_demo(data_dir, backend)
    result = run_load(settings, "houjin", [_diff(tmp_path)], replace=True)
    found = assert_cubes_are_the_live_aggregates(settings)
    # the moved, the merged and the new corporation (the deletion had nothing to delete)
    assert result.stats.rejected == 0
    assert sum(int(n) for *_, n in found["municipality"]) == 4
    assert found["closures"] == {("2024", str(M.code("close-cause", "11")), "1")}


# ---- hub counts (kg.store.hubs): carried forward by a diff, equal to counting them now -----------

def _hub_counts_now(settings) -> dict[str, dict[str, int]]:
    from kg.store.describe import incoming_counts
    from kg.store.hubs import read_hubs

    home = open_home(settings, create=False)
    recorded = read_hubs(home.current_path())
    store = home.open_current()
    return recorded, {iri: incoming_counts(store, iri) for iri in recorded}


def test_a_diff_carries_the_hub_counts_forward(tmp_path, data_dir, backend, cli):
    """With every entity linked to twice a hub (KG_HUB_MIN=2), each load's hub counts equal the
    links counted in the store after it: diffs move them by what they wrote and relinked (a
    corporation moved, closed, deleted, new; a local government's area), the small graphs a load
    rewrites are counted again."""
    settings = load_demo(data_dir, backend, hub_min=2)
    recorded, now = _hub_counts_now(settings)
    assert len(recorded) > 20 and recorded == now
    for files in ([package_dir("samples") / "houjin" / "diff_20210714.csv"], [_diff(tmp_path)],
                  [package_dir("samples") / "laws"], [package_dir("samples") / "programs"]):
        run_load(settings, "houjin" if files[0].is_file() else files[0].name, files)
        recorded, now = _hub_counts_now(settings)
        assert recorded == now, files
    tokyo = str(M.prefecture("130001"))
    assert recorded[tokyo][f"{KG}prefecture"] >= 2
