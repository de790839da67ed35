"""Open an export: find its tables, validate them against the contract, register typed views.

Nothing is copied: each table becomes a view over its files, first a raw one (CSV read as
text), then its contract columns (a mapping's projection, or the columns of the same names),
then, once every value has been checked, a typed one named after the table. Validation reads
each file once (one counting query per table); only after a bad value is found is its file
read again, to name the row.

Problems come in two passes: structure (missing tables and columns, unreadable files, wrong
types, mapping keys that do not fit the source), then values. ``open_export`` stops at the
first problem with an ``InputError`` (all missing tables in one); ``check_export`` collects
every structural problem and the first bad value of each column.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from privacy_audit.contract import (
    BOOLEAN,
    COUNTRY,
    CURRENCY,
    DATE,
    DECIMAL,
    ERASED_COLUMN,
    INTEGER,
    TABLES,
    TEXT,
    TIMESTAMP,
    Column,
    Table,
    erased_expression,
)
from privacy_audit.engine.base import Engine, EngineError
from privacy_audit.engine.storage import Storage
from privacy_audit.errors import InputError
from privacy_audit.sources.files import (
    FORMS,
    CsvDialect,
    TableSource,
    discover,
    glob_source,
    list_dir,
    parts_source,
    read_headers,
)
from privacy_audit.sources.mapping import Mapping, Missing, Projection, identity
from privacy_audit.sources.readers import FileReader, reader_for

# What a CSV text must look like before it is cast (TRY_CAST alone is too lenient: it accepts
# "2024-01-01 10:00:00 Europe/Paris" or "2024-01-01 10:00"). Timestamps may carry a UTC offset,
# and are parsed as TIMESTAMPTZ then read as UTC (the engines' session zone is UTC).
DECIMAL_LIMIT = "1e16"
"""The first magnitude DECIMAL(18,2) cannot hold (16 digits before the point)."""
_CSV_SHAPE = {
    DATE: r"^\d{4}-\d{2}-\d{2}$",
    TIMESTAMP: r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)?$",
    BOOLEAN: r"^(true|false)$",
    INTEGER: r"^[+-]?\d+$",
    DECIMAL: r"^[+-]?(\d+(\.\d*)?|\.\d+)$",
}
_EXPECTED = {
    TEXT: "text",
    DATE: "a date YYYY-MM-DD",
    TIMESTAMP: "a timestamp YYYY-MM-DDTHH:MM:SS (UTC unless followed by an offset such as Z or +02:00)",
    BOOLEAN: "true or false",
    INTEGER: "an integer",
    DECIMAL: "a decimal number",
}
_PATTERNS = {
    COUNTRY: "an ISO 3166-1 alpha-2 country code such as GB",
    CURRENCY: "an ISO 4217 currency code such as EUR",
}
# Parquet physical types accepted for each contract type (DuckDB's names for them).
_PARQUET_OK = {
    TEXT: ("VARCHAR",),
    DATE: ("DATE",),
    TIMESTAMP: ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"),
    BOOLEAN: ("BOOLEAN",),
    INTEGER: ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"),
    DECIMAL: ("DECIMAL", "DOUBLE", "FLOAT", "TINYINT", "SMALLINT", "INTEGER", "BIGINT"),
}


@dataclass
class Export:
    """An opened, validated export: which tables it has and which files they came from.

    File digests are computed in a background thread while the rules run (hashing gigabytes
    of Parquet is I/O the engine need not wait for); ``digests`` waits for them.
    """

    root: str
    sources: dict[str, TableSource]
    columns: dict[str, list[str]]
    ignored: list[str] = field(default_factory=list)
    mapping: Mapping | None = None
    _hashing: dict[str, Future[str]] = field(default_factory=dict, repr=False)

    def has(self, table: str) -> bool:
        return table in self.sources

    @property
    def digests(self) -> dict[str, str]:
        """Each file's SHA-256 by its path in the export; a file unreadable meanwhile is unusable input."""
        digests = {}
        for source in self.sources.values():
            for file in source.files:
                try:
                    digests[file.path] = self._hashing[file.path].result()
                except OSError as exc:
                    raise InputError(
                        file.location,
                        expected=f"a file that stays readable until the audit ends ({exc.strerror or exc})",
                    ) from None
        return digests

    def manifest(self) -> dict[str, object]:
        """Per table, what named its files and each file's path, size and SHA-256."""
        digests = self.digests
        return {
            table: {
                "source": source.origin,
                "format": source.format,
                "files": [{"path": f.path, "size": f.size, "sha256": digests[f.path]} for f in source.files],
            }
            for table, source in sorted(self.sources.items())
        }


class Problems:
    """Unusable input met while opening: raised at once (audit) or all collected (check)."""

    def __init__(self, collect: bool) -> None:
        self.collect = collect
        self.found: list[InputError] = []

    def add(self, error: InputError) -> None:
        if not self.collect:
            raise error
        self.found.append(error)


@dataclass
class CheckResult:
    """What ``check`` reports: every problem, and the export when it is usable."""

    problems: list[InputError]
    export: Export | None


@dataclass
class _Table:
    """One table past the structural pass: its source, views and contract projection."""

    source: TableSource
    header: list[str] | None
    partitions: bool
    projection: Projection
    types: dict[str, str]


def unreadable(engine: Engine, export: Export, tables: tuple[str, ...], exc: EngineError) -> InputError:
    """Unusable input met after validation (a corrupt page, a file changed meanwhile): the file
    of ``tables`` that fails a full read is named, or all of them if none does."""
    for table in tables:
        try:
            engine.query(f'SELECT max(hash(COLUMNS(*))) FROM "raw__{table}"')
        except EngineError as found:
            source = export.sources[table]
            return InputError(found.file or source.location, row=None, expected=str(found))
    return InputError(" or ".join(export.sources[t].location for t in tables), expected=str(exc))


_OWN_KIND = re.compile(r"^(_SUCCESS|_metadata|_common_metadata|manifest\.json|README(\.\w+)?)$")


def listable(names: list[str]) -> list[str]:
    """Ignored files as ``summary.json`` may list them: a file's name may itself be personal
    data (``jane.doe@example.com.pdf``), so only names of the contract's tables (any extension)
    and an export's usual sidecars are listed; every other file is counted by its extension."""
    shown = [n for n in names if n.split(".")[0] in TABLES or _OWN_KIND.match(n)]
    others: dict[str, int] = {}
    for name in names:
        if name not in shown:
            ext = name.rpartition(".")[2] if "." in name.strip(".") else ""
            ext = ext if re.fullmatch(r"[A-Za-z0-9]{1,8}", ext) else ""
            others[ext] = others.get(ext, 0) + 1
    counted = [
        f"{n} other file{'s' if n > 1 else ''}" + (f" (.{ext})" if ext else " (no extension)")
        for ext, n in sorted(others.items())
    ]
    return shown + counted


def open_export(root: str | Path, engine: Engine, mapping: Mapping | None = None) -> Export:
    """Validate every file of the export at ``root`` and register one typed view per table.

    ``root`` is a local path, or a URI (``hdfs://…``) when the engine reads such storage;
    ``mapping`` says where tables and columns of a platform's own layout are.
    """
    return _Loader(str(root), engine, mapping, Problems(collect=False)).load()


def check_export(root: str | Path, engine: Engine, mapping: Mapping | None = None) -> CheckResult:
    """Every structural problem of the export, then the first bad value of each column."""
    problems = Problems(collect=True)
    try:
        export = _Loader(str(root), engine, mapping, problems).load()
    except InputError as exc:  # the export itself is unreadable: nothing else can be checked
        problems.found.append(exc)
        export = None
    return CheckResult(problems.found, None if problems.found else export)


class _Loader:
    def __init__(self, root: str, engine: Engine, mapping: Mapping | None, problems: Problems) -> None:
        self.root, self.engine, self.mapping, self.problems = root, engine, mapping, problems
        try:
            self.storage: Storage = engine.storage(root)
        except EngineError as exc:
            raise InputError(root, expected=f"an export the engine can read ({exc})") from None
        self.reader: FileReader = reader_for(engine, self.storage)

    def load(self) -> Export:
        sources, ignored = self._sources()
        tables = {}
        for name, source in sources.items():
            before = len(self.problems.found)
            try:
                loaded = self._structure(source)
            except InputError as exc:
                self.problems.add(exc)
                continue
            if len(self.problems.found) == before:  # values are checked only in a sound structure
                tables[name] = loaded
        for name, table in tables.items():
            self._check_values(TABLES[name], table)
        export = Export(self.root, sources, {}, ignored=ignored, mapping=self.mapping)
        if self.problems.found:
            return export
        for name, table in tables.items():
            self.engine.create_view(name, _typed_select(TABLES[name], table))
            export.columns[name] = self._declared_columns(table)
        hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        export._hashing = {
            f.path: hasher.submit(self.storage.sha256, f.location) for s in sources.values() for f in s.files
        }
        hasher.shutdown(wait=False)  # queued digests still complete; nothing waits for them here
        self.engine.register(
            "export_columns",
            pa.table(
                {
                    "table_name": [t for t, cols in export.columns.items() for _ in cols],
                    "column_name": [c for cols in export.columns.values() for c in cols],
                },
                schema=pa.schema([("table_name", pa.string()), ("column_name", pa.string())]),
            ),
        )
        return export

    def _sources(self) -> tuple[dict[str, TableSource], list[str]]:
        """Mapped tables from their ``source``, the others by name; all missing tables at once."""
        mapped = self.mapping.tables if self.mapping else {}
        found = discover(self.root, self.storage, set(mapped))
        for problem in found.problems:
            self.problems.add(problem)
        sources = dict(found.sources)
        used_tops = {f.path.split("/")[0] for s in sources.values() for f in s.files}
        for table, entry in mapped.items():
            try:
                sources[table] = self._mapped_source(table, entry.source, entry.format, entry.csv)
            except InputError as exc:
                self.problems.add(exc)
                continue
            used_tops |= {f.path.split("/")[0] for f in sources[table].files}
        if found.missing:
            names = ", ".join(found.missing)
            where = f"required table{'s' if len(found.missing) > 1 else ''} {names}"
            if self.problems.collect:
                for table in found.missing:
                    self.problems.add(InputError(self.root, expected=f"required table {table} ({FORMS})"))
            else:
                self.problems.add(InputError(self.root, expected=f"{where} (each as {FORMS})"))
        return sources, listable([name for name in found.ignored if name not in used_tops])

    def _mapped_source(
        self, table: str, source: str, fmt: str | None, csv_dialect: CsvDialect | None
    ) -> TableSource:
        assert self.mapping is not None
        key = f"tables.{table}.source"
        path = source.strip("/")
        try:
            if set("*?[") & set(path):
                return glob_source(self.root, self.storage, table, path, fmt, csv_dialect)
            parent, _, name = path.rpartition("/")
            where = f"{self.root.rstrip('/')}/{parent}" if parent else self.root
            entry = next((e for e in list_dir(self.storage, where) if e.name == name), None)
        except InputError as exc:
            raise InputError(self.mapping.file, key=key, expected=f"a source in the export ({exc})") from None
        if entry is None:
            raise InputError(
                self.mapping.file,
                key=key,
                expected=f"a file or directory in the export ({source} does not exist)",
            )
        return parts_source(self.storage, table, entry, path, source, fmt, csv_dialect)

    def _structure(self, source: TableSource) -> _Table:
        """Raw view, projection and types of one table; the first problem that stops it raises."""
        empty = next((f for f in source.files if f.size == 0), None)
        if empty is not None:
            kind = "a CSV header row" if source.format == "csv" else "a Parquet file"
            raise InputError(empty.location, expected=f"{kind} (the file is empty)")
        header = read_headers(self.storage, source) if source.format == "csv" else None
        reads = (
            self.mapping.reads(source.table)
            if self.mapping and source.table in self.mapping.tables
            else set()
        )
        partitions = bool(reads & {k.lower() for k in source.partitions})
        raw = f"raw__{source.table}"
        try:
            self.reader.open_raw(raw, source, header, partitions)
            columns = [name for name, _ in self.engine.schema(raw)]
        except EngineError as exc:
            raise self.reader.read_error(source, exc) from None
        if self.mapping and source.table in self.mapping.tables:
            projection = self.mapping.projection(source.table, columns)
        else:
            projection = identity(source.table, columns)
        if projection.missing:
            for missing in projection.missing[:-1]:
                self.problems.add(self._missing(source, missing))
            raise self._missing(source, projection.missing[-1])
        types = self._project(source, projection, raw)
        table = TABLES[source.table]
        for column in table.columns:
            if source.format == "csv" and types[column.name] == TEXT:
                continue
            base = types[column.name].split("(")[0]
            if base not in _PARQUET_OK[column.type]:
                of = "Parquet type" if source.format == "parquet" else "type"
                self.problems.add(
                    self._error(
                        source,
                        projection,
                        column.name,
                        expected=f"{_EXPECTED[column.type]} ({column.type}), found {of} {types[column.name]}",
                    )
                )
        return _Table(source, header, partitions, projection, types)

    def _missing(self, source: TableSource, missing: Missing) -> InputError:
        if missing.key is None:
            return InputError(
                source.location,
                column=missing.column,
                expected=f"column {missing.column} (required by the contract)",
            )
        assert self.mapping is not None
        return InputError(
            self.mapping.file,
            key=missing.key,
            expected=f"source column {missing.column} in {source.origin} (read by {missing.reads}; not found)",
        )

    def _project(self, source: TableSource, projection: Projection, raw: str) -> dict[str, str]:
        """Create the contract-column view; a mapping entry that cannot run is named by its key."""
        view = f"src__{source.table}"
        try:
            self.engine.create_view(view, projection.select_sql(raw))
            types = dict(self.engine.schema(view))
        except EngineError as exc:
            raise self._bad_entry(source, projection, raw, exc) from None
        if projection.filter is not None:
            self.engine.create_view(f"probe__{source.table}", f'SELECT {projection.filter} AS f FROM "{raw}"')
            found = dict(self.engine.schema(f"probe__{source.table}"))["f"]
            if found != BOOLEAN:
                assert self.mapping is not None
                raise InputError(
                    self.mapping.file,
                    key=f"tables.{source.table}.filter",
                    expected=f"a boolean condition (it is {found})",
                )
        return types

    def _bad_entry(
        self, source: TableSource, projection: Projection, raw: str, exc: EngineError
    ) -> InputError:
        """The mapping key whose expression the engine cannot bind or run, else the read error."""
        probe = f"probe__{source.table}"
        parts = [(c.key, f"{c.sql} AS x") for c in projection.columns if c.key]
        if projection.filter is not None:
            parts.append(
                (f"tables.{source.table}.filter", f"count(*) FILTER (WHERE {projection.filter}) AS x")
            )
        for key, sql in parts:
            try:
                self.engine.create_view(probe, f'SELECT {sql} FROM "{raw}"')
                self.engine.query(f"SELECT count(*) FROM {probe}")
            except EngineError as probed:
                assert self.mapping is not None
                kind = str(probed).split(":")[0]
                return InputError(
                    self.mapping.file,
                    key=key,
                    expected=f"an expression the engine can run on every row ({kind})",
                )
        return self.reader.read_error(source, exc)

    def _error(
        self,
        source: TableSource,
        projection: Projection,
        name: str,
        *,
        expected: str,
        row: int | None = None,
        file: str | None = None,
    ) -> InputError:
        column = next(c for c in projection.columns if c.name == name)
        if column.key and column.source is None:  # an expression or a constant: its key says which
            assert self.mapping is not None
            return InputError(file or source.location, key=column.key, row=row, expected=expected)
        return InputError(file or source.location, column=column.source or name, row=row, expected=expected)

    def _check_values(self, table: Table, loaded: _Table) -> None:
        """One counting query per table; the first bad row of each failing column is located."""
        null_free = self._null_free(loaded)
        checks = _problems(table, loaded.types, loaded.source.format, null_free)
        # Every text column is decoded once here, so that a byte that is not UTF-8 in a column no
        # check reads is unusable input now rather than an error in whichever rule meets it.
        decoded = [f'max(length("{c.name}"))' for c in table.columns if c.type == TEXT]
        counts = [f"count(*) FILTER (WHERE {cond})" for _, cond, _ in checks]
        if not counts + decoded:
            return
        try:
            found = self.engine.query(
                f"SELECT {', '.join(counts + decoded)} FROM src__{table.name}"
            ).to_pylist()[0]
        except EngineError as exc:
            self.problems.add(self._bad_entry(loaded.source, loaded.projection, f"raw__{table.name}", exc))
            return
        reported: set[str] = set()
        for (column, cond, expected), bad in zip(checks, list(found.values())[: len(checks)], strict=True):
            if not bad or column.name in reported:
                continue
            reported.add(column.name)
            file, row = self._locate(loaded, cond)
            more = f"; {bad - 1} more rows like it" if bad > 1 else ""
            self.problems.add(
                self._error(
                    loaded.source,
                    loaded.projection,
                    column.name,
                    expected=f"{expected}{more}",
                    row=row,
                    file=file,
                )
            )

    def _null_free(self, loaded: _Table) -> set[str]:
        """Contract columns that rename a source column the metadata proves NULL-free."""
        proved = self.reader.null_free(loaded.source)
        return {c.name for c in loaded.projection.columns if c.source in proved}

    def _locate(self, loaded: _Table, condition: str) -> tuple[str | None, int | None]:
        """The first file (in listing order) and data row where ``condition`` holds."""
        where = f" WHERE {loaded.projection.filter}" if loaded.projection.filter else ""
        for file in loaded.source.files:
            rows = self.reader.rows_sql(loaded.source, file, loaded.header, loaded.partitions)
            sql = (
                f"SELECT _row FROM (SELECT {loaded.projection.select_list()}, _row FROM ({rows}){where}) "
                f"WHERE {condition}"
            )
            row = self.reader.first_row(sql)
            if row is not None:
                return file.location, row
        return None, None

    def _declared_columns(self, table: _Table) -> list[str]:
        """Source columns MIN-UNDECLARED-COLUMN examines, by their source names.

        A mapped table's columns that the mapping reads or its inventory declares are declared;
        hive partition keys are layout unless the mapping reads them.
        """
        columns = [n for n, _ in self.engine.schema(f"raw__{table.source.table}")]
        if not (self.mapping and table.source.table in self.mapping.tables):
            return columns
        declared = table.projection.used | self.mapping.declared(table.source.table)
        return [c for c in columns if c.lower() not in declared]


def _problems(
    table: Table, types: dict[str, str], fmt: str, null_free: set[str]
) -> list[tuple[Column, str, str]]:
    """(column, SQL condition that flags a bad row, what was expected) for every check.

    Columns in ``null_free`` (proved by the file's metadata) need no NULL scan; CSV text is
    checked for its shape before anything is cast.
    """
    checks = []
    for col in table.columns:
        name = f'"{col.name}"'
        if not col.nullable and col.name not in null_free:
            checks.append((col, f"{name} IS NULL", f"a value ({col.name} is required)"))
        if _parsed(col, types, fmt):
            shape = _CSV_SHAPE[col.type]
            cast_type = "TIMESTAMPTZ" if col.type == TIMESTAMP else col.type
            cast = f"TRY_CAST({name} AS {cast_type}) IS NULL" if col.type != BOOLEAN else "false"
            checks.append(
                (
                    col,
                    f"{name} IS NOT NULL AND (NOT regexp_matches({name}, '{shape}') OR {cast})",
                    _EXPECTED[col.type],
                )
            )
        if col.type == DECIMAL and not _parsed(col, types, fmt):  # a Parquet double may be NaN or 7e29
            checks.append(
                (
                    col,
                    # not TRY_CAST: DuckDB prunes that by min/max statistics, which skip NaN
                    # abs(±inf) >= the limit; isnan, not a comparison, for NaN (Spark has no isinf)
                    f"{name} IS NOT NULL AND (isnan({name}::DOUBLE) OR abs({name}::DOUBLE) >= {DECIMAL_LIMIT})",
                    f"a finite decimal number that fits {col.type}",
                )
            )
        if col.pattern:
            checks.append(
                (
                    col,
                    f"{name} IS NOT NULL AND NOT regexp_matches({name}, '{col.pattern}')",
                    _PATTERNS[col.pattern],
                )
            )
        if col.enum:
            allowed = ", ".join(f"'{v}'" for v in col.enum)
            checks.append(
                (col, f"{name} IS NOT NULL AND {name} NOT IN ({allowed})", f"one of {' | '.join(col.enum)}")
            )
    return checks


def _parsed(column: Column, types: dict[str, str], fmt: str) -> bool:
    """Whether a column arrives as CSV text that must be parsed into its contract type."""
    return fmt == "csv" and column.type != TEXT and types[column.name] == TEXT


def _typed_select(table: Table, loaded: _Table) -> str:
    """The contract's columns with their contract types, plus the derived erased flag.

    Undeclared columns stay out of the typed view: no rule reads them (MIN-UNDECLARED-COLUMN
    reads the column list), and an export column named like a derived one cannot shadow it.
    """
    parts = []
    for col in table.columns:
        name = f'"{col.name}"'
        if col.type == TIMESTAMP and _parsed(col, loaded.types, loaded.source.format):
            parts.append(f"CAST(CAST({name} AS TIMESTAMPTZ) AS TIMESTAMP) AS {name}")
        elif loaded.types[col.name] != col.type:
            parts.append(f"CAST({name} AS {col.type}) AS {name}")
        else:
            parts.append(name)
    if table.personal:
        parts.append(f"{erased_expression(table)} AS {ERASED_COLUMN}")
    return f"SELECT {', '.join(parts)} FROM src__{table.name}"
