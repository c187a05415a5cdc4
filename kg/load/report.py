"""Rejection reports: one CSV row per problem, naming file, line, key, focus node and constraint."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO

FIELDS = ("source", "line", "key", "focus", "path", "constraint", "message", "value")


class Report:
    def __init__(self, path: Path):
        self.path = path
        self.count = 0
        self._fh: IO[str] | None = None
        self._writer = None

    def add(self, *, source: str, line: int, key: str, focus: str = "", path: str | None = "",
            constraint: str, message: str, value: str | None = "") -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            exists = self.path.exists() and self.path.stat().st_size > 0
            self._fh = open(self.path, "a" if exists else "w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._fh)
            if not exists:
                self._writer.writerow(FIELDS)
        self._writer.writerow((source, line, key, focus, path or "", constraint, message, value or ""))
        self.count += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()

    @property
    def written(self) -> bool:
        """True once any process appended to the report (a load's child writes to it too)."""
        return self.path.exists()


def read_report(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
