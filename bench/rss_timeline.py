#!/usr/bin/env python3
"""The resident memory of every process of a command, each second, to see which one peaks when.

    python bench/rss_timeline.py OUT.jsonl -- kg load houjin FILE.csv --no-progress

Writes one JSON line a second: ``{"t": seconds, "<pid>": [rss MiB, threads], ...}`` for the
command and its descendants, then prints the tree's peak and the largest process's. (How the
links step's one-call bulk load was found to be a load's memory peak: bench/README.md, session 9.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    children.setdefault(int(fh.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except OSError:
                pass
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        raise SystemExit(__doc__)
    proc = subprocess.Popen(sys.argv[3:])
    started, peak_tree, peak_one = time.time(), 0, 0
    with open(sys.argv[1], "w") as out:
        while proc.poll() is None:
            row: dict = {"t": round(time.time() - started, 1)}
            for pid in tree(proc.pid):
                try:
                    with open(f"/proc/{pid}/statm") as fh:
                        rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
                    row[str(pid)] = [rss, len(os.listdir(f"/proc/{pid}/task"))]
                except OSError:
                    pass
            sizes = [v[0] for k, v in row.items() if k != "t"]
            peak_tree, peak_one = max(peak_tree, sum(sizes)), max([peak_one, *sizes])
            out.write(json.dumps(row) + "\n")
            out.flush()
            time.sleep(1)
    print(f"exit {proc.returncode}; peak: process tree {peak_tree} MiB, largest process {peak_one} MiB")


if __name__ == "__main__":
    main()
