"""A graph new in a load has its ``added`` patch copied from what the load bulk-loads (the tee):
the feed must still replay exactly, whether the copy is used as it is, filtered (a corporation
twice in a file: the streamed load stops ascending and upserts the rest) or given up; the first
two on every backend."""

from __future__ import annotations

import gzip
import io
import zlib

import pyoxigraph as ox
import pytest

from kg.load.pipeline import run_load
from kg.load.tee import GraphCopy, Tee
from kg.resources import package_dir
from kg.settings import load_settings
from kg.store.changelog import ChangeLog

from support import BASE, nta_row, write_csv
from support.engines import BACKENDS
from test_changes import apply, dump_sets, nonempty

SAMPLE = package_dir("samples") / "houjin" / "00_sample_all_20210630.csv"
FIRST, SECOND, THIRD = "1010001072706", "1040001042029", "1130001011420"   # in the sample, ascending


def data_quads(added: bytes) -> set:
    """A patch's quads but the metadata graph's (load ids and times differ between two loads)."""
    return {q for q in ox.parse(added, format=ox.RdfFormat.N_QUADS) if q.graph_name.value != BASE + "graph/meta"}


def patch_quads(settings, generation: str, name: str) -> bytes:
    data = ChangeLog(settings.data_path).file(generation, name).read_bytes()
    one = zlib.decompressobj(31)  # one gzip member: some HTTP clients read no further
    text = one.decompress(data)
    assert one.eof and not one.unused_data
    return text


def replay_first_load(tmp_path, tee: int, files, backend=None, **overrides) -> tuple[dict, dict, list[bytes], list[dict]]:
    """Load ``files`` one after the other into a fresh data directory (and an emptied engine, if
    any); (the feed replayed onto nothing, the dump, each change's added file, each change's record)."""
    if backend is not None:
        backend.wipe()
        overrides.update(backend.overrides())
    settings = load_settings({}, data_dir=str(tmp_path / f"data-{tee}"), base_uri=BASE, changes_tee=tee, **overrides)
    state: dict[str, set] = {}
    added, records = [], []
    for f in files:
        generation = run_load(settings, "houjin", [f]).generation
        added.append(patch_quads(settings, generation, "added.nq.gz"))
        records.append(ChangeLog(settings.data_path).record(generation, generation))
        apply(state, patch_quads(settings, generation, "removed.nq.gz"), added[-1])
    return nonempty(state), dump_sets(settings, tmp_path / f"dump-{tee}"), added, records


@pytest.mark.parametrize("backend, bulk_slice", [("embedded", 0), ("embedded", 1 << 10),  # the engine reads the
                                                 ("oxigraph-server", 0), ("virtuoso", 0)],  # pipe / in slices
                         indirect=["backend"])
def test_first_load_of_an_ascending_file_replays_from_nothing(tmp_path, backend, bulk_slice):
    state, current, added, records = replay_first_load(tmp_path, 1, [SAMPLE], backend, bulk_slice=bulk_slice)
    assert BASE + "graph/houjin" in current
    assert state == current
    lines = added[0].splitlines()
    assert len(lines) == len(set(lines)) == records[0]["added"]  # each quad once, as the record counts
    _, _, dumped, dumped_records = replay_first_load(tmp_path, 0, [SAMPLE], backend)  # read back from the store instead
    assert data_quads(added[0]) == data_quads(dumped[0])
    houjin = BASE + "graph/houjin"
    assert records[0]["graphs"][houjin] == dumped_records[0]["graphs"][houjin]
    assert records[0]["entities"] == dumped_records[0]["entities"] > 0


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_corporation_twice_in_a_first_load_still_replays_exactly(tmp_path, backend):
    """The streamed load stops ascending at the repeat: the rest is upserted, removing what the
    stream loaded for that corporation; its copied lines are dropped and its quads read back."""
    rows = [nta_row(1, FIRST, name="株式会社一番"), nta_row(2, SECOND, name="株式会社二番"),
            nta_row(3, THIRD, name="株式会社三番"),
            nta_row(4, FIRST, process="12", update="2021-08-02", change="2021-08-01", name="株式会社一番改め"),
            nta_row(5, SECOND, name="株式会社二番")]                                   # the same row again
    twice = write_csv(tmp_path / "twice.csv", rows)
    state, current, added, records = replay_first_load(tmp_path, 1, [twice, SAMPLE], backend)
    assert state == current
    houjin = current[BASE + "graph/houjin"]
    names = {q.object.value for q in houjin if q.subject.value == f"{BASE}id/corporation/{FIRST}"
             and isinstance(q.object, ox.Literal)}
    assert "株式会社一番改め" in names and "株式会社一番" not in names
    lines = added[0].splitlines()
    assert len(lines) == len(set(lines)) == records[0]["added"]
    assert records[0]["graphs"][BASE + "graph/houjin"]["added"] == len(
        [q for q in ox.parse(added[0], format=ox.RdfFormat.N_QUADS) if q.graph_name.value == BASE + "graph/houjin"])
    _, _, dumped, dumped_records = replay_first_load(tmp_path, 0, [twice], backend)
    assert data_quads(added[0]) == data_quads(dumped[0])
    assert records[0]["entities"] == dumped_records[0]["entities"]


def test_tee_appends_the_graph_to_each_line_whatever_the_reads(tmp_path):
    """A pipe read in pieces that cut lines anywhere; comments, blank lines and CRLF on the slow path."""
    tee = Tee(tmp_path / "t.nq.gz", tmp_path / "t.entities", "http://x/id/")
    tee.start("http://x/g")
    text = (b'<http://x/id/a#f> <http://x/p> "a . b"@ja .\n<http://x/id/b> <http://x/p> <http://x/o> .\n' * 3
            + b"# a comment\n\n<http://x/id/c> <http://x/p> \"c\" .\r\n<http://x/id/d> <http://x/p> \"d\".\n")
    reader = tee.reader(io.BytesIO(text), "http://x/g")
    while reader.read(7):
        pass
    tee.close()
    lines = gzip.decompress((tmp_path / "t.nq.gz").read_bytes()).decode().splitlines()
    assert lines[:2] == ['<http://x/id/a#f> <http://x/p> "a . b"@ja <http://x/g> .',
                         '<http://x/id/b> <http://x/p> <http://x/o> <http://x/g> .']
    assert lines[-2:] == ['<http://x/id/c> <http://x/p> "c" <http://x/g> .', '<http://x/id/d> <http://x/p> "d" <http://x/g> .']
    assert tee.lines == {"http://x/g": 8} and not tee.dropped
    assert set(tee.entities()) == {"http://x/id/a", "http://x/id/b", "http://x/id/c", "http://x/id/d"}
    quads = list(ox.parse("\n".join(lines), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == 8 and {q.graph_name.value for q in quads} == {"http://x/g"}


@pytest.mark.parametrize("line", [b"_:b0 <http://x/p> <http://x/o> .\n", b"<http://x/s> <http://x/p> <http://x/o> . # c\n"])
def test_tee_gives_up_a_graph_it_cannot_copy_exactly(tmp_path, line):
    tee = Tee(tmp_path / "t.nq.gz", tmp_path / "t.entities", "http://x/id/")
    tee.start("http://x/g")
    tee.feed("http://x/g", line)
    assert tee.dropped == {"http://x/g"} and not tee.follows("http://x/g")
    tee.close()


def test_a_build_counts_a_graph_once_until_it_is_written(tmp_path):
    """The capturing store remembers a graph's count (the metadata and the change feed both ask
    for the national graph's) and forgets it on any write that may reach that graph."""
    from kg.load.changes import watch
    from kg.store import open_home
    from kg.store.interface import Quad
    from kg.rdf import IRI, Literal

    settings = load_settings({}, data_dir=str(tmp_path / "d"), base_uri=BASE)
    home = open_home(settings)
    g, other = BASE + "graph/a", BASE + "graph/b"
    with home.build() as build:
        capture = watch(build, home, settings)
        store, inner = build.store, build.store._inner
        asked: list[str] = []
        counting = inner.count
        inner.count = lambda graph: asked.append(graph) or counting(graph)  # type: ignore[method-assign]
        store.add(text="<http://x/s> <http://x/p> \"1\" .\n<http://x/s> <http://x/p> \"2\" .\n", fmt="ntriples", graph=g)
        assert store.count(g) == 2 and store.count(g) == 2 and asked == [g]
        store.add(text=f"<http://x/s> <http://x/p> \"1\" <{other}> .\n", fmt="nquads")  # another graph
        store.remove([Quad(IRI("http://x/s"), "http://x/p", Literal("1"), other)])
        assert store.count(g) == 2 and asked == [g]
        store.add(text=f"<http://x/s> <http://x/p> \"3\" <{g}> .\n", fmt="nquads")
        assert store.count(g) == 3 and asked == [g, g]
        store.remove([Quad(IRI("http://x/s"), "http://x/p", Literal("3"), g)])
        assert store.count(g) == 2 and asked == [g, g, g]
        store.add(text="<http://x/t> <http://x/p> \"4\" .\n", fmt="ntriples", graph=g)
        store.update(f"INSERT DATA {{ GRAPH <{g}> {{ <http://x/u> <http://x/p> 5 }} }}")
        assert store.count(g) == 4 and asked == [g, g, g, g]
        capture.finish(build.path.name, kind="test", retention=0)


def test_a_streamed_load_is_copied_by_its_mapping_child_not_by_the_reader(tmp_path, monkeypatch):
    """The child that writes the lines makes the copy; the thread feeding the store does not
    (it copies only the links, which are streamed into the store as they are matched)."""
    from kg.load import tee as tee_module

    read, reader = [], tee_module.Tee.reader

    def spied(self, stream, graph):
        read.append(graph)
        return reader(self, stream, graph)
    monkeypatch.setattr(tee_module.Tee, "reader", spied)
    state, current, added, records = replay_first_load(tmp_path, 1, [SAMPLE])
    assert state == current and records[0]["added"] == len(added[0].splitlines())
    assert read == [BASE + "graph/links"]


def _copy_into(tmp_path, tee: Tee, chunks: list[bytes], *, digested: bool) -> dict:
    """A GraphCopy fed as a mapping child feeds it, joined into ``tee``."""
    plan = tee.plan_copy("http://x/g")
    copy = GraphCopy(plan)
    for chunk in chunks:
        copy.feed(chunk, chunk.replace(b" .\n", b" <http://x/g> .\n") if digested else None)
    made = copy.close()
    tee.adopt(plan, made)
    assert not plan.path.exists() and not plan.entity_path.exists()
    return made


@pytest.mark.parametrize("digested", [True, False])
def test_a_copy_made_elsewhere_joins_the_tee_as_one_gzip_member(tmp_path, digested):
    tee = Tee(tmp_path / "t.nq.gz", tmp_path / "t.entities", "http://x/id/")
    tee.start("http://x/other")
    tee.feed("http://x/other", b'<http://x/id/z> <http://x/p> "z" .\n')
    chunks = [b'<http://x/id/a> <http://x/p> "1" .\n<http://x/id/a#f> <http://x/p> "2" .\n<http://x/id/b> <http://x/p> "3" .\n',
              b'<http://x/id/b#g> <http://x/p> "4" .\n<http://x/o> <http://x/p> <http://x/id/c> .\n',
              b"# a comment\n<http://x/id/d> <http://x/p> \"5\" .\r\n"]
    made = _copy_into(tmp_path, tee, chunks, digested=digested)
    assert made["ok"] and made["lines"] == 6
    tee.feed("http://x/other", b'<http://x/id/y> <http://x/p> "y" .\n')
    tee.close()
    data = (tmp_path / "t.nq.gz").read_bytes()
    one = zlib.decompressobj(31)
    lines = one.decompress(data).decode().splitlines()
    assert one.eof and not one.unused_data
    assert lines[0] == '<http://x/id/z> <http://x/p> "z" <http://x/other> .'
    assert lines[1:7] == ['<http://x/id/a> <http://x/p> "1" <http://x/g> .', '<http://x/id/a#f> <http://x/p> "2" <http://x/g> .',
                          '<http://x/id/b> <http://x/p> "3" <http://x/g> .', '<http://x/id/b#g> <http://x/p> "4" <http://x/g> .',
                          '<http://x/o> <http://x/p> <http://x/id/c> <http://x/g> .', '<http://x/id/d> <http://x/p> "5" <http://x/g> .']
    assert lines[7] == '<http://x/id/y> <http://x/p> "y" <http://x/other> .' and len(lines) == 8
    assert tee.lines == {"http://x/other": 2, "http://x/g": 6} and not tee.dropped
    assert set(tee.entities()) == {"http://x/id/z", "http://x/id/y", "http://x/id/a", "http://x/id/b", "http://x/id/d"}


def test_a_copy_made_elsewhere_that_meets_a_blank_node_gives_the_graph_up(tmp_path):
    tee = Tee(tmp_path / "t.nq.gz", tmp_path / "t.entities", "http://x/id/")
    made = _copy_into(tmp_path, tee, [b'<http://x/id/a> <http://x/p> "1" .\n', b"<http://x/id/b> <http://x/p> _:b0 .\n"],
                      digested=True)
    assert not made["ok"] and tee.dropped == {"http://x/g"}
    tee.close()
    assert gzip.decompress((tmp_path / "t.nq.gz").read_bytes()) == b""
