"""A non-editable install in a fresh virtualenv gives a working `kg` that finds its data files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_non_editable_install_runs_the_demo(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = venv / "bin" / "pip"
    # build from a copy so no build/ or egg-info debris lands in the working tree
    subprocess.run(["cp", "-r", str(ROOT), str(tmp_path / "src")], check=True)
    subprocess.run([str(pip), "install", "--quiet", "--no-deps", "--no-build-isolation", str(tmp_path / "src")],
                   check=True, capture_output=True)
    env = {**os.environ, "KG_DATA_DIR": str(tmp_path / "data")}
    site = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import kg, kg.loaders, importlib.util as u; print(kg.__file__); "
                           "print(u.find_spec('loaders'))"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert str(venv) in site.stdout.splitlines()[0]
    assert site.stdout.splitlines()[1] == "None"  # no top-level `loaders` module is installed
    demo = subprocess.run([str(venv / "bin" / "kg"), "demo", "--no-serve"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert re.search(r"demo: houjin: loaded \d+ records", demo.stdout), demo.stdout
    stats = subprocess.run([str(venv / "bin" / "kg"), "stats"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert "graph/ontology" in stats.stdout and "graph/codes" in stats.stdout


def test_every_python_package_is_declared_in_pyproject():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    mapping = config["package-dir"]
    for name, folder in mapping.items():
        assert name in declared, name
    for init in list((ROOT / "kg").rglob("__init__.py")) + list((ROOT / "loaders").rglob("__init__.py")):
        rel = init.parent.relative_to(ROOT)
        parts = list(rel.parts)
        name = ".".join(["kg", "loaders", *parts[1:]] if parts[0] == "loaders" else parts)
        assert name in declared, f"{name} ({rel}) is not in pyproject's packages: a non-editable install would lack it"
