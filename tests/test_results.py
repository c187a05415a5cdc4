"""The two SELECT serialisers agree: pyoxigraph's own (fast path) and ours (row-capped path)."""

from __future__ import annotations

import csv
import doctest
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest

from kg.store import results
from kg.store.results import native_select, serialize_select

DATA = """
<http://ex/a> <http://ex/name> "国税庁"@ja .
<http://ex/a> <http://ex/name> "National Tax Agency"@en .
<http://ex/a> <http://ex/count> "42"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://ex/a> <http://ex/when> "2015-10-05"^^<http://www.w3.org/2001/XMLSchema#date> .
<http://ex/b> <http://ex/name> "a \\"quoted\\", comma\\nnew line\\ttab" .
<http://ex/b> <http://ex/link> _:x .
_:x <http://ex/name> "<script>&amp;" .
"""
QUERIES = [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
    "SELECT ?s ?n ?c WHERE { ?s <http://ex/name> ?n OPTIONAL { ?s <http://ex/count> ?c } } ORDER BY ?n",
    "SELECT ?x WHERE { FILTER(false) }",
]


@pytest.fixture(scope="module")
def store():
    s = ox.Store()
    s.load(input=DATA, format=ox.RdfFormat.N_TRIPLES)
    return s


def _ours(store, query, fmt):
    solutions = store.query(query)
    variables = [v.value for v in solutions.variables]
    return serialize_select(variables, [[s[v] for v in variables] for s in solutions], fmt)


@pytest.mark.parametrize("query", QUERIES)
def test_json_agrees(store, query):
    native = json.loads(native_select(store.query(query), "json", 1000))
    ours = json.loads(_ours(store, query, "json"))
    assert native == ours


@pytest.mark.parametrize("query", QUERIES)
def test_xml_agrees(store, query):
    def canon(body: bytes):
        root = ET.fromstring(body)
        return [(el.tag, dict(el.attrib), (el.text or "").strip()) for el in root.iter()]

    assert canon(native_select(store.query(query), "xml", 1000)) == canon(_ours(store, query, "xml"))


@pytest.mark.parametrize("query", QUERIES)
def test_csv_agrees(store, query):
    native = native_select(store.query(query), "csv", 1000).decode()
    ours = _ours(store, query, "csv").decode()
    blank = lambda rows: [[c if not c.startswith("_:") else "_:b" for c in r] for r in rows]  # noqa: E731
    assert blank(csv.reader(io.StringIO(native))) == blank(csv.reader(io.StringIO(ours)))


@pytest.mark.parametrize("query", QUERIES)
def test_tsv_rows_agree(store, query):
    native = native_select(store.query(query), "tsv", 1000).decode().split("\n")
    ours = _ours(store, query, "tsv").decode().split("\n")
    assert len(native) == len(ours) and native[0] == ours[0]
    for a, b in zip(native, ours):
        assert ("_:" in a) == ("_:" in b) and (a == b or "_:" in a)


def test_more_rows_than_the_budget_fall_back(store):
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    assert native_select(store.query(query), "json", 2) is None           # 7 rows, cap 2
    assert native_select(store.query(query), "tsv", 7) is None            # may not be sure at the edge
    assert json.loads(native_select(store.query(query), "json", 10_000))["results"]["bindings"].__len__() == 7


def test_doctests():
    failures, _ = doctest.testmod(results)
    assert failures == 0
