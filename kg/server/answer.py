"""What the query path hands back to the web layer: a serialised body and its headers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Answer:
    body: bytes
    media_type: str
    truncated: bool = False
    headers: dict[str, str] = field(default_factory=dict)
