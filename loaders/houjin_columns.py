"""The NTA corporate-number CSV mapped as column expressions, for a national load.

A 全件 file is millions of rows of one regular shape, and the per-row mapping of
:mod:`loaders.houjin` (parse, map, validate, serialise: ~370 µs of Python a row) was most of a
national load's CPU. Here a batch of rows is mapped at once as one string expression per
triple pattern (pyarrow.compute, in C++: ~10 µs a row), and only rows that the expressions can
show are valid are mapped so. A row is *plain* when every column the shapes constrain holds a
value they accept (the number and its check digit, the code lists as the validator's reference
graph has them, dates that are dates, flags, post code, sequence number), it is its
corporation's only row and current (``latest=1``, not a deletion), and no value holds a
control character. Every other row (a history run, a malformed number, an unknown code, ...)
is handed back as a :class:`Record` and goes through the per-row mapping and the validator,
which report it exactly as before.

Both paths write the same quads, report, summaries and statistics
(tests/test_houjin_columns.py checks that on rows made to hit every branch). A file the column
reader cannot take whole (not UTF-8, a row that is not 30 columns, a value over several lines,
blank lines, numbers that do not ascend) is loaded by the per-row path alone:
:func:`column_plan` decides before anything is written.
"""

from __future__ import annotations

import io
from typing import Callable, Iterator

from kg.load.contract import Mapped, Record
from kg.load.sources import SourceFile
from kg.rdf import ADMS, DCTERMS, LOCN, OWL, RDF, RDFS, ROV, SKOS, XSD
from kg.rdf.iri import Minter

from . import houjin_format as h
from .reading import CountingReader

try:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
except ImportError:  # pragma: no cover - pyarrow is a dependency; without it every row is mapped per row
    pa = None

_NAMES = [f"c{i}" for i in range(30)]
_CONTROL = "[\\x00-\\x1f\\x7f]"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_NUMBER = r"^[1-9][0-9]{12}$"


def available() -> bool:
    return pa is not None


def _reader(stream, block_size: int):
    return pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(column_names=_NAMES, block_size=block_size, use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in _NAMES},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False))


def column_plan(source: SourceFile, *, block_size: int) -> bool:
    """Whether the whole file can be read as columns: UTF-8, 30 columns a row, one line a row,
    no blank lines, corporate numbers of ASCII letters and digits that never descend.

    Read once before the load (~1 s a million rows), so the choice is made before anything is
    written: a file that fails half way would otherwise have been half mapped.
    """
    if pa is None or not source.name.lower().endswith(".csv"):
        return False
    newlines, last = 0, b"\n"
    with source.open() as raw:
        while chunk := raw.read(16 << 20):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    lines = newlines + (last != b"\n")
    rows, previous = 0, None
    try:
        with source.open() as raw:
            for batch in _reader(raw, block_size):
                number = batch.column(1)
                rows += batch.num_rows
                if not batch.num_rows:
                    continue
                if not pc.all(pc.match_substring_regex(number, "^[0-9A-Za-z]+$")).as_py():
                    return False
                if previous is not None and number[0].as_py() < previous:
                    return False
                if batch.num_rows > 1 and pc.any(pc.less(number[1:], number[:-1])).as_py():
                    return False
                previous = number[-1].as_py()
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return False
    return rows > 0 and rows == lines


def column_records(source: SourceFile, m: Minter, validator, on_read: Callable[[int], None] | None,
                   *, block_size: int) -> Iterator[Mapped | Record]:
    """The file's plain rows as :class:`Mapped` batches, its other rows as :class:`Record`\\ s
    (in file order, for :meth:`HoujinLoader.entities`). Call only when :func:`column_plan` said yes.
    ``validator``: the load's (its reference graph says which codes exist)."""
    mapper = _Mapper(m, validator)
    with CountingReader(source.open(), on_read) as raw:
        batches = _with_next_first(_reader(io.BufferedReader(raw, 1 << 20), block_size))
        line, previous_last = 0, None
        for batch, next_first in batches:
            plain = mapper.plain(batch, previous_last, next_first)
            mapped = mapper.map(batch.filter(plain))
            if mapped.rows:
                yield mapped
            if mapped.rows < batch.num_rows:
                others = pc.indices_nonzero(pc.invert(plain)).to_pylist()
                rest = batch.take(pa.array(others, pa.int64()))
                columns = [rest.column(i).to_pylist() for i in range(30)]
                for k, index in enumerate(others):
                    row = [col[k] for col in columns]
                    yield Record(source.name, line + index + 1, row[h.NUMBER], row)
            line += batch.num_rows
            previous_last = batch.column(1)[-1].as_py() if batch.num_rows else previous_last


def _with_next_first(reader) -> Iterator[tuple["pa.RecordBatch", str | None]]:
    """Each batch with the first corporate number of the next one (a run may cross batches)."""
    pending = None
    for batch in reader:
        if not batch.num_rows:
            continue
        if pending is not None:
            yield pending, batch.column(1)[0].as_py()
        pending = batch
    if pending is not None:
        yield pending, None


class _Mapper:
    def __init__(self, m: Minter, validator):
        self.m, self.validator = m, validator
        v = m.terms
        corp = str(m.corporation("0"))[:-1]
        self.corp_prefix = corp
        self.gbiz_prefix = str(Minter.gbizinfo("0"))[:-1]
        self.iri = {name: f"<{iri}>" for name, iri in {
            "type": RDF.type, "label": RDFS.label, "legalName": ROV.legalName, "orgType": ROV.orgType,
            "orgStatus": ROV.orgStatus, "registration": ROV.registration, "RegisteredOrganization": ROV.RegisteredOrganization,
            "modified": DCTERMS.modified, "identifier": DCTERMS.identifier, "issued": DCTERMS.issued,
            "address": LOCN.address, "Address": LOCN.Address, "fullAddress": LOCN.fullAddress,
            "adminUnitL1": LOCN.adminUnitL1, "adminUnitL2": LOCN.adminUnitL2, "postCode": LOCN.postCode,
            "Identifier": ADMS.Identifier, "notation": SKOS.notation, "sameAs": OWL.sameAs,
            "imageId": v.imageId, "process": v.process, "correction": v.correction, "changeDate": v.changeDate,
            "streetNumber": v.streetNumber, "prefecture": v.prefecture, "municipality": v.municipality,
            "foreignAddress": v.foreignAddress, "closeDate": v.closeDate, "closeCause": v.closeCause,
            "successor": v.successor, "changeCause": v.changeCause, "searchExcluded": v.searchExcluded,
            "sequenceNumber": v.sequenceNumber,
        }.items()}
        self.xsd = {name: f"^^<{XSD}{name}>" for name in ("date", "boolean", "integer")}
        self.classes = {scheme: str(m.term(cls)) for scheme, cls in (
            ("corporation-kind", "CorporationKind"), ("process", "ProcessKind"), ("close-cause", "CloseCause"))}
        self.status = {s: str(m.code("corporation-status", s)) for s in ("active", "closed")}
        self.registered = str(ROV.RegisteredOrganization)

    # ---- which rows ------------------------------------------------------------------------
    def _known(self, col, scheme: str) -> "pa.Array":
        """Values whose code IRI is a member of the shapes' class (the validator's own reference)."""
        values = pc.unique(col)
        wanted = self.classes[scheme]
        known = [v for v in values.to_pylist()
                 if v and self.validator.has_class(self.m.code(scheme, v), wanted, {})]
        return pc.is_in(col, value_set=pa.array(known, pa.string()))

    def plain(self, batch, previous_last: str | None, next_first: str | None) -> "pa.Array":
        c = [batch.column(i) for i in range(30)]
        n = batch.num_rows
        number = c[h.NUMBER]
        before = pa.concat_arrays([pa.array([previous_last], pa.string()), number[:-1]])
        after = pa.concat_arrays([number[1:], pa.array([next_first], pa.string())])
        alone = pc.and_(pc.fill_null(pc.not_equal(number, before), True),
                        pc.fill_null(pc.not_equal(number, after), True))

        def empty_or(col, test):
            return pc.or_(pc.equal(col, ""), test)

        def date_ok(col):
            form = pc.match_substring_regex(col, _DATE)
            parsed = pc.strptime(pc.if_else(form, col, "2000-01-01"), format="%Y-%m-%d", unit="s", error_is_null=True)
            again = pc.strftime(parsed, format="%Y-%m-%d")  # 2021-02-30 parses as 03-02
            return pc.and_(form, pc.fill_null(pc.equal(again, col), False))

        tests = [
            alone,
            pc.equal(c[h.LATEST], "1"),
            _number_ok(number),
            empty_or(c[h.SUCCESSOR], _number_ok(c[h.SUCCESSOR])),
            self._known(c[h.KIND], "corporation-kind"),
            pc.and_(self._known(c[h.PROCESS], "process"), pc.not_equal(c[h.PROCESS], "99")),
            empty_or(c[h.CLOSE_CAUSE], self._known(c[h.CLOSE_CAUSE], "close-cause")),
            pc.is_in(c[h.CORRECT], value_set=pa.array(["0", "1", ""])),
            pc.is_in(c[h.HIHYOJI], value_set=pa.array(["0", "1", ""])),
            pc.not_equal(c[h.NAME], ""),
            date_ok(c[h.UPDATE]),
            empty_or(c[h.CHANGE], date_ok(c[h.CHANGE])),
            empty_or(c[h.CLOSE_DATE], date_ok(c[h.CLOSE_DATE])),
            empty_or(c[h.ASSIGNED], date_ok(c[h.ASSIGNED])),
            empty_or(c[h.POST], pc.match_substring_regex(c[h.POST], "^[0-9]{7}$")),
            empty_or(c[h.SEQ], pc.match_substring_regex(c[h.SEQ], "^(0|[1-9][0-9]{0,17})$")),
            empty_or(c[h.PREF_CODE], pc.match_substring_regex(c[h.PREF_CODE], "^[0-9]{2}$")),
            empty_or(c[h.CITY_CODE], pc.match_substring_regex(c[h.CITY_CODE], "^[0-9]{3}$")),
        ]
        tests += [pc.invert(pc.match_substring_regex(col, _CONTROL)) for col in c]
        ok = pa.array([True] * n)
        for test in tests:
            ok = pc.and_(ok, test)
        return ok

    # ---- mapping ---------------------------------------------------------------------------
    def map(self, batch) -> Mapped:
        n = batch.num_rows
        if not n:
            return Mapped(iter(()), "")
        c = [batch.column(i) for i in range(30)]
        I, X = self.iri, self.xsd
        join = pc.binary_join_element_wise
        some = lambda col: pc.not_equal(col, "")  # noqa: E731
        number = c[h.NUMBER]
        focus = join(self.corp_prefix, number, "")
        corp = join("<", focus, ">", "")
        reg = join("<", focus, "#registration>", "")
        addr = join("<", focus, "#address>", "")
        foreign = join("<", focus, "#foreign-address>", "")
        closed = pc.or_(some(c[h.CLOSE_DATE]), some(c[h.CLOSE_CAUSE]))
        status = pc.if_else(closed, self.status["closed"], self.status["active"])
        pref = self._lookup(c[h.PREF_CODE], lambda p: self.m.local_government_area("prefecture", p, "000"))
        code5 = join(c[h.PREF_CODE], c[h.CITY_CODE], "")
        muni = self._lookup(code5, lambda x: self.m.local_government_area("municipality", x[:2], x[2:]))
        has_muni = pc.and_(some(c[h.PREF_CODE]), some(c[h.CITY_CODE]))
        kind = self._lookup(c[h.KIND], lambda k: self.m.code("corporation-kind", k))
        process = self._lookup(c[h.PROCESS], lambda k: self.m.code("process", k))
        cause = self._lookup(c[h.CLOSE_CAUSE], lambda k: self.m.code("close-cause", k))
        successor = join(self.corp_prefix, c[h.SUCCESSOR], "")
        full = join(c[h.PREF], c[h.CITY], c[h.STREET], "")
        has_addr = some(c[h.PREF])
        for col in (h.CITY, h.STREET, h.POST, h.ADDR_IMG, h.EN_PREF, h.EN_CITY):
            has_addr = pc.or_(has_addr, some(c[col]))
        has_foreign = pc.or_(pc.or_(some(c[h.OUTSIDE]), some(c[h.EN_OUTSIDE])), some(c[h.OUTSIDE_IMG]))
        en_full = pc.if_else(pc.and_(some(c[h.EN_CITY]), some(c[h.EN_PREF])),
                             join(c[h.EN_CITY], ", ", c[h.EN_PREF], ""), join(c[h.EN_CITY], c[h.EN_PREF], ""))
        ja, en = "@ja", "@en"

        def spec():  # one pattern at a time: each holds a column of the batch's lines
            # (subject, predicate, object, the rows that have it: None = every row), as corporation_triples writes them
            yield (corp, I["type"], I["RegisteredOrganization"], None)
            yield (corp, I["identifier"], _lit(number), None)
            yield (corp, I["registration"], reg, None)
            yield (reg, I["type"], I["Identifier"], None)
            yield (reg, I["notation"], _lit(number), None)
            yield (corp, I["orgStatus"], _iri(status), None)
            yield (reg, I["issued"], _lit(c[h.ASSIGNED], X["date"]), some(c[h.ASSIGNED]))
            yield (corp, I["sameAs"], join(f"<{self.gbiz_prefix}", number, ">", ""), None)
            yield (corp, I["legalName"], _lit(c[h.NAME], ja), None)
            yield (corp, I["label"], _lit(c[h.NAME], ja), None)
            yield (corp, I["legalName"], _lit(c[h.EN_NAME], en), some(c[h.EN_NAME]))
            yield (corp, I["label"], _lit(c[h.EN_NAME], en), some(c[h.EN_NAME]))
            yield (corp, I["label"], _lit(c[h.FURIGANA], "@ja-hrkt"), some(c[h.FURIGANA]))
            yield (corp, I["imageId"], _lit(c[h.NAME_IMG]), some(c[h.NAME_IMG]))
            yield (corp, I["orgType"], _iri(kind), None)
            yield (corp, I["process"], _iri(process), None)
            yield (corp, I["correction"], '"true"' + X["boolean"], pc.equal(c[h.CORRECT], "1"))
            yield (corp, I["modified"], _lit(c[h.UPDATE], X["date"]), None)
            yield (corp, I["changeDate"], _lit(c[h.CHANGE], X["date"]), some(c[h.CHANGE]))
            yield (corp, I["address"], addr, has_addr)
            yield (addr, I["type"], I["Address"], has_addr)
            yield (addr, I["fullAddress"], _lit(full, ja), pc.and_(has_addr, some(full)))
            yield (addr, I["adminUnitL1"], _lit(c[h.PREF], ja), some(c[h.PREF]))
            yield (addr, I["adminUnitL2"], _lit(c[h.CITY], ja), some(c[h.CITY]))
            yield (addr, I["streetNumber"], _lit(c[h.STREET], ja), some(c[h.STREET]))
            yield (addr, I["adminUnitL1"], _lit(c[h.EN_PREF], en), some(c[h.EN_PREF]))
            yield (addr, I["streetNumber"], _lit(c[h.EN_CITY], en), some(c[h.EN_CITY]))
            yield (addr, I["fullAddress"], _lit(en_full, en), some(en_full))
            yield (addr, I["postCode"], _lit(c[h.POST]), some(c[h.POST]))
            yield (addr, I["imageId"], _lit(c[h.ADDR_IMG]), some(c[h.ADDR_IMG]))
            yield (corp, I["prefecture"], _iri(pref), some(c[h.PREF_CODE]))
            yield (corp, I["municipality"], _iri(muni), has_muni)
            yield (corp, I["foreignAddress"], foreign, has_foreign)
            yield (foreign, I["type"], I["Address"], has_foreign)
            yield (foreign, I["fullAddress"], _lit(c[h.OUTSIDE], ja), some(c[h.OUTSIDE]))
            yield (foreign, I["fullAddress"], _lit(c[h.EN_OUTSIDE], en), some(c[h.EN_OUTSIDE]))
            yield (foreign, I["imageId"], _lit(c[h.OUTSIDE_IMG]), some(c[h.OUTSIDE_IMG]))
            yield (corp, I["closeDate"], _lit(c[h.CLOSE_DATE], X["date"]), some(c[h.CLOSE_DATE]))
            yield (corp, I["closeCause"], _iri(cause), some(c[h.CLOSE_CAUSE]))
            yield (corp, I["successor"], _iri(successor), some(c[h.SUCCESSOR]))
            yield (corp, I["changeCause"], _lit(c[h.CHANGE_CAUSE], ja), some(c[h.CHANGE_CAUSE]))
            yield (corp, I["searchExcluded"], '"true"' + X["boolean"], pc.equal(c[h.HIHYOJI], "1"))
            yield (corp, I["sequenceNumber"], _lit(c[h.SEQ], X["integer"]), some(c[h.SEQ]))

        def lines() -> Iterator[memoryview]:  # written as they are made: a batch's lines are ~16x its CSV
            for s, p, o, keep in spec():
                if keep is not None:
                    if not pc.any(keep).as_py():
                        continue
                    s = s if isinstance(s, str) else pc.filter(s, keep)
                    o = o if isinstance(o, str) else pc.filter(o, keep)
                yield _text(join(s, f" {p} ", o, " .\n", ""))

        # the search summary of each corporation, as SummaryWriter.write makes it from the triples
        name, en_name, kana = c[h.NAME], c[h.EN_NAME], c[h.FURIGANA]
        names = pc.if_else(pc.and_(some(en_name), pc.not_equal(en_name, name)), join(name, "\x1f", en_name, ""), name)
        names = pc.if_else(pc.and_(some(kana), pc.and_(pc.not_equal(kana, name), pc.not_equal(kana, en_name))),
                           join(names, "\x1f", kana, ""), names)
        muni_text = pc.if_else(has_muni, muni, "")
        summaries = join(focus, "upsert", self.registered, muni_text, c[h.STREET], name, names,
                         pc.if_else(pc.equal(c[h.HIHYOJI], "1"), "1", ""),
                         pc.if_else(some(full), full, c[h.OUTSIDE]),
                         pc.if_else(closed, "closed", "active"), pc.fill_null(kind, ""), "\t")
        summary_text = bytes(_text(join(summaries, "\n", ""))).decode("utf-8")

        # the statistics cells (kg.load.statistics.Tally.cells) of each corporation
        table = pa.table({"pref": pc.if_else(some(c[h.PREF_CODE]), pref, ""), "kind": kind, "status": status,
                          "muni": muni_text, "year": pc.utf8_slice_codeunits(c[h.CLOSE_DATE], 0, 4),
                          "cause": pc.if_else(some(c[h.CLOSE_CAUSE]), cause, ""), "closed": some(c[h.CLOSE_DATE])})
        cells: dict[tuple, int] = {}
        for keys, cube, where in ((["pref", "kind", "status"], "prefecture-kind-status", None),
                                  (["muni"], "municipality", None), (["year", "cause"], "closures", "closed")):
            part = table.filter(table.column(where)) if where else table
            for row in part.group_by(keys).aggregate([([], "count_all")]).to_pylist():
                cells[(cube, *(row[k] for k in keys))] = row["count_all"]
        return Mapped(lines(), summary_text, cells, n, bytes(_text(join(focus, "\n", ""))))

    def _lookup(self, col, mint: Callable[[str], str]) -> "pa.Array":
        """Each value's IRI as the Minter mints it (once per distinct value: codes repeat)."""
        values = pc.unique(col)
        iris = pa.array([str(mint(v)) if v else "" for v in values.to_pylist()], pa.string())
        return pc.take(iris, pc.index_in(col, value_set=values))


def _digit(col, i: int):
    return pc.cast(pc.utf8_slice_codeunits(col, i, i + 1), pa.int64())


def _number_ok(col) -> "pa.Array":
    """13 digits whose first is the check digit (FORMATS.md: 9 - Σ digit × 1 or 2 from the right, mod 9)."""
    form = pc.match_substring_regex(col, _NUMBER)
    number = pc.if_else(form, col, "9000000000000")
    total = None
    for n in range(1, 13):
        term = pc.multiply(_digit(number, 13 - n), 1 if n % 2 else 2)
        total = term if total is None else pc.add(total, term)
    remainder = pc.subtract(total, pc.multiply(pc.divide(total, 9), 9))
    return pc.and_(form, pc.equal(pc.subtract(9, remainder), _digit(number, 0)))


def _lit(col, suffix: str = "") -> "pa.Array":
    """An N-Triples literal of each value (no control characters: plain rows have none)."""
    escaped = pc.replace_substring(pc.replace_substring(col, "\\", "\\\\"), '"', '\\"')
    return pc.binary_join_element_wise('"', escaped, '"' + suffix, "")


def _iri(col) -> "pa.Array":
    return pc.binary_join_element_wise("<", col, ">", "")


def _text(col) -> memoryview:
    """The values one after the other: a view of the array's data buffer (no copy)."""
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if not len(col):
        return memoryview(b"")
    _, offsets, data = col.buffers()
    bounds = pa.Array.from_buffers(pa.int32(), len(col) + 1, [None, offsets], offset=col.offset)
    return memoryview(data)[bounds[0].as_py():bounds[len(col)].as_py()]
