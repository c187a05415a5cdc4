"""The `kg` command line: clear one-line errors, counts, query formats, stats, validate, demo."""

from __future__ import annotations

import json
import re

import pytest

from support import number, nta_row, write_csv

pytestmark = pytest.mark.engines


def test_load_prints_counts_and_report_location(cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", [nta_row(1, "2000011000005"), nta_row(2, "7000012050002", name="国税庁")])
    result = cli("load", "houjin", str(path))
    assert result.exit_code == 0, result.output
    assert "read 2 records, loaded 1, rejected 1" in result.output
    assert "rejection report:" in result.output and ".csv" in result.output


def test_strict_load_fails_with_one_line(cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", [nta_row(1, "2000011000005")])
    result = cli("load", "houjin", "--strict", str(path))
    assert result.exit_code == 1
    assert result.output.startswith("kg: error: --strict: 1 record(s) rejected")
    assert "Traceback" not in result.output


def test_user_errors_are_one_line_without_traceback(cli, tmp_path):
    for args, needle in [
        (("load", "houjin", str(tmp_path / "missing.csv")), "no such file"),
        (("load", "nonsense", str(tmp_path)), "unknown source 'nonsense'"),
        (("query", "SELECT * WHERE { ?s ?p ?o }"), "nothing loaded yet"),
    ]:
        result = cli(*args)
        assert result.exit_code != 0
        assert needle in result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_query_formats_and_malformed_query(cli, tmp_path):
    cli("load", "houjin", str(write_csv(tmp_path / "a.csv", [nta_row(1, "7000012050002", name="国税庁")])))
    q = 'SELECT ?name WHERE { ?c rov:legalName ?name }'
    table = cli("query", q).output
    assert "国税庁" in table and "(1 row)" in table
    assert cli("query", "--format", "csv", q).output.strip().splitlines() == ["name", "国税庁"]
    data = json.loads(cli("query", "--format", "json", q).output)
    assert data["results"]["bindings"][0]["name"]["value"] == "国税庁"
    assert cli("query", "ASK { ?c a rov:RegisteredOrganization }").output.strip() == "true"
    bad = cli("query", "SELEKT nonsense")
    assert bad.exit_code == 1 and bad.output.startswith("kg: error: malformed query")


def test_stats_and_validate(cli, tmp_path):
    cli("load", "houjin", str(write_csv(tmp_path / "a.csv", [nta_row(1, "7000012050002", name="国税庁")])))
    out = cli("stats").output
    assert "graph/houjin" in out and "rov:RegisteredOrganization" in out and "graph/codes" in out
    result = cli("validate")
    assert result.exit_code == 0, result.output
    assert "houjin: 1 entities checked, 0 violations" in result.output


def test_validate_finds_data_that_no_longer_conforms(cli, tmp_path, settings):
    from kg.store import open_home

    cli("load", "houjin", str(write_csv(tmp_path / "a.csv", [nta_row(1, "7000012050002", name="国税庁")])))
    gens = open_home(settings)
    with gens.build() as b:  # somebody edits the store behind the loader's back
        b.store.update("DELETE WHERE { GRAPH ?g { ?c <http://www.w3.org/ns/regorg#legalName> ?n } }")
    result = cli("validate", "houjin")
    assert result.exit_code == 1
    assert "MinCount" in result.output and "1 violations" in result.output


def test_demo_loads_the_bundled_samples(cli):
    result = cli("demo", "--no-serve")
    assert result.exit_code == 0, result.output
    assert "demo: houjin: loaded" in result.output and "demo: abr: loaded" in result.output
    assert re.search(r"links: \d+ corporations matched by level: town [1-9]", result.output), result.output
    out = cli("query", "SELECT ?s WHERE { ?s kg:successor ?t }").output
    assert "1040001042029" in out


def test_progress_bar_on_request(cli, tmp_path):
    rows = [nta_row(i, number(f"{i:012d}"), name=f"株式会社テスト{i}") for i in range(1, 200)]
    path = write_csv(tmp_path / "a.csv", rows)
    result = cli("load", "houjin", "--progress", str(path))
    assert result.exit_code == 0
    assert "loading houjin" in result.stderr  # (click draws the bar itself only on a terminal)
    quiet = cli("load", "houjin", "--no-progress", str(path))
    assert "loading houjin" not in quiet.stderr


def test_progress_callback_sees_every_byte(data_dir, tmp_path):
    """(Embedded only: reporting progress does not depend on the store.)"""
    from kg.load.pipeline import run_load
    from kg.settings import load_settings
    from support import BASE

    settings = load_settings({}, data_dir=str(data_dir), base_uri=BASE)

    rows = [nta_row(i, number(f"{i:012d}"), name=f"株式会社テスト{i}") for i in range(1, 1000)]
    path = write_csv(tmp_path / "a.csv", rows)
    for _ in range(2):  # into an empty dataset (streamed) and then as an update
        seen: list[int] = []
        totals: list[int] = []

        def progress(total):
            totals.append(total)
            return seen.append

        run_load(settings, "houjin", [path], progress=progress)
        assert totals == [path.stat().st_size]
        assert sum(seen) == path.stat().st_size


def test_dump_writes_gzip_nquads_per_graph(cli, tmp_path):
    import gzip

    import pyoxigraph as ox

    cli("load", "houjin", str(write_csv(tmp_path / "a.csv", [nta_row(1, "7000012050002", name="国税庁")])))
    result = cli("dump", "--out", str(tmp_path / "dumps"))
    assert result.exit_code == 0, result.output
    houjin = tmp_path / "dumps" / "houjin.nq.gz"
    quads = list(ox.parse(gzip.decompress(houjin.read_bytes()), format=ox.RdfFormat.N_QUADS))
    assert quads and all(q.graph_name.value.endswith("/graph/houjin") for q in quads)
    assert any(isinstance(q.object, ox.Literal) and q.object.value == "国税庁" for q in quads)
    assert {p.name for p in (tmp_path / "dumps").iterdir()} >= {"houjin.nq.gz", "meta.nq.gz", "codes.nq.gz", "ontology.nq.gz"}
    assert f"{len(quads):,} quads" in result.output


def test_serve_refuses_a_port_in_use(cli):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        from click.testing import CliRunner

        from kg.cli import main

        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert "cannot listen on 127.0.0.1:" in result.output and "Traceback" not in result.output


def test_serve_refuses_a_port_out_of_range():
    from click.testing import CliRunner

    from kg.cli import main

    result = CliRunner().invoke(main, ["serve", "--port", "80000"])
    assert result.exit_code == 2 and "80000" in result.output


def test_query_mistakes_are_one_plain_line_and_select_star_keeps_query_order(cli, tmp_path):
    cli("load", "houjin", str(write_csv(tmp_path / "a.csv", [nta_row(1, "7000012050002", name="国税庁")])))
    for query, needle in [("SELECT ?s WHERE { ?s foo:bar ?o }", "undefined prefix 'foo:'"),
                          ("SELEC ?s WHERE { ?s ?p ?o }", "starts with SELECT, CONSTRUCT, ASK or DESCRIBE"),
                          ("INSERT DATA { <a:b> <a:c> <a:d> }", "an update goes in an update request")]:
        result = cli("query", query)
        assert result.exit_code == 1 and needle in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    header = cli("query", "--format", "csv", "SELECT * WHERE { ?s rov:legalName ?name }").output.splitlines()[0]
    assert header == "s,name"                               # as written, not sorted (name, s)


def test_validate_an_unknown_source_and_a_port_of_zero(cli, tmp_path):
    from click.testing import CliRunner

    from kg.cli import main

    cli("load", "houjin", str(write_csv(tmp_path / "a.csv", [nta_row(1, "7000012050002", name="国税庁")])))
    bogus = cli("validate", "bogus")
    assert bogus.exit_code == 1 and bogus.output.strip() == "kg: error: unknown source 'bogus'; one of: houjin, abr, laws, programs"
    zero = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert zero.exit_code == 2 and "serving" not in zero.output


def test_settings_are_aligned_with_unset_and_secret_values_shown_as_such():
    from click.testing import CliRunner

    from kg.cli import main

    out = CliRunner().invoke(main, ["settings"], env={"KG_UPDATE_TOKEN": ""}).output.splitlines()
    assert any(line.startswith("KG_UPDATE_TOKEN=(unset) ") for line in out) and "None" not in "\n".join(out)
    assert len({line.index("  # ") for line in out}) == 1        # one column for the help
    secret = CliRunner().invoke(main, ["settings"], env={"KG_UPDATE_TOKEN": "s3cret"}).output
    assert "KG_UPDATE_TOKEN=(set)" in secret and "s3cret" not in secret


def test_serve_says_when_the_iris_name_another_port():
    from kg.cli import _base_note
    from kg.settings import load_settings

    moved = load_settings({"KG_PORT": "8123"}, base_uri="http://localhost:8000/")
    assert "KG_BASE_URI is http://localhost:8000/" in _base_note(moved)
    assert _base_note(load_settings({"KG_PORT": "8000"}, base_uri="http://localhost:8000/")) is None
    assert _base_note(load_settings({"KG_PORT": "8123"}, base_uri="https://kg.example.jp/")) is None
