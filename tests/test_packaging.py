"""A non-editable install in a fresh virtualenv gives a working `kg` that finds its data files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from support.server import start_server

ROOT = Path(__file__).parent.parent


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a step; a failure shows the child's own output, not just its exit status."""
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_non_editable_install_runs_the_demo(tmp_path):
    """Build a wheel with this interpreter (its setuptools), install it into a fresh venv that
    sees this environment's packages only through a .pth line (so `kg` itself comes from the
    wheel), and run the demo there. Works whether the suite runs in a venv or not."""
    # build from a copy so no build/ or egg-info debris lands in the working tree
    _run(["cp", "-r", str(ROOT), str(tmp_path / "src")])
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--wheel-dir", str(tmp_path / "dist"), str(tmp_path / "src")])
    wheel = next((tmp_path / "dist").glob("*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site_dir = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)])
    # only now: before the install, pip would see an outer `kg` through this line and skip it
    deps = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (Path(site_dir) / "outer-deps.pth").write_text("\n".join(deps) + "\n")
    env = {**os.environ, "KG_DATA_DIR": str(tmp_path / "data")}
    site = _run([str(python), "-c", "import kg, kg.loaders, importlib.util as u; print(kg.__file__); "
                 "print(u.find_spec('loaders'))"], env=env, cwd=tmp_path)
    assert str(venv) in site.stdout.splitlines()[0]
    assert site.stdout.splitlines()[1] == "None"  # no top-level `loaders` module is installed
    demo = _run([str(venv / "bin" / "kg"), "demo", "--no-serve"], env=env, cwd=tmp_path)
    assert re.search(r"demo: houjin: loaded \d+ records", demo.stdout), demo.stdout
    stats = _run([str(venv / "bin" / "kg"), "stats"], env=env, cwd=tmp_path)
    assert "graph/ontology" in stats.stdout and "graph/codes" in stats.stdout
    # served from inside a source checkout, as a new user runs `kg demo` after `pip install .`:
    # the server's processes must run the installed package, not the checkout beside them
    served = start_server(tmp_path / "data", tmp_path / "src", kg=venv / "bin" / "kg")
    url = next(served)
    try:
        with urllib.request.urlopen(url + "/doc/corporation/7000012050002", timeout=10) as r:
            assert r.status == 200 and "国税庁" in r.read().decode()
    finally:
        served.close()


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
