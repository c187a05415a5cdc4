"""Shared fixtures: a fresh data directory per test, NTA rows written for the tests, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.settings import load_settings
from support import BASE, REAL


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "kg-data"


@pytest.fixture
def settings(data_dir: Path):
    return load_settings({}, data_dir=str(data_dir), base_uri=BASE)


@pytest.fixture
def cli(data_dir: Path):
    """Run `kg ...` in-process against the test's data directory; returns the click Result."""
    from kg.cli import main

    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, ["--data-dir", str(data_dir), "--base-uri", BASE, *args], input=input,
                             catch_exceptions=False)

    return run


@pytest.fixture
def real_dir() -> Path:
    if not REAL.is_dir():
        pytest.skip("../shared/data/real is not present")
    return REAL


