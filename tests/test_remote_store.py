"""The remote store's own rules: graph names renamed only where a graph is named, credentials
never shown, an unreachable engine is a one-line error. (Its behaviour as a store is tested by
the ``engines`` modules: test_store, the load tests, test_cli.)"""

from __future__ import annotations

import pytest

from kg.store.graph_names import Dataset, rename_graphs
from support.server import free_port

G = "http://localhost:8000/graph/houjin"
NAMES = {G: G + "/gen-000007"}
PREFIXES = {"graph": "http://localhost:8000/graph/"}


@pytest.mark.parametrize("text, expected", [
    ("SELECT * { GRAPH <%s> { ?s ?p ?o } }" % G, "SELECT * { GRAPH <%s/gen-000007> { ?s ?p ?o } }" % G),
    ("SELECT * { GRAPH graph:houjin { ?s ?p ?o } }", "SELECT * { GRAPH <%s/gen-000007> { ?s ?p ?o } }" % G),
    ("select * from named <%s> { graph ?g {} }" % G, "select * from named <%s/gen-000007> { graph ?g {} }" % G),
    ("PREFIX g: <http://localhost:8000/graph/> SELECT * FROM g:houjin { ?s ?p ?o }",
     "PREFIX g: <http://localhost:8000/graph/> SELECT * FROM <%s/gen-000007> { ?s ?p ?o }" % G),
    # data about the graph stays data; strings and comments are not code
    ("SELECT ?n { <%s> <http://rdfs.org/ns/void#triples> ?n }" % G, None),
    ('SELECT * { ?s ?p "GRAPH <%s>" } # GRAPH <%s>' % (G, G), None),
    ("SELECT * { ?s ?p ?o FILTER(?o < 3 && ?o > 1) }", None),
    # updates: every place a graph is named
    ("DROP SILENT GRAPH <%s>" % G, "DROP SILENT GRAPH <%s/gen-000007>" % G),
    ("COPY <%s> TO <http://x/other>" % G, "COPY <%s/gen-000007> TO <http://x/other>" % G),
    ("WITH <%s> DELETE { ?s ?p ?o } USING NAMED <%s> WHERE { ?s ?p ?o }" % (G, G),
     "WITH <%s/gen-000007> DELETE { ?s ?p ?o } USING NAMED <%s/gen-000007> WHERE { ?s ?p ?o }" % (G, G)),
])
def test_graph_names_are_renamed_only_where_a_graph_is_named(text, expected):
    assert rename_graphs(text, NAMES, PREFIXES) == (expected or text)


def test_what_a_text_says_about_its_dataset():
    seen = Dataset()
    rename_graphs("SELECT * FROM <http://x/a> { GRAPH ?g { ?s ?p ?o } }", {}, None, seen)
    assert seen.from_clause and seen.variable_graph and seen.graphs == {"http://x/a"}
    seen = Dataset()
    rename_graphs("INSERT DATA { GRAPH graph:links { <http://x/s> <http://x/p> 1 } }", {}, PREFIXES, seen)
    assert not seen.from_clause and not seen.variable_graph and seen.graphs == {"http://localhost:8000/graph/links"}


def _remote_env(port: int) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}"
    return {"KG_STORE": "sparql", "KG_SPARQL_QUERY": url + "/query", "KG_SPARQL_UPDATE": url + "/update",
            "KG_SPARQL_STORE": url + "/store", "KG_SPARQL_USER": "kg", "KG_SPARQL_PASSWORD": "s3cret-pw"}


def test_settings_mask_the_password_and_errors_never_show_it(tmp_path):
    from click.testing import CliRunner

    from kg.cli import main

    runner = CliRunner(env=_remote_env(free_port()))  # nothing listens there
    shown = runner.invoke(main, ["--data-dir", str(tmp_path / "d"), "settings"])
    assert shown.exit_code == 0
    assert "KG_SPARQL_PASSWORD=********" in shown.output and "s3cret-pw" not in shown.output
    assert "KG_SPARQL_USER=kg" in shown.output and "KG_STORE=sparql" in shown.output
    for args in (["query", "ASK {}"], ["stats"]):
        result = runner.invoke(main, ["--data-dir", str(tmp_path / "d"), *args])
        assert result.exit_code != 0
        assert "cannot reach the SPARQL engine at http://127.0.0.1:" in result.output
        assert "s3cret-pw" not in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_a_missing_endpoint_setting_is_named(tmp_path):
    from kg.errors import StoreError
    from kg.settings import load_settings
    from kg.store import open_home

    settings = load_settings({"KG_STORE": "sparql", "KG_SPARQL_QUERY": "http://127.0.0.1:1/query"},
                             data_dir=str(tmp_path / "d"))
    with pytest.raises(StoreError, match="KG_SPARQL_UPDATE, KG_SPARQL_STORE"):
        open_home(settings)
    with pytest.raises(ValueError, match="KG_STORE='virtuoso'"):
        load_settings({"KG_STORE": "virtuoso"})
