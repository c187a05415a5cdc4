"""What the server benchmarks share: options, a loaded data directory, both servers on loopback, wrk."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
BASE = "http://localhost:8000/"


def parse_args(doc: str, rows: int, argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=rows)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--data-dir", type=Path, help="an already loaded KG_DATA_DIR to reuse")
    args = ap.parse_args(argv)
    for tool in ("wrk", "oxigraph", "kg"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: `{tool}` is not on PATH")
    return args


def prepare(args: argparse.Namespace, prefix: str, *generator_options: str) -> tuple[Path, Path, dict, Path | None]:
    """(scratch dir, data dir, environment, generated CSV or None): generates and loads N
    corporations unless --data-dir names a loaded one."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    data_dir = args.data_dir or tmp / "data"
    env = {**os.environ, "KG_DATA_DIR": str(data_dir), "KG_BASE_URI": BASE}
    if args.data_dir is not None:
        return tmp, data_dir, env, None
    csv_path = tmp / "houjin.csv"
    subprocess.run([sys.executable, str(HERE / "gen_houjin.py"), "--rows", str(args.rows), *generator_options,
                    "--out", str(csv_path)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["kg", "load", "houjin", str(csv_path), "--no-progress"], env=env, check=True)
    return tmp, data_dir, env, csv_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"bench: {url} did not come up")


@contextmanager
def servers(env: dict, oxigraph_location: Path, *oxigraph_options: str) -> Iterator[tuple[str, str]]:
    """`kg serve` and `oxigraph serve-read-only` on loopback: (our URL, oxigraph's URL)."""
    our_port, oxi_port = free_port(), free_port()
    # the kg beside this interpreter: a `kg` found on PATH may be another install (a pyenv shim
    # of an older kg measured the wrong code here once)
    kg = Path(sys.executable).with_name("kg")
    procs = [subprocess.Popen([str(kg) if kg.exists() else "kg", "serve", "--port", str(our_port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen(["oxigraph", "serve-read-only", "--location", str(oxigraph_location),
                               "--bind", f"127.0.0.1:{oxi_port}", *oxigraph_options],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    our, oxi = f"http://127.0.0.1:{our_port}", f"http://127.0.0.1:{oxi_port}"
    try:
        wait_ready(our + "/healthz")
        wait_ready(oxi + "/query?query=ASK%7B%7D")
        yield our, oxi
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def wrk(url: str, script: Path, duration: int, connections: int, cpus: str | None = None) -> dict:
    """``cpus``: run wrk on these CPUs only (``taskset -c``)."""
    pin = ["taskset", "-c", cpus] if cpus else []
    out = subprocess.run([*pin, "wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests_per_s": rps, "p50_ms": ms("50"), "p99_ms": ms("99"),
            "non_2xx": int(errors.group(1)) if errors else 0, "raw": out}
