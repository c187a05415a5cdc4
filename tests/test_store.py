"""Atomic loads: a failed or killed load leaves the previous generation served and no debris."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from kg.rdf.iri import Minter
from kg.load.pipeline import run_load
from support import run_query
from kg.store.generations import Generations
from kg.errors import StoreBusy

from support import BASE, number, nta_row, write_csv

M = Minter(BASE)


def test_build_switches_only_on_success(tmp_path):
    gens = Generations(tmp_path / "d")
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


def test_replace_copies_other_graphs_and_drops_the_replaced_one(tmp_path):
    gens = Generations(tmp_path / "d")
    with gens.build() as b:
        for g in ("a", "b"):
            b.store.add(text=f'<http://x/s> <http://x/p> "{g}" <http://x/{g}> .\n')
    with gens.build(copy_all_except=["http://x/a"]) as b:
        assert set(b.store.named_graphs()) == {"http://x/b"}
    assert set(gens.open_current().named_graphs()) == {"http://x/b"}


def test_readers_keep_their_generation_while_a_new_one_is_built(tmp_path):
    gens = Generations(tmp_path / "d")
    with gens.build() as b:
        b.store.add(text='<http://x/s> <http://x/p> "1" <http://x/g> .\n')
    reader = gens.open_current()
    with gens.build() as b:
        b.store.add(text='<http://x/s> <http://x/p> "2" <http://x/g> .\n')
        assert len(list(reader.quads())) == 1
    assert len(list(reader.quads())) == 1  # the old handle still reads its (kept) generation
    assert len(list(gens.open_current().quads())) == 2


def test_a_second_writer_is_refused_while_one_builds(tmp_path):
    gens = Generations(tmp_path / "d")
    with gens.build():
        with pytest.raises(StoreBusy, match="another load"):
            with Generations(tmp_path / "d").build():
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
run_load(load_settings({}, data_dir=sys.argv[1], base_uri=sys.argv[2], batch_size=50), "houjin", [sys.argv[3]])
print("DONE", flush=True)
"""


@pytest.mark.slow
def test_kill_9_mid_load_keeps_previous_data_and_leaves_no_debris(settings, tmp_path):
    first = write_csv(tmp_path / "first.csv", [nta_row(1, "7000012050002", name="国税庁", kind="101")])
    run_load(settings, "houjin", [first])
    before = Generations(settings.data_path).current_name()
    rows = [nta_row(i, number(f"{i:012d}"), name=f"株式会社テスト{i}") for i in range(1, 2001)]
    big = write_csv(tmp_path / "big.csv", rows)
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(settings.data_path), BASE, str(big)],
                             stdout=subprocess.PIPE, text=True, cwd=tmp_path)
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
    # the next start serves the previous version and sweeps the debris
    gens = Generations(settings.data_path)
    assert gens.current_name() == before
    assert [p.name for p in gens_dir.iterdir()] == [before]
    assert not list(settings.data_path.glob("tmp-*"))
    store = gens.open_current()
    names = [s["n"].value for s in run_query(store, "SELECT ?n WHERE { ?c rov:legalName ?n }", M)]
    assert names == ["国税庁"]
    # and loading again works
    assert run_load(settings, "houjin", [big]).stats.loaded == 2000


def _ntriples(n: int) -> str:
    return "".join(f'<http://x/s{i}> <http://x/p> "値 {i}" .\n' for i in range(n))


@pytest.mark.parametrize("source", ["path", "text", "stream"])
def test_bulk_loads_in_slices_cut_at_line_ends_lose_nothing(tmp_path, source):
    """Slices of a few bytes fall mid-line and mid-character: every triple still arrives whole."""
    import io

    from kg.store.oxigraph import OxStore

    text = _ntriples(500).rstrip("\n")  # the last line without its newline, as a truncated writer leaves it
    path = tmp_path / "in.nt"
    path.write_text(text, encoding="utf-8")
    given = {"path": {"path": path}, "text": {"text": text},
             "stream": {"stream": io.BytesIO(text.encode("utf-8"))}}[source]
    store = OxStore.memory()
    store.add(fmt="ntriples", graph="http://x/g", bulk=True, slice_bytes=37, **given)
    whole = OxStore.memory()
    whole.add(text=text, fmt="ntriples", graph="http://x/g", bulk=True)
    assert store.count("http://x/g") == 500
    assert set(store.quads()) == set(whole.quads())


def test_a_failing_slice_stops_the_read_ahead(tmp_path):
    """A syntax error in a later slice of a piped source raises, and the reading thread ends."""
    import io
    import threading

    from kg.store.oxigraph import OxStore

    store = OxStore.memory()
    stream = io.BytesIO((_ntriples(200) + "<http://x/broken\n" + _ntriples(200)).encode())
    with pytest.raises(SyntaxError):
        store.add(stream=stream, fmt="ntriples", graph="http://x/g", bulk=True, slice_bytes=100)
    assert not [t for t in threading.enumerate() if t.name == "kg-read-ahead" and t.is_alive()]
