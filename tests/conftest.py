"""Shared fixtures: a fresh data directory per test, NTA rows written for the tests, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.settings import load_settings
from support import BASE, REAL
from support.server import start_server


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "kg-data"


def pytest_generate_tests(metafunc):
    """Modules marked ``engines`` run each test once per backend (embedded, then each engine)."""
    from support.engines import BACKENDS

    if not metafunc.definition.get_closest_marker("engines"):
        return
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)
    elif "module_backend" in metafunc.fixturenames:
        metafunc.parametrize("module_backend", BACKENDS, indirect=True, scope="module")


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory):
    """Oxigraph server (the ``oxigraph`` binary from PyPI), one for the whole session."""
    from support.engines import start_oxigraph

    yield from start_oxigraph(tmp_path_factory.mktemp("oxigraph-server") / "db")


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory):
    """OpenLink Virtuoso 7 (Debian's ``virtuoso-opensource``), one for the whole session."""
    from support.engines import start_virtuoso

    yield from start_virtuoso(tmp_path_factory.mktemp("virtuoso") / "db")


@pytest.fixture(scope="module")
def module_backend(request, tmp_path_factory):
    """For a module whose data lives as long as the module (a loaded demo behind an app): None
    (embedded) or an engine of the module's own, so no other test's wipe reaches it."""
    from support.engines import start_oxigraph, start_virtuoso

    name = getattr(request, "param", "embedded")
    if name == "embedded":
        yield None
        return
    start = {"oxigraph-server": start_oxigraph, "virtuoso": start_virtuoso}[name]
    yield from start(tmp_path_factory.mktemp(name) / "db")


@pytest.fixture
def backend(request):
    """Where the test's store lives: ``embedded`` (default) or an engine (an :class:`Engine`),
    wiped for this test."""
    name = getattr(request, "param", "embedded")
    if name == "embedded":
        return None
    engine = request.getfixturevalue(name.replace("-", "_"))
    engine.wipe()
    return engine


@pytest.fixture
def settings(data_dir: Path, backend):
    return load_settings({}, data_dir=str(data_dir), base_uri=BASE, **(backend.overrides() if backend else {}))


@pytest.fixture
def cli(data_dir: Path, backend):
    """Run `kg ...` in-process against the test's data directory (and engine); returns the click Result."""
    from kg.cli import main

    runner = CliRunner(env=backend.env() if backend else None)

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, ["--data-dir", str(data_dir), "--base-uri", BASE, *args], input=input,
                             catch_exceptions=False)

    return run


@pytest.fixture
def real_dir() -> Path:
    if not REAL.is_dir():
        pytest.skip("../shared/data/real is not present")
    return REAL




# ---- the demo data, loaded once per session ---------------------------------------------------

@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A data directory holding every bundled sample dataset, loaded once for the whole session.

    Read it, never write it: a test that adds data works on :func:`demo_copy`.
    """
    from kg.load.pipeline import run_load
    from kg.resources import package_dir

    data = tmp_path_factory.mktemp("demo") / "data"
    settings = load_settings({}, data_dir=str(data), base_uri=BASE)
    samples = package_dir("samples")
    for name in ("houjin", "abr", "laws", "programs"):
        run_load(settings, name, [samples / name], replace=True)
    return data


@pytest.fixture(scope="module")
def demo_copy(demo_dir: Path, tmp_path_factory) -> Path:
    """A private copy of the demo data directory (cheap: the demo is a few MB) for one module."""
    import shutil

    target = tmp_path_factory.mktemp("demo-copy") / "data"
    shutil.copytree(demo_dir, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def demo_server(demo_dir: Path, tmp_path_factory):
    """A running ``kg serve`` (uvicorn worker processes) over the demo data, with a 4 s time limit."""
    yield from start_server(demo_dir, tmp_path_factory.mktemp("serve"), KG_QUERY_TIMEOUT="4")


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (skips where it is not installed)."""
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()
