"""The change feed: every load records exactly what it added and removed, and /changes/ serves it.

A timeline of real-shaped loads (the bundled ABR sample, the NTA sample's full file, then three
diffs written as the NTA writes them: new, renamed, moved, closed, merged into a successor,
deleted, one corporation twice in a file) is replayed by a client of /changes/ onto the dump
taken after the full load, and must give the current dump quad for quad, in every graph.

On the embedded store and on each engine: the feed is kept locally beside either, from what a
load wrote. Tests that load more start from a few loads of their own (an engine's graphs cannot
be copied with the data directory).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from kg.load.pipeline import run_load
from kg.resources import package_dir
from kg.server import create_app
from kg.server.executor import InlineExecutor
from kg.settings import load_settings
from kg.store import open_home
from kg.store.changelog import ChangeLog
from kg.store.dump import dump_graphs

from support import BASE, number, nta_row, write_csv

AS2 = "https://www.w3.org/ns/activitystreams"
AS = rdflib.Namespace(AS2 + "#")
KG = rdflib.Namespace(BASE + "def/")
A, B, C = number("700000000101"), number("700000000102"), number("700000000103")
RENAMED, MOVED = "1010001072706", "1130001011420"       # in the NTA sample's full file
CLOSED, MERGED, DELETED = "1040001042029", "5010401092060", "5111101000006"
UNTOUCHED = "7000012050002"
FULL = package_dir("samples") / "houjin" / "00_sample_all_20210630.csv"

pytestmark = pytest.mark.engines


def corp(num: str) -> str:
    return f"{BASE}id/corporation/{num}"


def dump_sets(settings, out: Path) -> dict[str, set]:
    """The served generation as sets of quads per graph, read back from `kg dump`'s files."""
    store = open_home(settings, create=False).open_current()
    return {g: set(ox.parse(gzip.decompress(path.read_bytes()), format=ox.RdfFormat.N_QUADS))
            for g, path, _ in dump_graphs(store, out)}


def apply(state: dict[str, set], removed: bytes, added: bytes) -> None:
    """Apply one change; what it removes must be there, what it adds must not (a net difference)."""
    for q in ox.parse(removed, format=ox.RdfFormat.N_QUADS):
        graph = state.setdefault(q.graph_name.value, set())
        assert q in graph, f"removes a quad that was not there: {q}"
        graph.remove(q)
    for q in ox.parse(added, format=ox.RdfFormat.N_QUADS):
        graph = state.setdefault(q.graph_name.value, set())
        assert q not in graph, f"adds a quad that was already there: {q}"
        graph.add(q)


def nonempty(state: dict[str, set]) -> dict[str, set]:
    return {g: quads for g, quads in state.items() if quads}


def diffs(directory: Path) -> list[Path]:
    """Three days of NTA diffs (a change republishes the corporation's state with the file's date)."""
    day1 = [nta_row(1, RENAMED, process="12", update="2021-08-02", change="2021-08-01", name="東京増田医療器販売株式会社"),
            nta_row(2, MOVED, process="13", update="2021-08-02", change="2021-08-01", pref="京都府", city="京都市南区",
                    street="上鳥羽鉾立町１２番地", pref_code="26", city_code="107", post="6018501", name="任天堂株式会社"),
            nta_row(3, A, update="2021-08-02", change="2021-08-02", assigned="2021-08-02", name="株式会社湯島商店",
                    street="湯島２丁目６番２号"),
            nta_row(4, B, update="2021-08-02", change="2021-08-02", assigned="2021-08-02", name="株式会社春日工房",
                    street="春日１丁目１６－２１")]
    day2 = [nta_row(1, CLOSED, process="21", update="2021-08-03", change="2021-08-03", close="2021-08-03", cause="01",
                    name="千葉日野自動車株式会社", pref="千葉県", city="千葉市美浜区", street="新港１７７番地",
                    pref_code="12", city_code="106", post="2610002"),
            nta_row(2, MERGED, process="71", update="2021-08-03", change="2021-08-03", close="2021-08-03", cause="11",
                    successor=A, name="南関東日野自動車株式会社", city="港区", street="新橋５丁目１８番１号",
                    city_code="103", post="1050004"),
            nta_row(3, DELETED, process="99", update="2021-08-03", change="2021-08-03", name="株式会社検索対象除外",
                    city="千代田区", street="霞が関３丁目１－１", city_code="101"),
            nta_row(4, C, update="2021-08-03", change="2021-08-03", assigned="2021-08-03", name="株式会社本郷書房",
                    street="本郷１丁目")]
    day3 = [nta_row(1, A, process="12", update="2021-08-04", change="2021-08-04", assigned="2021-08-02",
                    name="株式会社湯島商会", street="湯島２丁目６番２号"),
            nta_row(2, B, process="99", update="2021-08-04", change="2021-08-04", name="株式会社春日工房",
                    street="春日１丁目１６－２１"),
            # the same corporation again further down the file (a concatenation of two diffs)
            nta_row(3, A, process="13", correct="1", update="2021-08-04", change="2021-08-04", assigned="2021-08-02",
                    name="株式会社湯島商会", street="湯島３丁目１番１号")]
    return [write_csv(directory / f"diff_2021080{i}.csv", rows) for i, rows in enumerate((day1, day2, day3), 2)]


@pytest.fixture(scope="module")
def timeline(tmp_path_factory, module_backend):
    """(settings, the dump after the full load, its generation, the diffs' generations, the diff files,
    the generations of the loads after them: ABR again (a full relink), laws twice (upserts of
    what they own), programs (program links))."""
    tmp = tmp_path_factory.mktemp("feed")
    settings = load_settings({}, data_dir=str(tmp / "data"), base_uri=BASE,
                             **(module_backend.overrides() if module_backend else {}))
    samples = package_dir("samples")
    run_load(settings, "abr", [samples / "abr"])
    full = run_load(settings, "houjin", [FULL])
    first = dump_sets(settings, tmp / "dump-first")
    files = diffs(tmp)
    generations = [run_load(settings, "houjin", [f]).generation for f in files]
    more = [run_load(settings, name, [samples / name]).generation for name in ("abr", "laws", "laws", "programs")]
    return settings, first, full.generation, generations, files, more


def client_for(settings, **overrides):
    settings = settings.with_overrides(**overrides) if overrides else settings
    return create_app(settings, executor=InlineExecutor(settings)).test_client()


def as_graph(client, doc: dict) -> rdflib.Graph:
    """A feed document read as JSON-LD, its AS2 context taken from the server (nothing from the internet)."""
    local = client.get("/changes/activitystreams.jsonld").get_json(force=True)["@context"]
    doc = dict(doc, **{"@context": [local if c == AS2 else c for c in doc["@context"]]})
    return rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")


def feed_generations(client) -> list[dict]:
    """Every change the feed lists, by walking its pages from `first` along `next`."""
    collection = client.get("/changes/").get_json(force=True)
    items, url = [], collection.get("first")
    while url:
        page = client.get(url.replace("http://localhost", "")).get_json(force=True)
        items += page["orderedItems"]
        url = page.get("next")
    return items


def test_replaying_the_feed_onto_the_first_dump_gives_the_current_dump(timeline, tmp_path):
    settings, first, first_gen, generations, _, more = timeline
    client = client_for(settings, changes_page_size=2)
    state = {g: set(q) for g, q in first.items()}
    later = [item for item in feed_generations(client) if item["generation"] > first_gen]
    assert [item["generation"] for item in later] == generations + more
    for item in later:
        assert item["recorded"] is True
        links = {link["rel"]: link["href"].replace("http://localhost", "") for link in item["url"]}
        files = {}
        for rel in ("removed", "added"):
            r = client.get(links[rel])
            assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
            files[rel] = gzip.decompress(r.data)
        apply(state, files["removed"], files["added"])
    current = dump_sets(settings, tmp_path / "dump-current")
    assert set(current) >= {BASE + f"graph/{name}" for name in ("houjin", "links", "meta", "abr", "laws", "programs")}
    for graph in set(current) | set(state):
        assert state.get(graph, set()) == current.get(graph, set()), graph
    assert nonempty(state) == current


def test_each_change_counts_and_touches_what_the_diff_changed(timeline):
    settings, _, _, generations, _, more = timeline
    log = ChangeLog(settings.data_path)
    current = generations[-1]
    day1, day2, day3 = (log.record(g, current) for g in generations)
    touched1 = set(log.entities(generations[0], 1000))
    assert {corp(n) for n in (RENAMED, MOVED, A, B)} <= touched1
    assert corp(UNTOUCHED) not in touched1 and corp(CLOSED) not in touched1
    touched2 = set(log.entities(generations[1], 1000))
    assert {corp(n) for n in (CLOSED, MERGED, DELETED, C)} <= touched2
    assert day2["graphs"][BASE + "graph/houjin"]["removed"] > 0   # the deleted corporation's description went
    assert set(log.entities(generations[2], 1000)) >= {corp(A), corp(B)}
    for record in (day1, day2, day3):
        assert record["dataset"] == BASE + "graph/houjin" and record["kind"] == "load"
        assert record["added"] == sum(c["added"] for c in record["graphs"].values())
    # the same laws again (articles and paragraphs rewritten): nothing changes but the load history
    assert set(log.record(more[2], more[-1])["graphs"]) == {BASE + "graph/meta"}
    # the same ABR files again: no address changes; relinking every corporation from nothing adds
    # no link (it may drop one that day 3's incremental relink left: corporation A, twice in one
    # file, kept the town of its first row)
    abr_again = log.record(more[0], more[-1])["graphs"]
    assert set(abr_again) <= {BASE + "graph/meta", BASE + "graph/links"}
    assert abr_again.get(BASE + "graph/links", {"added": 0})["added"] == 0
    # an entity's last change is the newest one that touched it
    assert log.last_change(corp(A), current) == generations[2]
    assert log.last_change(corp(CLOSED), current) == generations[1]
    assert log.last_change(corp(UNTOUCHED), current) is None or log.last_change(corp(UNTOUCHED), current) < generations[0]


def test_loading_the_same_diff_again_changes_no_data(settings, tmp_path):
    """Upserts remove and write back the same quads: the net difference of the data graphs is empty."""
    files = diffs(tmp_path)
    for path in (FULL, files[0], files[1]):
        run_load(settings, "houjin", [path])
    result = run_load(settings, "houjin", [files[1]])   # day 2 again: a closure, a merger, a deletion, a new one
    record = ChangeLog(settings.data_path).record(result.generation, result.generation)
    assert set(record["graphs"]) == {BASE + "graph/meta"}   # only the load's own provenance
    assert record["entities"] == 0


def test_replace_is_one_change_with_its_full_difference(settings, tmp_path):
    files = diffs(tmp_path)
    for path in (FULL, files[0], files[1]):
        run_load(settings, "houjin", [path])
    before = dump_sets(settings, tmp_path / "before")
    result = run_load(settings, "houjin", [FULL], replace=True)
    after = dump_sets(settings, tmp_path / "after")
    log = ChangeLog(settings.data_path)
    assert log.generations(result.generation)[-1] == result.generation
    record = log.record(result.generation, result.generation)
    assert record["mode"] == "replace" and record["previous"] != result.generation
    state = {g: set(q) for g, q in before.items()}
    apply(state, gzip.decompress(log.file(result.generation, "removed.nq.gz").read_bytes()),
          gzip.decompress(log.file(result.generation, "added.nq.gz").read_bytes()))
    assert nonempty(state) == after
    houjin = BASE + "graph/houjin"
    assert record["graphs"][houjin]["removed"] == len(before[houjin] - after[houjin]) > 0
    assert record["graphs"][houjin]["added"] == len(after[houjin] - before[houjin]) > 0
    assert corp(C) in log.entities(result.generation, 10_000)   # a diff's corporation the full file lacks


def test_relinking_records_only_what_changed(settings, cli):
    """`kg link` rebuilds graph/links from nothing; the feed records only the net difference
    (none, the second time)."""
    run_load(settings, "abr", [package_dir("samples") / "abr"])
    run_load(settings, "houjin", [FULL])
    log = ChangeLog(settings.data_path)
    for _ in range(2):
        out = cli("link")
        assert out.exit_code == 0, out.output
        current = open_home(settings, create=False).current_name()
        record = log.record(current, current)
        assert record["kind"] == "link" and set(record["graphs"]) <= {BASE + "graph/links"}
    assert record["added"] == 0 and record["removed"] == 0 and record["entities"] == 0


def test_feed_documents_are_activity_streams_json_ld(timeline):
    settings, _, _, generations, _, more = timeline
    client = client_for(settings, changes_page_size=2)
    r = client.get("/changes/")
    assert r.status_code == 200 and r.mimetype == "application/ld+json" and AS2 in r.headers["Content-Type"]
    collection = r.get_json(force=True)
    g = as_graph(client, collection)
    root = rdflib.URIRef("http://localhost/changes/")
    assert (root, rdflib.RDF.type, AS.OrderedCollection) in g
    total = g.value(root, AS.totalItems)
    assert total.datatype == rdflib.XSD.nonNegativeInteger and int(total) == len(feed_generations(client))
    assert str(g.value(root, KG.currentGeneration)) == more[-1]
    page = client.get(collection["last"].replace("http://localhost", "")).get_json(force=True)
    pg = as_graph(client, page)
    page_iri = rdflib.URIRef(page["id"])
    assert (page_iri, rdflib.RDF.type, AS.OrderedCollectionPage) in pg
    assert (page_iri, AS.partOf, root) in pg
    items = list(rdflib.collection.Collection(pg, pg.value(page_iri, AS.items)))
    assert [str(i) for i in items] == [item["id"] for item in page["orderedItems"]]
    change = client.get(f"/changes/{generations[0]}").get_json(force=True)
    cg = as_graph(client, change)
    act = rdflib.URIRef(change["id"])
    assert (act, rdflib.RDF.type, AS.Update) in cg
    assert cg.value(act, AS.published).datatype == rdflib.XSD.dateTime
    assert int(cg.value(act, KG.quadsAdded)) == change["quadsAdded"] > 0
    assert rdflib.URIRef(corp(A)) in set(cg.objects(act, KG.entityTouched))
    hrefs = {str(cg.value(link, AS.href)) for link in cg.objects(act, AS.url)}
    assert any(h.endswith(f"/changes/{generations[0]}/added.nq.gz") for h in hrefs)


def test_feed_paging_and_unknown_generations(timeline):
    settings, _, _, generations, _, more = timeline
    client = client_for(settings, changes_page_size=2)
    items = feed_generations(client)
    assert [i["generation"] for i in items] == sorted(i["generation"] for i in items)
    assert len(items) == len(generations) + len(more) + 2 and len({i["id"] for i in items}) == len(items)
    page1 = client.get("/changes/page/1").get_json(force=True)
    assert "prev" not in page1 and page1["next"].endswith("/changes/page/2") and len(page1["orderedItems"]) == 2
    for path in ("/changes/gen-000099", "/changes/gen-99", "/changes/page/0", "/changes/page/99",
                 f"/changes/{generations[0]}/other.nq.gz", "/changes/gen-000099/added.nq.gz"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.mimetype == "text/plain" and r.data.strip()


def test_retention_prunes_old_changes(settings, tmp_path):
    files = diffs(tmp_path)
    kept = settings.with_overrides(changes_retention=2)
    first, closing, _, last = (run_load(kept, "houjin", [path]).generation
                               for path in (FULL, files[1], files[0], files[2]))
    log = ChangeLog(settings.data_path)
    assert log.generations(last)[-1] == last and len(log.generations(last)) == 2
    assert not (settings.data_path / "changes" / first).exists()
    client = client_for(kept)
    assert client.get("/changes/").get_json(force=True)["totalItems"] == 2
    r = client.get(f"/changes/{first}")
    assert r.status_code == 410 and b"dump" in r.data
    assert client.get(f"/changes/{last}").status_code == 200
    assert log.last_change(corp(CLOSED), last) is None           # its change (day 2's) was pruned
    assert log.last_change(corp(A), last) == last


def test_entity_page_and_home_link_to_the_feed(timeline):
    settings, _, _, generations, _, more = timeline
    client = client_for(settings)
    log = ChangeLog(settings.data_path)
    last = log.last_change(corp(A), more[-1])
    assert last is not None and last >= generations[2]          # day 3, or the relink that followed
    page = client.get(f"/doc/corporation/{A}.html").get_data(as_text=True)
    assert f'href="/changes/{last}"' in page
    closed = client.get(f"/doc/corporation/{CLOSED}.html").get_data(as_text=True)
    assert f'href="/changes/{generations[1]}"' in closed
    assert 'href="/changes/"' in client.get("/").get_data(as_text=True)


def test_no_feed_when_retention_is_zero(settings):
    settings = settings.with_overrides(changes_retention=0)
    result = run_load(settings, "houjin", [FULL])
    assert ChangeLog(settings.data_path).generations(result.generation) == []
    assert not (settings.data_path / "changes").exists()


def test_a_sparql_update_is_listed_as_not_recorded(settings):
    settings = settings.with_overrides(update_token="secret")
    loaded = run_load(settings, "houjin", [FULL]).generation
    client = client_for(settings)
    r = client.post("/sparql", data=f"INSERT DATA {{ GRAPH <{BASE}graph/houjin> {{ <{corp(UNTOUCHED)}> <{BASE}def/x> 1 }} }}",
                    headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer secret"})
    assert r.status_code in (200, 204), r.data
    current = open_home(settings, create=False).current_name()
    assert current > loaded
    change = client.get(f"/changes/{current}").get_json(force=True)
    assert change["recorded"] is False and change["previousGeneration"] == loaded
    assert "url" not in change and "dump" in change["summary"]
    assert client.get(f"/changes/{current}/added.nq.gz").status_code == 404


@pytest.mark.parametrize("order", ["ascending", "shuffled"])
def test_a_change_records_each_touched_entity_once_whatever_their_order(tmp_path, order):
    """Entities ascending (a national file sorted by corporate number) go straight into the index,
    any others through a sort first (12.4 s → 2.7 s for a million shuffled ones); either way the
    record lists each once, in IRI order, and the last change of each is found."""
    import random

    iris = [f"{BASE}id/corporation/{n:013d}" for n in range(1, 1201)]
    given = iris + iris[:5] if order == "ascending" else random.Random(7).sample(iris, len(iris)) + iris[:5]
    if order == "ascending":
        given = sorted(given)
    log = ChangeLog(tmp_path)
    log.commit(log.stage(), {"generation": "gen-000001"}, iter(given))
    assert log.entities("gen-000001", 5000) == iris
    assert log.record("gen-000001", "gen-000001")["entities"] == 1200
    log.commit(log.stage(), {"generation": "gen-000002"}, iter([iris[7], iris[3]]))
    assert log.entities("gen-000002", 10) == [iris[3], iris[7]]
    assert log.last_change(iris[7], "gen-000002") == "gen-000002"
    assert log.last_change(iris[8], "gen-000002") == "gen-000001"
