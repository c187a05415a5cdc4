"""Against the REAL published excerpts in ../shared/data/real (skipped when absent)."""

from __future__ import annotations

import csv
import zipfile
from collections import defaultdict

import pyoxigraph as ox
import pytest

from kg.rdf.iri import Minter
from kg.load.pipeline import run_load
from support import current_store, raw_current, run_query
from kg.settings import load_settings

from support import BASE

M = Minter(BASE)
DIFF = "houjin/nta_diff_20210714_unicode.csv"

pytestmark = [pytest.mark.real, pytest.mark.engines]


@pytest.fixture(scope="module")
def real_load(tmp_path_factory, module_backend):
    """The real diff loaded once for the module, embedded or on its engine: (settings, result)."""
    from support import REAL

    if not (REAL / DIFF).exists():
        pytest.skip("../shared/data/real is not present")
    settings = load_settings({}, data_dir=str(tmp_path_factory.mktemp("real") / "d"), base_uri=BASE,
                             **(module_backend.overrides() if module_backend else {}))
    return settings, run_load(settings, "houjin", [REAL / DIFF])


@pytest.fixture(scope="module")
def loaded(real_load):
    """(the load's result, the served store, the file)."""
    from support import REAL

    settings, result = real_load
    return result, current_store(settings), REAL / DIFF


def expected_states(path):
    rows = list(csv.reader(open(path, encoding="utf-8")))
    by_number = defaultdict(list)
    for row in rows:
        by_number[row[1]].append(row)
    return rows, {n: [r for r in rs if r[23] == "1"][-1] for n, rs in by_number.items()}, by_number


def test_real_diff_loads_without_rejections(loaded):
    result, store, path = loaded
    rows, current, _ = expected_states(path)
    assert (result.stats.read, result.stats.loaded, result.stats.rejected) == (2772, 2772, 0)
    assert result.stats.entities == len(current) == 2396


def test_every_corporation_has_its_latest_name_and_state(loaded):
    _, store, path = loaded
    _, current, by_number = expected_states(path)
    names = {s["c"].value.rsplit("/", 1)[-1]: s["n"].value for s in run_query(
        store, "SELECT ?c ?n WHERE { ?c a rov:RegisteredOrganization ; rov:legalName ?n FILTER(lang(?n)='ja') }", M)}
    assert names == {n: r[6] for n, r in current.items()}
    closed = {s["c"].value.rsplit("/", 1)[-1]: (s["d"].value, s["cause"].value.rsplit("/", 1)[-1]) for s in run_query(
        store, "SELECT ?c ?d ?cause WHERE { ?c kg:closeDate ?d ; kg:closeCause ?cause ; rov:orgStatus ?st "
               "FILTER(STRENDS(STR(?st), 'closed')) }", M)}
    assert closed == {n: (r[18], r[19]) for n, r in current.items() if r[18]}
    assert len(closed) > 100
    successors = {s["c"].value.rsplit("/", 1)[-1]: s["t"].value.rsplit("/", 1)[-1] for s in run_query(
        store, "SELECT ?c ?t WHERE { ?c a rov:RegisteredOrganization ; kg:successor ?t }", M)}
    assert successors == {n: r[20] for n, r in current.items() if r[20]}
    assert successors["1040001042029"] == "5010401092060"  # 千葉日野自動車 → 南関東日野自動車
    history = sum(len(rs) - 1 for rs in by_number.values())
    records = int(next(iter(run_query(store, "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a kg:CorporationRecord }", M)))["n"].value)
    assert records <= history and records > 300


def test_cp932_and_zip_editions_load_identically(loaded, tmp_path, module_backend):
    """(Decoding is the same whatever the store: the embedded store only, whose three loads do
    not share one engine's pointer graph.)"""
    if module_backend is not None:
        pytest.skip("the editions' decoding does not depend on the store")
    result, store, path = loaded
    graph = ox.NamedNode(M.graph("houjin"))
    # The Shift_JIS edition cannot hold characters outside JIS X 0208 (the NTA gives an image ID
    # instead); such rows are left out of the CP932 copy and of the comparison.
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    unencodable = set()
    for line in lines:
        try:
            line.encode("cp932")
        except UnicodeEncodeError:
            unencodable.add(line.split(",")[1])
    assert 0 < len(unencodable) < 20

    def comparable(text):
        return sorted(l for l in text.splitlines() if not any(f"/corporation/{n}" in l for n in unencodable))

    reference = comparable(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph).decode())
    sjis = tmp_path / "diff_20210714.csv"
    sjis.write_bytes("".join(l for l in lines if l.split(",")[1] not in unencodable).encode("cp932"))
    archive = tmp_path / "diff_20210714.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "diff_20210714.csv")
    for i, source in enumerate([sjis, archive]):
        settings = load_settings({}, data_dir=str(tmp_path / f"d{i}"), base_uri=BASE)
        r = run_load(settings, "houjin", [source])
        assert r.stats.rejected == 0
        other = raw_current(settings.data_path)
        assert comparable(other.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph).decode()) == reference


@pytest.fixture(scope="module")
def searchable(real_load):
    """The search index of the real diff's generation (a local file on every backend), read-only."""
    from kg.store import open_home
    from kg.store.search import FILENAME, SearchIndex

    settings, _ = real_load
    index = SearchIndex(open_home(settings).current_path() / FILENAME, readonly=True)
    yield index
    index.db.close()


def test_real_corporations_are_found_by_number_address_and_folded_name(searchable):
    (hit,) = searchable.search("5020001067643")[0]
    assert (hit.label, hit.address, hit.status) == ("川﨑いすゞ食品株式会社", "神奈川県川崎市宮前区水沢１丁目１番１号", "active")
    for query in ("川崎いすゞ", "川﨑いすゞ"):  # the NTA writes 﨑 U+FA11, which NFKC does not fold
        assert "5020001067643" in [h.code for h in searchable.search(query)[0]]
    assert "小嶋デザイン株式会社" in [h.label for h in searchable.search("小島デザイン")[0]]
    closed = searchable.search("1010702006672")[0]
    assert [(h.label, h.status) for h in closed] == [("有限会社バランス", "closed")]
    hits, total = searchable.search("東京都千代田区", kind="corporation", limit=100)
    assert total >= 20 and all(h.address.startswith("東京都千代田区") for h in hits)
