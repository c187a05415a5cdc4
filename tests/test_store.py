"""Atomic loads: a failed or killed load leaves the previous generation served and no debris.

Run against the embedded store and each remote engine (``engines``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kg.rdf.iri import Minter
from kg.load.pipeline import run_load
from kg.store import open_home
from support import run_query
from kg.errors import StoreBusy

from support import BASE, number, nta_row, write_csv

M = Minter(BASE)
pytestmark = pytest.mark.engines


def _debris(home, backend) -> list[str]:
    """What a build left that no served generation uses: local directories, engine graphs (as
    the engine lists them, not as the project's journal says)."""
    current = home.current_name()
    left = [p.name for p in home.gens.iterdir() if p.name != current and not _previous(home, p.name)]
    if backend is not None:
        _, previous, views = home.state()
        used = {g for n in (current, previous) if n for g in views.get(n, {}).values()}
        left += [g for g in backend.graphs() if "/gen-" in g and g not in used]
    return left


def _previous(home, name: str) -> bool:
    current = home.current_name()
    older = sorted(p.name for p in home.gens.iterdir() if p.name < (current or ""))
    return bool(older) and older[-1] == name


def test_build_switches_only_on_success(settings, backend):
    gens = open_home(settings)
    assert gens.open_current() is None
    with gens.build() as b:
        b.store.add(text='<http://x/s> <http://x/p> "1" <http://x/g> .\n')
    first = gens.current_name()
    with pytest.raises(RuntimeError):
        with gens.build() as b:
            b.store.add(text='<http://x/s> <http://x/p> "2" <http://x/g> .\n')
            raise RuntimeError("load failed")
    assert gens.current_name() == first
    assert len(list(gens.open_current().quads())) == 1
    assert [p.name for p in gens.gens.iterdir()] == [first]
    assert _debris(gens, backend) == []  # a failed build leaves nothing behind, on disk or on the engine


def test_a_build_pays_its_compaction_before_it_is_served(settings, backend, monkeypatch):
    """The embedded build flushes before the switch: after a national bulk load, RocksDB's
    level-0 compactions are pending and a flush waits for them. Left to the next build, its first
    write paid them (the daily diff after 5.3M corporations, bench/README.md session 23)."""
    from kg.store.oxigraph import OxStore

    if backend is not None:
        pytest.skip("an engine compacts what it was sent on its own side, and is measured in bench/")
    gens = open_home(settings)
    with gens.build() as b:
        b.store.add(text='<http://x/s> <http://x/p> "1" <http://x/g> .\n')
    first = gens.current_name()
    served_at_flush = []
    flush = OxStore.flush
    monkeypatch.setattr(OxStore, "flush", lambda self: (served_at_flush.append(gens.current_name()), flush(self)))
    with gens.build() as b:
        b.store.update('INSERT DATA { GRAPH <http://x/g> { <http://x/s> <http://x/p> "2" } }')
    assert served_at_flush == [first]  # once, while the previous generation was still the one served
    assert gens.current_name() != first and len(list(gens.open_current().quads())) == 2


def test_replace_copies_other_graphs_and_drops_the_replaced_one(settings):
    gens = open_home(settings)
    with gens.build() as b:
        for g in ("a", "b"):
            b.store.add(text=f'<http://x/s> <http://x/p> "{g}" <http://x/{g}> .\n')
    with gens.build(copy_all_except=["http://x/a"]) as b:
        assert set(b.store.named_graphs()) == {"http://x/b"}
    assert set(gens.open_current().named_graphs()) == {"http://x/b"}


def test_entities_at_once_are_each_entity_alone(settings, backend):
    """``entities`` of 1,200 IRIs (three of a remote engine's 500-subject requests) is ``entity``
    of each: fragment nodes followed to the second level, other entities' nodes left out, and a
    fragment that is also an entity of its own (a past record) in both."""
    lines = []
    for i in range(1200):
        e = f"http://x/e{i}"
        lines += [f'<{e}> <http://x/name> "名前{i}" <http://x/g> .', f"<{e}> <http://x/addr> <{e}#a> <http://x/g> .",
                  f'<{e}#a> <http://x/city> "市{i}" <http://x/g> .', f"<{e}#a> <http://x/point> <{e}#a-p> <http://x/g> .",
                  f'<{e}#a-p> <http://x/wkt> "POINT({i} 35)" <http://x/g> .',
                  f"<{e}> <http://x/other> <http://x/e{(i + 1) % 1200}#a> <http://x/g> .",
                  f'<{e}> <http://x/name> "elsewhere" <http://x/h> .']
    gens = open_home(settings)
    with gens.build() as b:
        b.store.add(text="\n".join(lines) + "\n")
    store = gens.open_current()
    iris = [f"http://x/e{i}" for i in range(1200)] + ["http://x/e7#a", "http://x/nothing"]
    at_once = store.entities(iris, "http://x/g")
    one_by_one = {iri: store.entity(iri, "http://x/g") for iri in iris}
    assert {k: sorted(map(str, v)) for k, v in at_once.items()} == {k: sorted(map(str, v)) for k, v in one_by_one.items()}
    assert len(at_once["http://x/e5"]) == 6 and len(at_once["http://x/e7#a"]) == 3 and at_once["http://x/nothing"] == []
    assert len(store.entities(["http://x/e5"])["http://x/e5"]) == 7  # every graph: the name in <h> too


def test_readers_keep_their_generation_while_a_new_one_is_built(settings, backend):
    gens = open_home(settings)
    with gens.build() as b:
        b.store.add(text='<http://x/s> <http://x/p> "1" <http://x/g> .\n')
    reader = gens.open_current()
    with gens.build() as b:
        b.store.add(text='<http://x/s> <http://x/p> "2" <http://x/g> .\n')
        assert len(list(b.store.quads())) == 2  # the build reads its own writes
        assert len(list(reader.quads())) == 1
    # embedded, the old handle still reads its (kept) generation; on an engine a graph that an
    # update changed is changed in place at the switch (atomically), so the old view sees it too
    assert len(list(reader.quads())) == (1 if backend is None else 2)
    assert len(list(gens.open_current().quads())) == 2


def test_an_update_on_an_engine_changes_only_what_it_touches(settings, backend, tmp_path, monkeypatch):
    """A diff neither copies nor rewrites the served dataset graph: its changes wait in two small
    graphs and the switch applies them; graphs it does not touch are shared."""
    if backend is None:
        pytest.skip("embedded generations are hard-linked checkpoints")
    rows = [nta_row(i, number(f"{i:012d}"), name=f"株式会社テスト{i}") for i in range(1, 41)]
    run_load(settings, "houjin", [write_csv(tmp_path / "full.csv", rows)])
    home = open_home(settings)
    name, _, views = home.state()
    served = views[name][M.graph("houjin")]
    changed = [nta_row(1, number(f"{3:012d}"), name="株式会社改名", change="2024-04-01", process="71")]
    from kg.store.remote import SparqlClient

    sent, update = [], SparqlClient.update
    monkeypatch.setattr(SparqlClient, "update", lambda self, text, **kw: (sent.append(text), update(self, text, **kw)))
    run_load(settings, "houjin", [write_csv(tmp_path / "diff.csv", changed)])
    switch = [t for t in sent if "currentGeneration" in t and "FILTER NOT EXISTS" in t]
    # Virtuoso is told to read each layer by its graph index, to apply it and to empty it (a DROP
    # among other operations costs it 5.7 s: kg.store.dialect); others get SPARQL 1.1
    layers = switch[0].count("FILTER NOT EXISTS") // 2 if len(switch) == 1 else None
    assert layers and switch[0].count('OPTION (TABLE_OPTION "index G")') == (4 * layers if backend.name == "virtuoso" else 0)
    assert switch[0].count("DROP SILENT") == (0 if backend.name == "virtuoso" else 2 * layers)
    name2, previous, views2 = home.state()
    assert (name2, previous) != (name, None) and previous == name
    assert views2[name2][M.graph("houjin")] == served  # the same engine graph, changed in place
    # nor is graph/meta, where it changes the dataset's summary: counting hubs' links there reads
    # through its layer (the statistics graph is written anew by every load, by design)
    assert views2[name2][M.graph("meta")] == views[name][M.graph("meta")]
    assert not [g for g in backend.graphs() if g.endswith(("/add", "/del"))]
    store = home.open_current()
    names = {q.object.value for q in store.quads(None, "http://www.w3.org/ns/regorg#legalName", None, M.graph("houjin"))
             if "#" not in q.subject}
    assert "株式会社改名" in names and "株式会社テスト3" not in names and len(names) == 40
    assert store.count(M.graph("houjin")) == home.open_current().count(M.graph("houjin"))


def test_an_upsert_removes_and_writes_only_what_changed(settings, backend, tmp_path, monkeypatch):
    """A renamed corporation loses its old name, not the ~20 triples its new description repeats:
    those stay in the store, neither removed nor written again (a national engine's daily diff
    spent most of its time removing and writing back unchanged triples). The result is the same
    as a full rewrite: the content digest is the graph's."""
    import kg.load.batches as batches

    rows = [nta_row(i, number(f"{i:012d}"), name=f"株式会社テスト{i}") for i in range(1, 6)]
    run_load(settings, "houjin", [write_csv(tmp_path / "full.csv", rows)])
    before = {(str(q.subject), q.predicate, q.object) for q in open_home(settings).open_current().quads(graph=M.graph("houjin"))}
    removed, written = [], []
    original_remove, original_write = batches.remove_descriptions, batches.write_batch

    class Spy:
        def __init__(self, store):
            self.store = store

        def __getattr__(self, name):
            return getattr(self.store, name)

        def remove(self, quads):
            quads = list(quads)
            removed.extend(quads)
            self.store.remove(quads)

    class Out:
        def __init__(self, out):
            self.out = out

        def write(self, text):
            written.append(text)
            self.out.write(text)

    monkeypatch.setattr(batches, "remove_descriptions", lambda store, *a, **k: original_remove(Spy(store), *a, **k))
    monkeypatch.setattr(batches, "write_batch", lambda b, store, g, out, *a: original_write(b, store, g, Out(out), *a))
    corp = number(f"{3:012d}")
    changed = [nta_row(1, corp, name="株式会社改名", change="2024-04-01", process="71")]
    result = run_load(settings, "houjin", [write_csv(tmp_path / "diff.csv", changed)])
    assert result.stats.loaded == 1
    store = open_home(settings).open_current()
    after = {(str(q.subject), q.predicate, q.object) for q in store.quads(graph=M.graph("houjin"))}
    gone = before - after
    assert gone and {(str(q.subject), q.predicate, q.object) for q in removed} == gone
    assert any(o.value == "株式会社テスト3" for _, _, o in gone)
    written_lines = [line for text in written for line in text.splitlines() if line]
    assert len(written_lines) == len(after - before)  # each new triple once, nothing written back
    assert len(removed) < len([t for t in before if t[0] == M.corporation(corp)]) / 2
    names = {q.object.value for q in store.quads(M.corporation(corp), "http://www.w3.org/ns/regorg#legalName", None,
                                                 M.graph("houjin"))}
    assert "株式会社改名" in names and "株式会社テスト3" not in names
    from kg.load.digest import digest_lines
    from kg.load.provenance import recorded_digests
    from kg.rdf.terms import nquad

    graph = M.graph("houjin")
    lines = [nquad(q.subject, q.predicate, q.object, q.graph).encode() for q in store.quads(graph=graph)]
    assert recorded_digests(store, M)[graph] == digest_lines(lines)


def test_a_diff_that_removes_thousands_of_quads_is_taken_by_every_engine(settings, tmp_path):
    """A daily diff's removals go as DELETE DATA (through a layer on an engine: DELETE DATA and
    INSERT DATA); Virtuoso 7's parser refuses one naming ~5,000 quads (`SP030 … memory exhausted`),
    so requests stay under KG_SPARQL_UPDATE_QUADS."""
    rows = [nta_row(i, number(f"{i:012d}"), name=f"株式会社テスト{i}") for i in range(1, 301)]
    run_load(settings, "houjin", [write_csv(tmp_path / "full.csv", rows)])
    gone = [nta_row(i, number(f"{i:012d}"), process="99", name=f"株式会社テスト{i}", update="2024-04-01")
            for i in range(1, 241)]
    result = run_load(settings, "houjin", [write_csv(tmp_path / "diff.csv", gone)])
    assert result.stats.rejected == 0
    store = open_home(settings).open_current()
    names = {q.object.value for q in store.quads(None, "http://www.w3.org/ns/regorg#legalName", None, M.graph("houjin"))}
    assert len(names) == 60 and "株式会社テスト300" in names and "株式会社テスト1" not in names


def test_a_fresh_load_writes_only_by_graph_store_posts_after_its_records(settings, backend, tmp_path, monkeypatch):
    """After a national bulk load Oxigraph server holds every Update for minutes while it
    compacts, never a Graph Store POST (bench/README.md, sessions 20-21). So a fresh load readies
    before its records the graphs it writes after them (graph/meta, a served graph, is copied
    then rather than changed through a layer), writes them by POSTs, switches by one, and
    neither it nor the next start sends an Update when nothing is left to sweep."""
    if backend is None:
        pytest.skip("an engine's requests")
    from kg.load import pipeline
    from kg.store.remote import SparqlClient

    run_load(settings, "houjin", [write_csv(tmp_path / "first.csv", [nta_row(1, "7000012050002", name="国税庁")])])
    home = open_home(settings)
    before = home.current_name()
    sent: list[tuple[str, str]] = []
    records_written: list[int] = []
    load_records = pipeline._load_records
    monkeypatch.setattr(pipeline, "_load_records",
                        lambda *a, **k: (load_records(*a, **k), records_written.append(len(sent)))[0])
    for kind in ("update", "post_graph"):
        monkeypatch.setattr(SparqlClient, kind, lambda self, target, *a, _real=getattr(SparqlClient, kind), _kind=kind,
                            **k: (sent.append((_kind, target)), _real(self, target, *a, **k))[1])
    # ascending, as the NTA's files are: streamed, and linked while streamed (LinksAlongside)
    rows = [nta_row(i, n, name=f"株式会社テスト{i}") for i, n in enumerate(sorted(number(f"{i:012d}") for i in range(1, 41)))]
    run_load(settings, "houjin", [write_csv(tmp_path / "all.csv", rows)], replace=True)
    open_home(settings)  # a reader's start: its sweep finds nothing to do
    after = sent[records_written[0]:]
    assert [kind for kind, _ in after if kind == "update"] == [], after
    assert after[-1] == ("post_graph", str(M.generations_graph()))  # the switch
    name, previous, views = home.state()
    assert (name, previous) == ("gen-000002", before)
    assert views[name][M.graph("meta")] == str(M.engine_graph(M.graph("meta"), name))  # its own copy
    assert _debris(home, backend) == []
    store = home.open_current()
    assert len(run_query(store, "SELECT ?c WHERE { ?c rov:legalName ?n FILTER(lang(?n) = 'ja') }", M)) == 40


def test_the_highest_of_the_current_generations_is_served_and_the_older_are_swept(settings, backend, tmp_path):
    """A switch by a POST adds its generation beside the one it follows; the next sweep with
    work (here the third load's, which drops the first generation's graphs) forgets the rest."""
    if backend is None:
        pytest.skip("the engine's pointer graph")
    for i in (1, 2, 3):
        rows = [nta_row(1, "7000012050002", name=f"国税庁{i}")]
        run_load(settings, "houjin", [write_csv(tmp_path / f"{i}.csv", rows)], replace=True)
    home = open_home(settings)
    name, previous, views = home.state()
    assert (name, previous) == ("gen-000003", "gen-000002")
    ptr = str(M.generations_graph())
    _, body = home.client.query(f"SELECT ?g WHERE {{ GRAPH <{ptr}> {{ <{ptr}> <{M.term('currentGeneration')}> ?g }} }}",
                                named_graphs=[ptr], default_graphs=[ptr], accept="application/sparql-results+json")
    assert sorted(b["g"]["value"].rsplit("#", 1)[-1] for b in json.loads(body)["results"]["bindings"]) == \
        ["gen-000002", "gen-000003"]
    assert _debris(home, backend) == [] and not [g for g in backend.graphs() if g.endswith("/gen-000001")]
    names = [r["n"].value for r in run_query(home.open_current(), "SELECT ?n WHERE { ?c rov:legalName ?n }", M)]
    assert names == ["国税庁3"]


def test_a_second_writer_is_refused_while_one_builds(settings):
    gens = open_home(settings)
    with gens.build():
        with pytest.raises(StoreBusy, match="another load"):
            with open_home(settings).build():
                pass


KILL_SCRIPT = r"""
import sys, time
from kg.load.pipeline import run_load
import kg.load.batches as p
from kg.settings import load_settings
# slow the load down so the parent can kill it half-way through writing the new generation
original = p.write_batch
def slow(*args, **kwargs):
    original(*args, **kwargs)
    print("BATCH", flush=True)
    time.sleep(0.2)
p.write_batch = slow
run_load(load_settings(None, data_dir=sys.argv[1], base_uri=sys.argv[2], batch_size=50), "houjin", [sys.argv[3]])
print("DONE", flush=True)
"""


@pytest.mark.slow
def test_kill_9_mid_load_keeps_previous_data_and_leaves_no_debris(settings, backend, tmp_path):
    first = write_csv(tmp_path / "first.csv", [nta_row(1, "7000012050002", name="国税庁", kind="101")])
    run_load(settings, "houjin", [first])
    before = open_home(settings).current_name()
    rows = [nta_row(i, number(f"{i:012d}"), name=f"株式会社テスト{i}") for i in range(1, 601)]
    big = write_csv(tmp_path / "big.csv", rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")} | settings.environ()
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(settings.data_path), BASE, str(big)],
                             stdout=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    batches = 0
    for line in child.stdout:
        if line.startswith("BATCH"):
            batches += 1
            if batches == 5:
                child.send_signal(signal.SIGKILL)
                break
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    gens_dir = settings.data_path / "gens"
    assert len(list(gens_dir.iterdir())) == 2  # the half-built generation is still on disk
    home = open_home(settings, create=False)
    assert home.current_name() == before  # served data unchanged while the debris is there
    if backend is not None:  # and on the engine: the killed load's half-written graphs
        assert [g for g in backend.graphs() if g.endswith("/gen-000002")]
    # the next start serves the previous version and sweeps the debris
    gens = open_home(settings)
    assert gens.current_name() == before
    assert [p.name for p in gens_dir.iterdir()] == [before]
    assert _debris(gens, backend) == []
    assert not list(settings.data_path.glob("tmp-*"))
    if settings.virtuoso_load_dir:  # nor the files of Virtuoso's bulk loader
        assert not list(Path(settings.virtuoso_load_dir).glob("kg-*.nt"))
    store = gens.open_current()
    names = [s["n"].value for s in run_query(store, "SELECT ?n WHERE { ?c rov:legalName ?n }", M)]
    assert names == ["国税庁"]
    # and loading again works
    assert run_load(settings, "houjin", [big]).stats.loaded == 600


def _ntriples(n: int) -> str:
    return "".join(f'<http://x/s{i}> <http://x/p> "値 {i}" .\n' for i in range(n))


@pytest.mark.parametrize("parallel", [1, 3])
@pytest.mark.parametrize("source", ["path", "text", "stream"])
def test_bulk_loads_in_slices_cut_at_line_ends_lose_nothing(tmp_path, source, parallel):
    """Slices of a few bytes fall mid-line and mid-character: every triple still arrives whole,
    also when several slices load at once into a store on disk (terms shared between slices)."""
    import io

    from kg.store.oxigraph import OxStore

    # ~200 slices (each a bulk load into RocksDB: ~14 ms): 500 lines took 8 s of the suite
    text = _ntriples(150).rstrip("\n")  # the last line without its newline, as a truncated writer leaves it
    text += "".join(f'\n<http://x/s{i}> <http://x/shared> "共有" .' for i in range(0, 150, 7))
    path = tmp_path / "in.nt"
    path.write_text(text, encoding="utf-8")
    given = {"path": {"path": path}, "text": {"text": text},
             "stream": {"stream": io.BytesIO(text.encode("utf-8"))}}[source]
    store = OxStore.open(tmp_path / "store")
    store.add(fmt="ntriples", graph="http://x/g", bulk=True, slice_bytes=37, parallel=parallel, **given)
    whole = OxStore.memory()
    whole.add(text=text, fmt="ntriples", graph="http://x/g", bulk=True)
    assert store.count("http://x/g") == 150 + len(range(0, 150, 7))
    assert set(store.quads()) == set(whole.quads())


def test_a_bulk_add_without_slices_named_takes_the_store_settings(tmp_path):
    """The links step bulk-loads its N-Quads without naming slices: a build's store slices them
    by KG_BULK_SLICE (one call over a national links file held gigabytes)."""
    from kg.settings import load_settings
    from kg.store import open_home

    class Counting:
        def __init__(self, inner):
            self.inner, self.calls = inner, 0

        def bulk_load(self, **kwargs):
            self.calls += 1
            return self.inner.bulk_load(**kwargs)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    nquads = "".join(f'<http://x/s{i}> <http://x/p> "{i}" <http://x/g> .\n' for i in range(300))
    settings = load_settings({"KG_BULK_SLICE": "1K", "KG_BULK_THREADS": "2"}, data_dir=str(tmp_path / "d"))
    with open_home(settings).build() as build:
        from kg.store.oxigraph import OxStore

        assert isinstance(build.store, OxStore)
        spy = Counting(build.store._store)
        store = OxStore(spy, bulk_slice=settings.bulk_slice, bulk_threads=settings.bulk_threads)
        assert store._bulk == build.store._bulk == (1024, 2)
        store.add(text=nquads, fmt="nquads", bulk=True)
        assert spy.calls >= len(nquads) // 1024 and store.count("http://x/g") == 300


@pytest.mark.parametrize("parallel", [1, 2])
def test_a_failing_slice_stops_the_read_ahead(tmp_path, parallel):
    """A syntax error in a later slice of a piped source raises, the reading thread ends and the
    slices after it are not loaded."""
    import io
    import threading

    from kg.store.oxigraph import OxStore

    store = OxStore.memory()
    stream = io.BytesIO((_ntriples(200) + "<http://x/broken\n" + _ntriples(20_000)).encode())
    with pytest.raises(SyntaxError):
        store.add(stream=stream, fmt="ntriples", graph="http://x/g", bulk=True, slice_bytes=100, parallel=parallel)
    assert not [t for t in threading.enumerate() if t.name == "kg-read-ahead" and t.is_alive()]
    assert not [t for t in threading.enumerate() if t.name.startswith("kg-bulk-load") and t.is_alive()]
    assert store.count("http://x/g") < 20_000


def test_loading_as_written_raises_the_first_failure_and_leaves_no_thread():
    """kg.store.piped: a writer that fails after some lines, and a store that refuses a line while
    the writer still writes (it then meets a closed pipe): each raises its own error, no writer
    thread is left, and nothing hangs."""
    import threading

    from kg.store.oxigraph import OxStore
    from kg.store.piped import load_as_written

    def failing(out):
        out.write(_ntriples(30_000))
        raise RuntimeError("the matching failed")

    store = OxStore.memory()
    with pytest.raises(RuntimeError, match="the matching failed"):
        load_as_written(store, "http://x/g", failing)

    def endless_after_a_bad_line(out):
        out.write("<http://x/broken\n")
        while True:
            out.write(_ntriples(1000))

    with pytest.raises(SyntaxError):
        load_as_written(store, "http://x/h", endless_after_a_bad_line)
    assert not [t for t in threading.enumerate() if t.name == "kg-load-as-written"]
    assert load_as_written(store, "http://x/i", lambda out: out.write(_ntriples(2_000))) is True
    assert store.count("http://x/i") == 2_000


def test_the_served_endpoint_follows_the_current_generation(settings, backend, tmp_path):
    """`kg serve` over the store: GRAPH <…/graph/houjin>, GRAPH ?g and the metadata about a graph
    name answer in logical graph names; a load switches what it serves; pages and search work."""
    import json
    import urllib.parse
    import urllib.request

    from support.server import start_server

    run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", [nta_row(1, "7000012050002", name="国税庁")])])
    env = {"KG_WORKERS": "1", **(backend.env() if backend else {})}
    server = start_server(settings.data_path, tmp_path, **env)
    url = next(server)
    try:
        def select(q: str) -> list[dict]:
            req = urllib.request.Request(url + "/sparql?" + urllib.parse.urlencode({"query": q}),
                                         headers={"Accept": "application/sparql-results+json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return [{k: v["value"] for k, v in b.items()} for b in json.load(r)["results"]["bindings"]]

        houjin = M.graph("houjin")
        assert select("SELECT ?n WHERE { GRAPH graph:houjin { ?c rov:legalName ?n } }") == [{"n": "国税庁"}]
        assert select(f"SELECT ?n FROM <{houjin}> WHERE {{ ?c rov:legalName ?n }}") == [{"n": "国税庁"}]
        graphs = {r["g"] for r in select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
        assert houjin in graphs and M.graph("meta") in graphs and not any("/gen-" in g for g in graphs)
        triples = select(f"SELECT ?n WHERE {{ <{houjin}> void:triples ?n }}")
        assert len(triples) == 1 and int(triples[0]["n"]) > 0
        # a diff switches the served data; the next request sees it
        second = nta_row(2, number("000000000002"), name="株式会社二番")
        run_load(settings, "houjin", [write_csv(tmp_path / "b.csv", [second])])
        import time

        names = set()
        for _ in range(50):  # a remote engine's pointer is read again within a second
            names = {r["n"] for r in select("SELECT ?n WHERE { GRAPH graph:houjin { ?c rov:legalName ?n } }")}
            if len(names) == 2:
                break
            time.sleep(0.1)
        assert names == {"国税庁", "株式会社二番"}
        with urllib.request.urlopen(url + "/search.json?q=" + urllib.parse.quote("二番"), timeout=30) as r:
            assert [hit["label"] for hit in json.load(r)["results"]] == ["株式会社二番"]
        req = urllib.request.Request(url + "/doc/corporation/7000012050002", headers={"Accept": "text/html"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert "国税庁" in r.read().decode()
    finally:
        server.close()


def test_clear_all_in_a_build_empties_that_version_only(settings, backend, tmp_path):
    """CLEAR ALL (as the W3C protocol tests send through /sparql) empties the version being
    built: the served one still answers, and on an engine every other graph it holds (the
    pointer, anybody else's data) is left alone."""
    import urllib.request

    from kg.errors import QueryRejected

    run_load(settings, "houjin", [write_csv(tmp_path / "a.csv", [nta_row(1, "7000012050002", name="国税庁")])])
    if backend is not None:  # somebody else's graph on the same engine
        req = urllib.request.Request(backend.store + "?graph=http%3A%2F%2Fexample.org%2Fnot-ours",
                                     data=b'<http://example.org/s> <http://example.org/p> "theirs" .\n',
                                     headers={"Content-Type": "application/n-triples"})
        urllib.request.urlopen(req, timeout=30).close()
    home = open_home(settings)
    served = home.open_current()
    name_query = "SELECT ?n WHERE { ?c rov:legalName ?n }"
    with home.build() as b:
        b.store.update("CLEAR ALL")
        assert [s["n"].value for s in run_query(served, name_query, M)] == ["国税庁"]
        late = f"INSERT DATA {{ GRAPH <{M.graph('houjin')}> {{ <http://x/s> <http://x/p> 1 }} }} ; DROP ALL"
        if backend is None:
            b.store.update(late)  # embedded: the build is a copy of its own
        else:
            with pytest.raises(QueryRejected, match="must come before every other operation"):
                b.store.update(late)
        b.store.update(f'INSERT DATA {{ GRAPH <{M.graph("houjin")}> {{ <{M.corporation("7000012050002")}> '
                       f'<http://www.w3.org/ns/regorg#legalName> "新"@ja }} }}')
    assert [s["n"].value for s in run_query(home.open_current(), name_query, M)] == ["新"]
    if backend is not None:
        assert "http://example.org/not-ours" in backend.graphs()
