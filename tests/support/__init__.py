"""Helpers shared by the test modules (fixtures live in conftest.py; row builders beside this).

Tests read the store on disk with pyoxigraph itself, as an independent reader of what the
project wrote: :func:`raw_current` opens the served generation, :func:`run_query` queries it (or
the engine behind one of our stores) with the project's prefixes and the union default graph.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox

from kg.rdf.checkdigits import corporate_number_check_digit
from kg.rdf.iri import Minter

BASE = "http://localhost:8000/"
HERE = Path(__file__).parent
REAL = Path(__file__).parents[3] / "shared" / "data" / "real"


def raw_current(data_dir: str | Path) -> ox.Store | None:
    """The served generation of a data directory, opened read-only by pyoxigraph."""
    from kg.store import open_home

    path = open_home(data_dir, create=False).current_path()
    return ox.Store.read_only(str(path)) if path is not None else None


def run_query(store, sparql: str, m: Minter | None = None, **kwargs):
    """pyoxigraph's answer to ``sparql`` on ``store`` (raw, or the engine behind our wrapper)."""
    if hasattr(store, "client"):  # a remote engine's view: read as pyoxigraph would
        store = EngineReader(store)
    raw = getattr(store, "_store", store)
    return raw.query(sparql, prefixes=(m or Minter(BASE)).prefixes(), use_default_graph_as_union=True, **kwargs)


# ---- NTA rows written for the tests ----------------------------------------------------------

def number(base12: str) -> str:
    """A corporate number with its check digit."""
    return f"{corporate_number_check_digit(base12)}{base12}"


def nta_row(seq: int, num: str, *, process="01", correct="0", update="2021-07-14", change="2015-10-05",
            name="テスト株式会社", kind="301", pref="東京都", city="文京区", street="湯島２丁目６番２号",
            pref_code="13", city_code="105", post="1130034", outside="", close="", cause="", successor="",
            change_cause="", assigned="2015-10-05", latest="1", en="", en_pref="", en_city="", en_outside="",
            furigana="テスト", hihyoji="0", name_img="", addr_img="", outside_img="") -> list[str]:
    return [str(seq), num, process, correct, update, change, name, name_img, kind, pref, city, street, addr_img,
            pref_code, city_code, post, outside, outside_img, close, cause, successor, change_cause, assigned,
            latest, en, en_pref, en_city, en_outside, furigana, hihyoji]


def nta_csv(rows: list[list[str]]) -> str:
    """Rows as the NTA writes them: text quoted, codes and numbers bare, no header."""
    text_cols = {6, 9, 10, 11, 16, 21, 24, 25, 26, 27, 28}
    out = io.StringIO()
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            if i in text_cols and value:
                cells.append('"' + value.replace('"', '""') + '"')
            else:
                cells.append(value)
        out.write(",".join(cells) + "\n")
    return out.getvalue()


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.write_bytes(nta_csv(rows).encode(encoding))
    return path


# ---- shared by the per-registry tests ---------------------------------------------------------

def current_store(settings):
    """The served generation of a test's data directory, as pyoxigraph's Store (or a remote
    engine's, through :class:`EngineReader`)."""
    if settings.store == "sparql":
        from kg.store import open_home

        store = open_home(settings, create=False).open_current()
        return EngineReader(store) if store is not None else None
    return raw_current(settings.data_path)


class _Solution(dict):
    def __missing__(self, key):
        return None


class EngineReader:
    """A remote engine's served generation with the part of pyoxigraph's ``Store`` API the tests
    read through (``query``, ``quads_for_pattern``, ``dump``), in pyoxigraph's terms: the tests
    written against the embedded store read an engine unchanged. Graph names are the logical ones."""

    def __init__(self, store):
        self.store = store

    def query(self, sparql: str, *, prefixes=None, use_default_graph_as_union: bool = True, **kwargs):
        from kg.store.oxigraph import to_ox

        result = self.store.query(sparql, prefixes=prefixes)
        if isinstance(result, bool):
            return result
        if hasattr(result, "variables"):
            return [_Solution({v: to_ox(t) for v, t in row.items() if t is not None}) for row in result]
        return [ox.Triple(to_ox(s), ox.NamedNode(p), to_ox(o)) for s, p, o in result]

    def quads_for_pattern(self, s=None, p=None, o=None, g=None):
        from kg.store.oxigraph import from_ox, to_ox

        found = self.store.quads(s.value if s is not None else None, p.value if p is not None else None,
                                 from_ox(o) if o is not None else None, g.value if g is not None else None)
        return [ox.Quad(to_ox(q.subject), ox.NamedNode(q.predicate), to_ox(q.object), ox.NamedNode(q.graph))
                for q in found]

    def dump(self, output=None, format=None, *, from_graph=None):
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".nt") as tmp:
            self.store.dump(from_graph.value, Path(tmp.name))
            return ox.serialize(ox.parse(path=tmp.name, format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES)


def values(store, subject, predicate):
    """Sorted values of one subject's predicate; language-tagged literals as ``text@lang``."""
    from kg.rdf.iri import Minter

    out = []
    for s in run_query(store, f"SELECT ?o WHERE {{ <{subject}> <{predicate}> ?o }}", Minter(BASE)):
        o = s["o"]
        lang = getattr(o, "language", None)  # pyoxigraph's terms or ours (a remote engine's view)
        out.append(f"{o.value}@{lang}" if lang else o.value)
    return sorted(out)


def one(store, subject, predicate):
    found = values(store, subject, predicate)
    assert len(found) == 1, (subject, predicate, found)
    return found[0]


def assert_same_verdict_as_pyshacl(dataset: str, case: str, triples) -> list:
    """The differential test: our compiled shapes and pySHACL report the same violations, and
    only cases named ``invalid…``/not ``valid…`` have any. Returns our violations."""
    from functools import lru_cache

    from kg.validation.shapes import validator_for
    from kg.resources import graph_of, reference_graph, shape_files
    from kg.validation.reference import pyshacl_violations, triples_to_rdflib

    @lru_cache(maxsize=None)
    def shapes(name):
        return graph_of(shape_files(name), BASE)

    found = validator_for(dataset, BASE).check(triples)
    ours = {(v.focus, v.path, v.component) for v in found}
    reference = pyshacl_violations(triples_to_rdflib(triples), shapes(dataset), reference_graph(BASE))
    assert ours == reference
    assert bool(ours) == (not case.startswith("valid")), ours
    return found


def load_demo(data_dir: Path, backend, **overrides):
    """Settings for ``data_dir`` (and the engine, if any) with every bundled sample loaded."""
    from kg.load.pipeline import run_load
    from kg.resources import package_dir
    from kg.settings import load_settings

    settings = load_settings({}, data_dir=str(data_dir), base_uri=BASE, **overrides,
                             **(backend.overrides() if backend else {}))
    for name in ("houjin", "abr", "laws", "programs"):
        run_load(settings, name, [package_dir("samples") / name], replace=True)
    return settings
