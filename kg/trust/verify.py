"""``kg verify``: offline checks of what this project published and holds.

* the journal: every link of the hash chain, and its signature;
* the store: each dataset graph's content digest, computed afresh from the served generation,
  against the state the journal's head recorded;
* a dump: its signature, its SHA-256 and content digest against the (signed) ``manifest.json``
  beside it, and that digest against the journal entry the manifest names.

Each check gives lines: problems (one line each, naming the file or graph) and notes.
"""

from __future__ import annotations

import gzip
import json
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from kg.load.digest import digest_dump, digest_ntriples_file
from kg.trust.journal import Journal, check_chain, entry_hash
from kg.trust.openpgp import verify_file
from kg.trust.publish import MANIFEST, sha256_file


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _signature(path: Path, key: Path | None, found: Findings) -> None:
    signature = path.with_name(path.name + ".asc")
    if key is None:
        found.notes.append(f"{path.name}: signature not checked (no public key: --key or KG_SIGNING_KEY)")
        return
    if not signature.is_file():
        found.problems.append(f"{path}: no signature ({signature.name} is missing)")
        return
    verdict = verify_file(path, signature, key)
    if verdict.verified:
        found.notes.append(f"{path.name}: signature verified (key {verdict.fingerprint})")
    else:
        found.problems.append(f"{path}: signature {verdict.status}: {verdict.reason}")


def verify_journal(data_dir: Path, key: Path | None) -> Findings:
    found = Findings()
    journal = Journal.of(data_dir)
    if not journal.path.exists():
        found.problems.append(f"{journal.path}: no journal (nothing was loaded, or it was removed)")
        return found
    found.problems += check_chain(journal.path)
    head = journal.head()
    if not found.problems and head:
        found.notes.append(f"journal: {head[0]} entries, chain intact, head {head[1]}")
    _signature(journal.path, key, found)
    return found


def verify_store(store, data_dir: Path) -> Findings:
    """The served graphs against the journal head's recorded state (a pass over each graph)."""
    found = Findings()
    entries = Journal.of(data_dir).entries()
    if not entries:
        found.problems.append("store: the journal records no load to compare the store with")
        return found
    head = entries[-1]
    present = set(store.named_graphs())
    with tempfile.TemporaryDirectory(prefix="kg-verify-") as scratch:
        for graph, want in sorted(head.get("state", {}).items()):
            if graph not in present:
                found.problems.append(f"store: {graph} is missing; the journal head (entry {head['seq']}) "
                                      f"records {want['quads']:,} quads")
                continue
            path = Path(scratch) / "graph.nt"
            store.dump(graph, path)
            value, quads = digest_ntriples_file(path, graph)
            path.unlink()
            if (value, quads) != (want["digest"], want["quads"]):
                found.problems.append(f"store: {graph} holds {quads:,} quads with digest {value[:16]}…, the journal "
                                      f"head (entry {head['seq']}) records {want['quads']:,} with {want['digest'][:16]}…")
            else:
                found.notes.append(f"store: {graph} matches the journal head ({quads:,} quads)")
    return found


def verify_dump(path: Path, key: Path | None, data_dir: Path | None, seen: set[Path] | None = None) -> Findings:
    """``seen``: manifests whose signature was already checked (one line per directory)."""
    found = Findings()
    if not path.is_file():
        found.problems.append(f"{path}: no such file")
        return found
    _signature(path, key, found)
    manifest_path = path.with_name(MANIFEST)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entry = next(f for f in manifest["files"] if f["file"] == path.name)
    except FileNotFoundError:
        found.problems.append(f"{path}: no {MANIFEST} beside it to check it against")
        return found
    except (ValueError, KeyError, StopIteration):
        found.problems.append(f"{path}: {manifest_path.name} does not list it (or is not a kg dump manifest)")
        return found
    if seen is None or manifest_path not in seen:
        _signature(manifest_path, key, found)
        if seen is not None:
            seen.add(manifest_path)
    if sha256_file(path) != entry["sha256"]:
        found.problems.append(f"{path}: SHA-256 differs from {manifest_path.name} (the file was altered)")
    try:
        digests = digest_dump(path)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, ValueError) as exc:
        found.problems.append(f"{path}: not a readable gzip N-Quads dump ({exc})")
        return found
    value, quads = digests.get(entry["graph"], ("0" * 64, 0))
    if set(digests) - {entry["graph"]}:
        found.problems.append(f"{path}: holds quads of other graphs than {entry['graph']}")
    if quads != entry["quads"]:
        found.problems.append(f"{path}: {quads:,} quads, {manifest_path.name} says {entry['quads']:,}")
    want = entry.get("content_digest")
    if want is not None and value != want:
        found.problems.append(f"{path}: content digest {value[:16]}… differs from {manifest_path.name}'s {want[:16]}…")
    journal = (manifest.get("journal") or {}).get("head")
    if want is not None and journal and data_dir is not None and Journal.of(data_dir).path.exists():
        lines = Journal.of(data_dir).lines()
        named = [json.loads(line) for line in lines if entry_hash(line) == journal]
        if not named:
            found.problems.append(f"{path}: the journal has no entry {journal[:16]}… that {manifest_path.name} names")
        elif named[0].get("state", {}).get(entry["graph"], {}).get("digest") != value:
            found.problems.append(f"{path}: content digest differs from the journal entry {named[0]['seq']} "
                                  f"it was dumped at")
    if not found.problems:
        found.notes.append(f"{path.name}: {quads:,} quads, SHA-256 " + (f"and content digest {value[:16]}… as recorded"
                                                                      if want else "as recorded"))
    return found
