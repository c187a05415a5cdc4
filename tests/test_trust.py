"""Trust (issue 16): issuer signatures on NTA files checked by gpgv under KG_SIGNING_POLICY, the
content digest kept by every load, the hash-chained journal, signed publication and `kg verify`.

Keys are made for the tests with Debian's gpg in throw-away GNUPGHOMEs; fixtures are NTA-shaped
CSVs written here and signed with them, zipped with their ``.asc`` as the NTA ships them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import tempfile
import subprocess
import zipfile
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import LoadError
from kg.load.pipeline import run_load
from kg.rdf import Literal
from kg.rdf.iri import Minter
from kg.settings import load_settings
from support import BASE, nta_csv, nta_row, number, raw_current, run_query
from support.engines import BACKENDS

M = Minter(BASE)
GRAPH = M.graph("houjin")

needs_gpg = pytest.mark.skipif(shutil.which("gpg") is None or shutil.which("gpgv") is None,
                               reason="GnuPG (gpg, gpgv) is not installed (.ci/run installs it)")


# ---- keys and signed fixtures -------------------------------------------------------------------

class Key:
    """An OpenPGP key made for the tests in its own GNUPGHOME."""

    def __init__(self, root: Path, name: str):
        self.home = root / f"gnupg-{name}"
        self.home.mkdir(mode=0o700)
        self._gpg("--passphrase", "", "--quick-gen-key", f"{name} <{name}@example.jp>", "ed25519", "sign", "never")
        listed = self._gpg("--with-colons", "--list-keys").stdout.decode()
        self.fingerprint = next(line.split(":")[9] for line in listed.splitlines() if line.startswith("fpr:"))
        self.public = root / f"{name}-public.asc"
        self.public.write_bytes(self._gpg("--armor", "--export").stdout)
        self.secret = root / f"{name}-secret.asc"
        self.secret.write_bytes(self._gpg("--armor", "--export-secret-keys").stdout)

    def _gpg(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["gpg", "--batch", "--homedir", str(self.home), "--pinentry-mode", "loopback", *args],
                              check=True, capture_output=True)

    def sign(self, data: bytes) -> bytes:
        return subprocess.run(["gpg", "--batch", "--homedir", str(self.home), "--armor", "--detach-sign"],
                              input=data, check=True, capture_output=True).stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    if shutil.which("gpg") is None or shutil.which("gpgv") is None:
        pytest.skip("GnuPG (gpg, gpgv) is not installed (.ci/run installs it)")
    root = tmp_path_factory.mktemp("keys")
    made = {name: Key(root, name) for name in ("nta", "other", "publisher")}
    yield made
    from kg.trust.openpgp import stop_agent

    for key in made.values():
        stop_agent(key.home)


def corporations(n: int, first: int = 1) -> list[list[str]]:
    """``n`` corporations with valid numbers, ascending, one row each (a 全件 file)."""
    cities = [("千代田区", "101", "霞が関３丁目１－１"), ("文京区", "105", "湯島２丁目６番２号"), ("港区", "103", "新橋５丁目１８番１号")]
    rows = []
    for i in range(first, first + n):
        city, code, street = cities[i % 3]
        rows.append(nta_row(i, number(f"{10001000000 + i * 7:012d}"), name=f"株式会社信頼{i}", city=city,
                            city_code=code, street=street, furigana=f"シンライ{i}"))
    return rows


def nta_zip(path: Path, rows: list[list[str]], signer: "Key | None", *, tamper: bool = False) -> Path:
    """``X.zip`` holding ``X.csv`` and, when signed, ``X.csv.asc`` (the NTA's shape)."""
    data = nta_csv(rows).encode("utf-8")
    member = path.with_suffix(".csv").name
    with zipfile.ZipFile(path, "w") as z:
        # tamper: one character of a name changed after signing
        z.writestr(member, data.replace("信頼1".encode(), "信頼9".encode(), 1) if tamper else data)
        if signer is not None:
            z.writestr(member + ".asc", signer.sign(data))
    return path


def policy_settings(data_dir: Path, keys, policy: str, **more):
    return load_settings({}, data_dir=str(data_dir), base_uri=BASE, signature_policy=policy,
                         nta_keyring=str(keys["nta"].public), **more)


def source_facts(data_dir: Path) -> list[dict]:
    store = raw_current(data_dir)
    q = f"""SELECT ?file ?verdict ?signer ?at WHERE {{ GRAPH <{M.graph('meta')}> {{
        ?src <http://purl.org/dc/terms/title> ?file ; <{M.term('signatureVerdict')}> ?verdict .
        OPTIONAL {{ ?src <{M.term('signerFingerprint')}> ?signer }} OPTIONAL {{ ?src <{M.term('signedAt')}> ?at }} }} }}"""
    return [{k: (s[k].value if s[k] is not None else None) for k in ("file", "verdict", "signer", "at")}
            for s in run_query(store, q)]


def journal(data_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (data_dir / "journal.jsonl").read_text(encoding="utf-8").splitlines()]


# ---- the store gives back what a load hashed ------------------------------------------------------

def test_literals_are_written_as_the_store_gives_them_back(tmp_path):
    """The digest hashes the lines a load writes; they must be the lines a dump gives back."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    literals = [Literal(v, xsd + d) for v, d in [
        ("0012", "integer"), ("+5", "integer"), ("-0", "integer"), ("99999999999999999999999", "integer"),
        ("1.50", "decimal"), (".5", "decimal"), ("5.", "decimal"), ("-0.50", "decimal"), ("35.6800", "decimal"),
        ("1", "boolean"), ("0", "boolean"), ("1E0", "double"), ("1e-7", "double"), ("-2.5E-3", "double"),
        ("2024-01-01T00:00:00.500Z", "dateTime"), ("2024-01-01T09:00:00+09:00", "dateTime"),
        ("2024-01-01T00:00:00+00:00", "dateTime"), ("2015-10-05", "date"), ("01", "nonNegativeInteger"),
        ("abc", "integer"), ("１２", "integer")]]
    literals += [Literal("カナ", None, "ja-Hrkt"), Literal("x", None, "EN-us"),
                 Literal("tab\tnl\ncr\rq\"bs\\ctl\x01\x7f\x85 全角　空白")]
    store = ox.Store()
    g = ox.NamedNode("http://x/g")
    written = []
    for i, lit in enumerate(literals):
        o = (ox.Literal(lit.value, language=lit.lang) if lit.lang else ox.Literal(lit.value, datatype=ox.NamedNode(lit.datatype))
             if lit.datatype else ox.Literal(lit.value))
        store.add(ox.Quad(ox.NamedNode(f"http://x/s{i}"), ox.NamedNode("http://x/p"), o, g))
        written.append(f"<http://x/s{i}> <http://x/p> {lit.nt()} .\n")
    store.dump(str(tmp_path / "g.nt"), ox.RdfFormat.N_TRIPLES, from_graph=g)
    dumped = (tmp_path / "g.nt").read_bytes().split(b"\n")  # bytes: U+0085 stays inside its line
    assert sorted(line + b"\n" for line in dumped if line) == sorted(line.encode() for line in written)


# ---- the content digest ----------------------------------------------------------------------------

def independent_digest(where, graph: str = GRAPH) -> tuple[str, int]:
    """The digest as anyone computes it from a dump of the store (embedded or an engine, through
    ``where``: settings, or an embedded data directory): one SHA-256 per N-Quads line, summed."""
    from kg.store import open_home

    store = open_home(where, create=False).open_current()
    with tempfile.TemporaryDirectory() as tmp:
        store.dump(graph, Path(tmp) / "g.nt")
        lines = [line[:-3] + f" <{graph}> .\n".encode() for line in (Path(tmp) / "g.nt").read_bytes().splitlines(True)]
    total = sum(int.from_bytes(hashlib.sha256(line).digest(), "big") for line in lines)
    return f"{total % (1 << 256):064x}", len(lines)


def recorded(data_dir: Path, graph: str = GRAPH) -> tuple[str, int]:
    state = journal(data_dir)[-1]["state"][graph]
    return state["digest"], state["quads"]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_digest_after_full_load_and_diff_equals_full_load_of_the_result(tmp_path, backend):
    full = corporations(40)
    renamed = {5, 12, 30}
    closed = {7}
    deleted = {20}
    diff = []
    seq = 1
    for row in full:
        i = int(row[0])
        if i in renamed:  # the old state as history (latest=0), the new one current
            diff.append([str(seq)] + row[1:23] + ["0"] + row[24:])
            diff.append(nta_row(seq + 1, row[1], process="12", update="2021-08-01",
                                change="2021-08-01", name=f"株式会社新信頼{i}", city=row[10], city_code=row[14],
                                street=row[11], furigana=f"シンシンライ{i}"))
            seq += 2
        elif i in closed:
            diff.append(nta_row(seq, row[1], process="21", update="2021-08-01", change="2021-08-01", close="2021-08-01",
                                cause="01", name=row[6], city=row[10], city_code=row[14], street=row[11],
                                furigana=row[28]))
            seq += 1
        elif i in deleted:
            diff.append(nta_row(seq, row[1], process="99", update="2021-08-01", name=row[6]))
            seq += 1
    added = corporations(3, first=100)
    diff += added
    first, second = tmp_path / "a", tmp_path / "b"
    engine = backend.overrides() if backend else {}
    settings = load_settings({}, data_dir=str(first), base_uri=BASE, **engine)
    (tmp_path / "full.csv").write_text(nta_csv(full), encoding="utf-8")
    (tmp_path / "diff.csv").write_text(nta_csv(diff), encoding="utf-8")
    run_load(settings, "houjin", [tmp_path / "full.csv"])
    run_load(settings, "houjin", [tmp_path / "diff.csv"])
    after_diff = recorded(first)
    assert [e["digest"]["method"] for e in journal(first)] == ["incremental", "incremental"]  # no second pass
    assert after_diff == independent_digest(settings)

    # the state the diff left, as one full file: untouched rows, the diff's rows, not the deleted one
    changed = {r[1] for r in diff}
    result = sorted([r for r in full if r[1] not in changed] + [r for r in diff if r[2] != "99"],
                    key=lambda r: (r[1], int(r[0])))
    (tmp_path / "result.csv").write_text(nta_csv(result), encoding="utf-8")
    if backend is not None:
        backend.wipe()  # the second data directory's generations start again on the engine
    run_load(load_settings({}, data_dir=str(second), base_uri=BASE, **engine), "houjin", [tmp_path / "result.csv"])
    assert recorded(second) == after_diff
    assert journal(first)[0]["state"][GRAPH] != journal(first)[1]["state"][GRAPH]


def test_every_dataset_digest_is_that_of_its_graph(demo_dir):
    """Each loader's lines (streamed, bulk, transactional, upserts of laws and programs) hash
    to what the store holds, without the load recomputing anything."""
    entries = journal(demo_dir)
    assert {e["dataset"] for e in entries} == {"houjin", "abr", "laws", "programs"}
    assert all(e["digest"]["method"] == "incremental" for e in entries)
    for name in ("houjin", "abr", "laws", "programs"):
        assert recorded(demo_dir, M.graph(name)) == independent_digest(demo_dir, M.graph(name))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_quad_added_behind_the_loads_back_is_not_laundered_by_the_next_diff(tmp_path, backend):
    """A diff carries the recorded counts and digest forward by what it writes (it never counts a
    national graph): a quad added straight into the store (its files, or the engine's graph) is not
    taken into the next entry as if a load had written it, and ``verify_store`` names the graph
    that holds it, on every store."""
    from kg.store import open_home
    from kg.trust.verify import verify_store

    data = tmp_path / "data"
    settings = load_settings({}, data_dir=str(data), base_uri=BASE, **(backend.overrides() if backend else {}))
    (tmp_path / "a.csv").write_text(nta_csv(corporations(4)), encoding="utf-8")
    (tmp_path / "b.csv").write_text(nta_csv(corporations(2, first=30)), encoding="utf-8")
    run_load(settings, "houjin", [tmp_path / "a.csv"])
    before = recorded(data)
    home = open_home(settings, create=False)
    assert verify_store(home.open_current(), data).problems == []
    corp = M.corporation(corporations(1)[0][1])
    if backend is None:
        store = ox.Store(str(home.current_path()))
        store.add(ox.Quad(ox.NamedNode(corp), ox.NamedNode("http://x/p"), ox.Literal("behind the back"),
                          ox.NamedNode(GRAPH)))
        del store
    else:  # straight to the engine graph that holds graph/houjin, past kg
        current = home.open_current()
        current.client.update(f'INSERT DATA {{ GRAPH <{current.view[GRAPH]}> {{ <{corp}> <http://x/p> "behind the back" }} }}')
    run_load(settings, "houjin", [tmp_path / "b.csv"])
    assert journal(data)[-1]["digest"]["method"] == "incremental"
    digest, quads = recorded(data)
    assert quads == before[1] + independent_digest_of_rows(tmp_path, corporations(2, first=30))[1]
    problems = verify_store(open_home(settings, create=False).open_current(), data).problems
    assert len(problems) == 1 and GRAPH in problems[0] and f"holds {quads + 1:,} quads" in problems[0]


def independent_digest_of_rows(tmp_path: Path, rows: list[list[str]]) -> tuple[str, int]:
    """The digest a fresh load of ``rows`` alone records."""
    data = tmp_path / "alone"
    (tmp_path / "alone.csv").write_text(nta_csv(rows), encoding="utf-8")
    run_load(load_settings({}, data_dir=str(data), base_uri=BASE), "houjin", [tmp_path / "alone.csv"])
    return recorded(data)


def test_a_sparql_update_makes_the_next_load_compute_the_digest_afresh(tmp_path):
    """An update that swaps one quad for another keeps the graph's size, so the count check alone
    would miss it: the update itself forgets the recorded digests."""
    data = tmp_path / "data"
    settings = load_settings({}, data_dir=str(data), base_uri=BASE, update_token="t0ken")
    (tmp_path / "a.csv").write_text(nta_csv(corporations(4)), encoding="utf-8")
    (tmp_path / "b.csv").write_text(nta_csv(corporations(2, first=30)), encoding="utf-8")
    run_load(settings, "houjin", [tmp_path / "a.csv"])
    client, executor = _client(settings)
    try:
        corp = M.corporation(corporations(1)[0][1])
        answer = client.post("/sparql", headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer t0ken"},
                             data=f"""DELETE {{ GRAPH <{GRAPH}> {{ <{corp}> <http://www.w3.org/ns/regorg#legalName> ?n }} }}
                                      INSERT {{ GRAPH <{GRAPH}> {{ <{corp}> <http://www.w3.org/ns/regorg#legalName> "株式会社差替"@ja }} }}
                                      WHERE {{ GRAPH <{GRAPH}> {{ <{corp}> <http://www.w3.org/ns/regorg#legalName> ?n }} }}""")
        assert answer.status_code == 204, answer.get_data(as_text=True)
    finally:
        executor.close()
    result = run_load(settings, "houjin", [tmp_path / "b.csv"])
    assert journal(data)[-1]["digest"]["method"] == "recomputed"
    assert recorded(data) == independent_digest(data)
    # the load-time statistics were dropped by the update too, and counted in the store again
    assert result.stats.tally.counts is None and not result.stats.counts_carried


# ---- issuer signatures under the policy --------------------------------------------------------

@needs_gpg
def test_a_valid_signature_is_recorded_as_verified(tmp_path, keys):
    data = tmp_path / "data"
    path = nta_zip(tmp_path / "00_zenkoku_all_20241031.zip", corporations(3), keys["nta"])
    run_load(policy_settings(data, keys, "require"), "houjin", [path])
    [fact] = source_facts(data)
    assert fact["verdict"] == "verified" and fact["signer"] == keys["nta"].fingerprint and fact["at"]
    [entry] = journal(data)
    assert entry["sources"][0]["signature"]["verdict"] == "verified"
    assert entry["sources"][0]["signature"]["fingerprint"] == keys["nta"].fingerprint


CASES = {
    "modified": ("bad", lambda keys, path, rows: nta_zip(path, rows, keys["nta"], tamper=True)),
    "other key": ("unknown-key", lambda keys, path, rows: nta_zip(path, rows, keys["other"])),
    "missing": ("missing", lambda keys, path, rows: nta_zip(path, rows, None)),
}


@needs_gpg
@pytest.mark.parametrize("case", sorted(CASES))
def test_require_refuses_a_file_without_a_verified_signature_and_loads_nothing(tmp_path, keys, cli, data_dir,
                                                                               monkeypatch, case):
    verdict, make = CASES[case]
    path = make(keys, tmp_path / "00_zenkoku_all_20241031.zip", corporations(3))
    monkeypatch.setenv("KG_SIGNATURE_POLICY", "require")
    monkeypatch.setenv("KG_NTA_KEYRING", str(keys["nta"].public))
    result = cli("load", "houjin", str(path))
    assert result.exit_code == 1
    message = result.output.strip()
    assert "\n" not in message and f"signature {verdict}" in message and "00_zenkoku_all_20241031.csv" in message
    assert raw_current(data_dir) is None  # nothing was loaded
    assert not (data_dir / "journal.jsonl").exists()


@needs_gpg
@pytest.mark.parametrize("case", sorted(CASES))
def test_warn_loads_and_records_the_verdict(tmp_path, keys, case):
    verdict, make = CASES[case]
    data = tmp_path / "data"
    path = make(keys, tmp_path / "00_zenkoku_all_20241031.zip", corporations(3))
    run_load(policy_settings(data, keys, "warn"), "houjin", [path])
    [fact] = source_facts(data)
    assert fact["verdict"] == verdict and fact["signer"] is None
    assert journal(data)[0]["counts"]["loaded"] == 3


@needs_gpg
def test_ignore_checks_nothing_and_require_needs_a_keyring(tmp_path, keys):
    data = tmp_path / "data"
    path = CASES["modified"][1](keys, tmp_path / "x.zip", corporations(2))
    run_load(policy_settings(data, keys, "ignore"), "houjin", [path])
    assert [f["verdict"] for f in source_facts(data)] == ["unchecked"]
    with pytest.raises(LoadError, match="KG_NTA_KEYRING"):
        run_load(load_settings({}, data_dir=str(data), base_uri=BASE, signature_policy="require"), "houjin", [path])


@needs_gpg
def test_require_among_several_files_loads_only_the_verified_ones(tmp_path, keys):
    data = tmp_path / "data"
    good = nta_zip(tmp_path / "a.zip", corporations(2), keys["nta"])
    bad = nta_zip(tmp_path / "b.zip", corporations(2, first=50), keys["other"])
    run_load(policy_settings(data, keys, "require"), "houjin", [good, bad])
    store = raw_current(data)
    names = {s["n"].value for s in run_query(store, "SELECT ?n WHERE { ?c rov:legalName ?n }")}
    assert names == {"株式会社信頼1", "株式会社信頼2"}
    assert [s["file"] for s in source_facts(data)] == ["a.zip!a.csv"]


def abr_pref_zip(directory: Path) -> Path:
    from support import abr_rows

    directory.mkdir(parents=True, exist_ok=True)
    return abr_rows.write_zip(directory / "mt_pref_all.csv.zip", "mt_pref_all.csv",
                              abr_rows.csv_text(abr_rows.PREF, abr_rows.PREF_ROWS))


@pytest.mark.parametrize("policy", ["warn", "require"])
def test_a_checksum_published_with_abr_files_is_compared(tmp_path, keys, policy):
    """The ABR gives SHA-256s, not signatures: SHA256SUMS beside the download is compared with
    the zip; a mismatch is recorded (warn) or refused with nothing loaded (require)."""
    downloads = tmp_path / "abr"
    path = abr_pref_zip(downloads)
    sums = downloads / "SHA256SUMS"
    sums.write_text(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n")
    good = tmp_path / "good"
    run_load(policy_settings(good, keys, policy), "abr", [path])
    assert [f["verdict"] for f in source_facts(good)] == ["checksum-match"]

    sums.write_text(f"{'0' * 64}  {path.name}\n")
    bad = tmp_path / "bad"
    if policy == "require":
        with pytest.raises(LoadError, match=r"mt_pref_all.csv: checksum mismatch: SHA-256 .* published in SHA256SUMS"):
            run_load(policy_settings(bad, keys, policy), "abr", [path])
        assert raw_current(bad) is None
    else:
        run_load(policy_settings(bad, keys, policy), "abr", [path])
        assert [f["verdict"] for f in source_facts(bad)] == ["checksum-mismatch"]


# ---- signed publication and kg verify ------------------------------------------------------------

@pytest.fixture
def published(tmp_path, keys, cli, data_dir, monkeypatch):
    """Two signed loads, then `kg dump`, all with KG_SIGNING_KEY set."""
    monkeypatch.setenv("KG_SIGNING_KEY", str(keys["publisher"].secret))
    monkeypatch.setenv("KG_NTA_KEYRING", str(keys["nta"].public))
    assert cli("load", "houjin", str(nta_zip(tmp_path / "full.zip", corporations(8), keys["nta"]))).exit_code == 0
    assert cli("load", "houjin", str(nta_zip(tmp_path / "more.zip", corporations(2, first=60), keys["nta"]))).exit_code == 0
    result = cli("dump")
    assert result.exit_code == 0 and "signatures (.asc)" in result.output
    return data_dir


def failures(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("FAILED: ")]


@needs_gpg
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_verify_passes_on_what_was_published(published, cli, keys):
    result = cli("verify")
    assert result.exit_code == 0, result.output
    assert "chain intact" in result.output and f"signature verified (key {keys['publisher'].fingerprint})" in result.output
    dumps = published / "dumps"
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dumps, capture_output=True, text=True)
    assert sums.returncode == 0
    # the standard tools agree: gpg --verify with the public key the data directory publishes
    home = published.parent / "gnupg-check"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home)]
    subprocess.run(gpg + ["--import", str(published / "signing-key.asc")], check=True, capture_output=True)
    for name in ("houjin.nq.gz", "manifest.json", "SHA256SUMS"):
        assert subprocess.run(gpg + ["--verify", f"{name}.asc", name], cwd=dumps, capture_output=True).returncode == 0
    assert subprocess.run(gpg + ["--verify", "journal.jsonl.asc", "journal.jsonl"], cwd=published,
                          capture_output=True).returncode == 0
    from kg.trust.openpgp import stop_agent

    stop_agent(home)
    with gzip.open(dumps / "houjin.nq.gz", "rb") as fh:
        total = sum(int.from_bytes(hashlib.sha256(line).digest(), "big") for line in fh)
    manifest = json.loads((dumps / "manifest.json").read_text())
    [entry] = [f for f in manifest["files"] if f["file"] == "houjin.nq.gz"]
    assert entry["content_digest"] == f"{total % (1 << 256):064x}" == journal(published)[-1]["state"][GRAPH]["digest"]


@needs_gpg
def test_verify_detects_a_changed_byte_in_a_dump(published, cli):
    dump = published / "dumps" / "houjin.nq.gz"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    result = cli("verify", "--no-store", str(dump))
    assert result.exit_code == 1
    found = failures(result)
    assert found and all("houjin.nq.gz" in line for line in found)
    assert any("signature bad" in line for line in found)


@needs_gpg
def test_verify_detects_a_dump_rewritten_with_its_sums(published, cli):
    """Someone who rewrites a dump and its manifest (but cannot sign) is caught by the signature
    and by the journal, which records the digest the dump was made at."""
    dumps = published / "dumps"
    with gzip.open(dumps / "houjin.nq.gz", "rb") as fh:
        lines = fh.readlines()
    i = next(i for i, line in enumerate(lines) if "株式会社信頼".encode() in line)
    lines[i] = lines[i].replace("株式会社信頼".encode(), "株式会社偽".encode())
    with gzip.open(dumps / "houjin.nq.gz", "wb") as fh:
        fh.writelines(lines)
    manifest = json.loads((dumps / "manifest.json").read_text())
    for f in manifest["files"]:
        if f["file"] == "houjin.nq.gz":
            f["sha256"] = hashlib.sha256((dumps / "houjin.nq.gz").read_bytes()).hexdigest()
            total = sum(int.from_bytes(hashlib.sha256(line).digest(), "big") for line in lines)
            f["content_digest"] = f"{total % (1 << 256):064x}"
    (dumps / "manifest.json").write_text(json.dumps(manifest))
    found = failures(cli("verify", "--no-store", str(dumps / "houjin.nq.gz")))
    assert any("content digest differs from the journal entry" in line for line in found), found
    assert any("manifest.json: signature bad" in line for line in found)


@needs_gpg
@pytest.mark.parametrize("how", ["drop", "edit"])
def test_verify_detects_a_dropped_or_edited_journal_entry(published, cli, how):
    path = published / "journal.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if how == "drop":
        del lines[0]
    else:
        lines[0] = lines[0].replace('"loaded":8', '"loaded":9')
    path.write_text("".join(lines), encoding="utf-8")
    result = cli("verify", "--no-store")
    assert result.exit_code == 1
    found = failures(result)
    assert any("journal.jsonl: line 1" in line or "journal.jsonl: line 2" in line for line in found)
    assert any("journal.jsonl: signature bad" in line for line in found)


@needs_gpg
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_verify_detects_a_quad_changed_in_the_store(published, cli, settings, backend):
    """A name swapped for another behind kg's back (same count): found by the digest, on every store."""
    from kg.store import open_home

    home = open_home(settings, create=False)
    legal_name = "http://www.w3.org/ns/regorg#legalName"
    if backend is None:
        store = ox.Store(str(home.current_path()))
        quad = next(iter(store.quads_for_pattern(None, ox.NamedNode(legal_name), None, ox.NamedNode(GRAPH))))
        store.remove(quad)
        store.add(ox.Quad(quad.subject, quad.predicate, ox.Literal("株式会社改竄", language="ja"), quad.graph_name))
        del store
    else:  # in the engine graph that holds graph/houjin, past kg
        current = home.open_current()
        g = current.view[GRAPH]
        current.client.update(f"""DELETE {{ GRAPH <{g}> {{ ?s <{legal_name}> ?o }} }}
            INSERT {{ GRAPH <{g}> {{ ?s <{legal_name}> "株式会社改竄"@ja }} }}
            WHERE {{ {{ SELECT ?s ?o WHERE {{ GRAPH <{g}> {{ ?s <{legal_name}> ?o FILTER(lang(?o) = "ja") }} }}
                      ORDER BY ?s LIMIT 1 }} }}""")
    result = cli("verify", "--no-store")
    assert result.exit_code == 0, result.output  # the files alone are intact
    result = cli("verify")
    assert result.exit_code == 1
    [line] = failures(result)
    assert line.startswith(f"FAILED: store: {GRAPH} holds ") and "the journal head (entry 2)" in line


# ---- what is served ------------------------------------------------------------------------------

def _client(settings):
    from kg.server import create_app
    from kg.server.executor import InlineExecutor

    executor = InlineExecutor(settings)
    return create_app(settings, executor=executor).test_client(), executor


@needs_gpg
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_datasets_and_catalogue_show_signatures_digests_and_the_journal(published, keys, tmp_path, settings):
    settings = settings.with_overrides(signing_key=str(keys["publisher"].secret))
    client, executor = _client(settings)
    try:
        page = client.get("/datasets").get_data(as_text=True)
        head = journal(published)[-1]
        assert "署名あり / signed" in page and keys["nta"].fingerprint in page and ">verified" in page
        assert head["state"][GRAPH]["digest"] in page and "Chain intact." in page
        void = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
        turtle = void.get_data()
        assert head["state"][GRAPH]["digest"].encode() in turtle and b"journalHead" in turtle
        key = client.get("/.well-known/kg-signing-key.asc").get_data()
        assert b"PUBLIC KEY" in key and b"PRIVATE" not in key
        (tmp_path / "void.ttl").write_bytes(turtle)
        (tmp_path / "void.ttl.asc").write_bytes(client.get("/.well-known/void.asc").get_data())
        (tmp_path / "key.asc").write_bytes(key)
        from kg.trust.openpgp import verify_file

        verdict = verify_file(tmp_path / "void.ttl", tmp_path / "void.ttl.asc", tmp_path / "key.asc")
        assert verdict.verified and verdict.fingerprint == keys["publisher"].fingerprint
        assert client.get("/journal.jsonl").get_data() == (published / "journal.jsonl").read_bytes()
        assert client.get("/journal.jsonl.asc").status_code == 200
        assert client.get("/dumps/houjin.nq.gz.asc").status_code == 200
        assert client.get("/dumps/manifest.json").status_code == 200
    finally:
        executor.close()


def test_unsigned_output_is_said_plainly(demo_dir):
    client, executor = _client(load_settings({}, data_dir=str(demo_dir), base_uri=BASE))
    try:
        page = client.get("/datasets").get_data(as_text=True)
        assert "署名なし / unsigned" in page and "KG_SIGNING_KEY" in page
        assert client.get("/.well-known/kg-signing-key.asc").status_code == 404
        assert client.get("/.well-known/void.asc").status_code == 404
        assert client.get("/journal.jsonl").status_code == 200
    finally:
        executor.close()
