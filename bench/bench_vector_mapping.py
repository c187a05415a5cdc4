#!/usr/bin/env python3
"""A prototype for the design proposed on issue 14: the NTA CSV mapped as column expressions.

    python bench/bench_vector_mapping.py FILE.csv [--out FILE.nt]

Our houjin mapping runs per row in Python (~300 µs a row with validation and serialisation, the
mapping child of a load). The NTA file is columnar and regular, so most of it can be written as
one string expression per predicate over every row at once (pyarrow.compute, C++). This maps the
main columns of a corporation (type, identifier, registration, status, names, kind, process,
dates, address node with its parts, prefecture, municipality, gBizINFO link: ~22 lines a row)
and checks what the validator checks on them as vectorised predicates (13-digit number and its
check digit, code lists, dates), then writes N-Triples. It is not our mapping (no records of
past states, no English address, no fragments of closures, no SHACL report per row) but it
measures what the column approach costs per row on this machine. Needs pyarrow (not a kg
dependency: run it in a venv of its own).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

BASE = "http://localhost:8000/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
ROV = "http://www.w3.org/ns/regorg#"
KINDS = ["101", "201", "301", "302", "303", "304", "305", "399", "401", "499"]


def lit(col: pa.Array, lang: str | None = None, datatype: str | None = None) -> pa.Array:
    """An N-Triples literal of each value (backslash, quote, CR, LF escaped)."""
    esc = pc.replace_substring(col, "\\", "\\\\")
    for a, b in (('"', '\\"'), ("\n", "\\n"), ("\r", "\\r")):
        esc = pc.replace_substring(esc, a, b)
    tail = f"@{lang}" if lang else (f"^^<{datatype}>" if datatype else "")
    return pc.binary_join_element_wise('"', esc, '"' + tail, "")


def line(s: pa.Array, p: str, o) -> pa.Array:
    return pc.binary_join_element_wise(s, " " + p + " ", o, " .\n", "")


def digits(col: pa.Array, i: int) -> pa.Array:
    return pc.cast(pc.utf8_slice_codeunits(col, i, i + 1), pa.int64())


def nonempty(col: pa.Array) -> pa.Array:
    return pc.not_equal(col, "")


def check_digit_ok(number: pa.Array) -> pa.Array:
    """The corporate number's first digit is 9 - (Σ digit × (1, 2 alternating from the right)) mod 9."""
    total = None
    for n in range(1, 13):
        term = pc.multiply(digits(number, 13 - n), 1 if n % 2 else 2)
        total = term if total is None else pc.add(total, term)
    remainder = pc.subtract(total, pc.multiply(pc.divide(total, 9), 9))
    return pc.equal(pc.subtract(9, remainder), digits(number, 0))


def map_batch(batch: pa.RecordBatch) -> tuple[list[bytes], int, int]:
    """(N-Triples chunks, lines, rows rejected) of one batch of rows."""
    c = {name: pc.fill_null(batch.column(name), "") for name in batch.schema.names}
    number = c["c1"]
    well_formed = pc.match_substring_regex(number, r"^[1-9][0-9]{12}$")
    valid = pc.and_(pc.and_(well_formed, check_digit_ok(pc.if_else(well_formed, number, "9000000000000"))),
                    pc.and_(pc.is_in(c["c8"], value_set=pa.array(KINDS)),
                            pc.match_substring_regex(c["c4"], r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")))
    rejected = len(number) - pc.sum(pc.cast(valid, pa.int64())).as_py()
    c = {name: pc.filter(col, valid) for name, col in c.items()}
    corp = pc.binary_join_element_wise(f"<{BASE}id/corporation/", c["c1"], ">", "")
    reg = pc.binary_join_element_wise(f"<{BASE}id/corporation/", c["c1"], "#registration>", "")
    addr = pc.binary_join_element_wise(f"<{BASE}id/corporation/", c["c1"], "#address>", "")

    def code(scheme: str, col: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(f"<{BASE}code/{scheme}/", col, ">", "")

    closed = pc.or_(nonempty(c["c18"]), nonempty(c["c19"]))
    status = pc.if_else(closed, f"<{BASE}code/corporation-status/closed>", f"<{BASE}code/corporation-status/active>")
    full = pc.binary_join_element_wise(c["c9"], c["c10"], c["c11"], "")
    xsd_date = "http://www.w3.org/2001/XMLSchema#date"
    L = "<http://www.w3.org/2000/01/rdf-schema#label>"
    # (subject, predicate, object, the rows that have it: None = every row)
    spec = [
        (corp, RDF_TYPE, f"<{ROV}RegisteredOrganization>", None),
        (corp, "<http://purl.org/dc/terms/identifier>", lit(c["c1"]), None),
        (corp, f"<{ROV}registration>", reg, None),
        (reg, RDF_TYPE, "<http://www.w3.org/ns/adms#Identifier>", None),
        (reg, "<http://www.w3.org/2004/02/skos/core#notation>", lit(c["c1"]), None),
        (corp, f"<{ROV}orgStatus>", status, None),
        (reg, "<http://purl.org/dc/terms/issued>", lit(c["c22"], datatype=xsd_date), nonempty(c["c22"])),
        (corp, "<http://www.w3.org/2002/07/owl#sameAs>",
         pc.binary_join_element_wise("<https://info.gbiz.go.jp/hojin/ichiran?hojinBango=", c["c1"], ">", ""), None),
        (corp, f"<{ROV}legalName>", lit(c["c6"], "ja"), nonempty(c["c6"])),
        (corp, L, lit(c["c6"], "ja"), nonempty(c["c6"])),
        (corp, L, lit(c["c28"], "ja-Hrkt"), nonempty(c["c28"])),
        (corp, f"<{ROV}orgType>", code("corporation-kind", c["c8"]), None),
        (corp, f"<{BASE}def/process>", code("process", c["c2"]), nonempty(c["c2"])),
        (corp, "<http://purl.org/dc/terms/modified>", lit(c["c4"], datatype=xsd_date), None),
        (corp, f"<{BASE}def/changeDate>", lit(c["c5"], datatype=xsd_date), nonempty(c["c5"])),
        (corp, "<http://www.w3.org/ns/locn#address>", addr, None),
        (addr, RDF_TYPE, "<http://www.w3.org/ns/locn#Address>", None),
        (addr, "<http://www.w3.org/ns/locn#fullAddress>", lit(full, "ja"), nonempty(full)),
        (addr, "<http://www.w3.org/ns/locn#adminUnitL1>", lit(c["c9"], "ja"), nonempty(c["c9"])),
        (addr, "<http://www.w3.org/ns/locn#adminUnitL2>", lit(c["c10"], "ja"), nonempty(c["c10"])),
        (addr, f"<{BASE}def/streetNumber>", lit(c["c11"], "ja"), nonempty(c["c11"])),
        (addr, "<http://www.w3.org/ns/locn#postCode>", lit(c["c15"]), nonempty(c["c15"])),
        (corp, f"<{BASE}def/prefecture>", pc.binary_join_element_wise(f"<{BASE}id/prefecture/", c["c13"], "0001>", ""),
         nonempty(c["c13"])),
        (corp, f"<{BASE}def/municipality>", pc.binary_join_element_wise(f"<{BASE}id/municipality/", c["c13"], c["c14"], ">", ""),
         nonempty(c["c14"])),
    ]
    chunks, lines = [], 0
    for s_, p_, o_, keep in spec:
        col = line(s_, p_, o_)
        if keep is not None:
            col = pc.filter(col, keep)
        if len(col):  # the values, one after the other, straight from the array's data buffer
            _, offsets, data = col.buffers()
            bounds = pa.Array.from_buffers(pa.int32(), len(col) + 1, [None, offsets], offset=col.offset)
            chunks.append(data.to_pybytes()[bounds[0].as_py():bounds[len(col)].as_py()])
        lines += len(col)
    return chunks, lines, rejected


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", type=Path)
    ap.add_argument("--out", type=Path, default=Path("/dev/null"))
    ap.add_argument("--batch-bytes", type=int, default=16 << 20, help="CSV bytes mapped at once (memory stays flat)")
    args = ap.parse_args()
    started = time.perf_counter()
    names = [f"c{i}" for i in range(30)]
    reader = pacsv.open_csv(args.csv, read_options=pacsv.ReadOptions(column_names=names, block_size=args.batch_bytes),
                            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}))
    rows = lines = rejected = 0
    with open(args.out, "wb") as out:
        for batch in reader:
            chunks, n, bad = map_batch(batch)
            rows, lines, rejected = rows + batch.num_rows, lines + n, rejected + bad
            for chunk in chunks:
                out.write(chunk)
    wall = time.perf_counter() - started
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ru.ru_utime + ru.ru_stime
    print(f"{rows:,} rows ({rejected:,} rejected), {lines:,} lines ({lines / max(rows, 1):.1f} a row), {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU, {cpu / max(rows, 1) * 1e6:.1f} µs CPU a row, peak RSS {ru.ru_maxrss >> 10} MiB")


if __name__ == "__main__":
    main()
