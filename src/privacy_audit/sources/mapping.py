"""The mapping file: a platform's own tables and columns as the contract's (``your-export.md``).

``load_mapping`` validates the YAML as strictly as the export: unknown keys, contract tables
or columns, and expressions that are not one scalar DuckDB expression over the source's own
columns (no subquery, no table function, no file access, no aggregate) are unusable input
naming the mapping key. ``Mapping.projection`` then turns one table's entry, against the
source's actual columns, into the SELECT that every engine runs (Spark through the same
sqlglot translation as the rules' SQL). The same API serves the loader and a snapshot job.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import duckdb
import sqlglot
from pydantic import BaseModel, BeforeValidator, ConfigDict, PrivateAttr, ValidationError
from sqlglot import exp

from privacy_audit.contract import TABLES, Table
from privacy_audit.errors import InputError, invalid
from privacy_audit.safe_yaml import parse_yaml, read_bounded
from privacy_audit.sources.files import CsvDialect

Constant = str | bool | int | float | date | datetime
# Functions that reach outside the row (files, settings, the environment) though DuckDB lets a
# scalar call them; table functions are refused by DuckDB's own list of them.
_OUTSIDE = {"getenv", "current_setting", "read_text", "read_blob", "query", "query_table"}


@dataclass(frozen=True)
class Source:
    """A contract column read from one source column."""

    column: str


@dataclass(frozen=True)
class Expr:
    """A contract column computed by a DuckDB scalar expression over the source's columns."""

    expr: str


@dataclass(frozen=True)
class Value:
    """A contract column that is the same constant on every row."""

    value: Constant


def _column_spec(spec: object) -> object:
    if isinstance(spec, str):
        return Source(spec)
    if isinstance(spec, dict) and set(spec) == {"expr"} and isinstance(spec["expr"], str):
        return Expr(spec["expr"])
    if isinstance(spec, dict) and set(spec) == {"value"} and isinstance(spec["value"], Constant):
        return Value(spec["value"])
    raise ValueError("a source column name, {expr: SQL} or {value: constant}")


ColumnSpec = Annotated[Source | Expr | Value, BeforeValidator(_column_spec)]


class TableMapping(BaseModel):
    """Where one contract table comes from and how its columns are made."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    source: str
    format: Literal["parquet", "csv"] | None = None
    csv: CsvDialect | None = None
    columns: dict[str, ColumnSpec] = {}
    filter: str | None = None


class Mapping(BaseModel):
    """A whole mapping file (version 1); ``file`` and ``sha256`` say which one it was."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    tables: dict[str, TableMapping] = {}
    inventory: dict[str, list[str]] = {}
    _file: str = PrivateAttr("")
    _sha256: str = PrivateAttr("")

    @property
    def file(self) -> str:
        return self._file

    @property
    def sha256(self) -> str:
        return self._sha256

    def declared(self, table: str) -> set[str]:
        """Source columns the mapping's inventory declares for ``table`` (lower-cased)."""
        return {c.lower() for c in self.inventory.get(table, [])}

    def reads(self, table: str) -> set[str]:
        """Source columns (lower-cased) the entry of ``table`` names, before seeing the source."""
        return _project(self, TABLES[table], self.tables.get(table), None).used

    def projection(self, table: str, source_columns: list[str]) -> Projection:
        """The contract columns of ``table`` from a source with ``source_columns``."""
        return _project(self, TABLES[table], self.tables.get(table), source_columns)


@dataclass(frozen=True)
class Column:
    """One contract column of a projection: its SQL, the source column it renames, its key."""

    name: str
    sql: str
    source: str | None
    key: str | None


@dataclass(frozen=True)
class Missing:
    """A source column a projection needs and the source lacks; ``key`` when the mapping named it."""

    column: str
    key: str | None
    reads: str  # what needs it: "orders.order_id", or "an expression"


@dataclass
class Projection:
    """A table's contract columns over its source, the filter, and what the source must have."""

    table: str
    columns: list[Column]
    filter: str | None = None
    used: set[str] = field(default_factory=set)  # lower-cased source column names read
    missing: list[Missing] = field(default_factory=list)

    def select_list(self) -> str:
        return ", ".join(f'{c.sql} AS "{c.name}"' for c in self.columns)

    def select_sql(self, view: str) -> str:
        """The SELECT projecting source columns to contract columns (the filter applied)."""
        where = f" WHERE {self.filter}" if self.filter else ""
        return f'SELECT {self.select_list()} FROM "{view}"{where}'


_EXPECTED = {
    "extra_forbidden": "no such key (see the mapping file's format in the README)",
    "missing": "this key (it is required)",
}


def _key_of(loc: tuple[int | str, ...]) -> str:
    """The key as the file spells it: the location without pydantic's model and validator names."""
    return ".".join(str(p) for p in loc if not str(p)[:1].isupper() and p != "function-after")


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file; any problem is an ``InputError`` naming the key."""
    where = str(path)
    data = read_bounded(Path(path), "mapping file")
    raw = parse_yaml(data, where)
    if not isinstance(raw, dict):
        raise InputError(where, expected="a mapping with version: 1 and tables:")
    try:
        mapping = Mapping.model_validate(raw)
    except ValidationError as exc:
        raise invalid(exc, file=where, key_of=_key_of, expected=_EXPECTED, other="{msg}") from None
    _check(mapping, where)
    mapping._file = where
    mapping._sha256 = hashlib.sha256(data).hexdigest()
    return mapping


def _check(mapping: Mapping, where: str) -> None:
    for table, entry in mapping.tables.items():
        if table not in TABLES:
            raise InputError(where, key=f"tables.{table}", expected=f"a contract table ({', '.join(TABLES)})")
        source = entry.source.strip("/")
        if not source or entry.source.startswith("/") or ".." in source.split("/"):
            raise InputError(where, key=f"tables.{table}.source", expected="a path inside the export")
        for column, spec in entry.columns.items():
            key = f"tables.{table}.columns.{column}"
            if column not in TABLES[table].column_names:
                raise InputError(where, key=key, expected=f"a column of contract table {table}")
            if isinstance(spec, Expr):
                expression(spec.expr, where, key)
        if entry.filter is not None:
            expression(entry.filter, where, f"tables.{table}.filter")
    for table in mapping.inventory:
        if table not in TABLES:
            raise InputError(where, key=f"inventory.{table}", expected="a contract table")


@cache
def _table_functions() -> frozenset[str]:
    rows = duckdb.sql(
        "SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
        "WHERE function_type IN ('table', 'table_macro')"
    ).fetchall()
    return frozenset(r[0] for r in rows) | _OUTSIDE


def expression(text: str, where: str, key: str) -> tuple[str, set[str]]:
    """One scalar expression, rewritten by sqlglot, and the source columns it reads (lower-cased).

    Parsed inside ``SELECT (…) FROM t``, so that text closing the parenthesis to add clauses
    or statements cannot parse as one expression.
    """
    try:
        statements = sqlglot.parse(f"SELECT ({text}) FROM t", read="duckdb")
    except sqlglot.errors.SqlglotError:
        raise InputError(where, key=key, expected="one SQL expression (it does not parse)") from None
    select = statements[0] if len(statements) == 1 else None
    clauses = {k for k, v in select.args.items() if v} if isinstance(select, exp.Select) else set()
    if (
        not isinstance(select, exp.Select)
        or len(select.expressions) != 1
        or clauses - {"expressions", "from_"}
    ):
        raise InputError(where, key=key, expected="one SQL expression, nothing around it")
    tree = select.expressions[0]
    if tree.find(exp.Query, exp.Subquery):
        raise InputError(where, key=key, expected="a scalar expression (no subqueries)")
    if tree.find(exp.AggFunc, exp.Window):
        raise InputError(where, key=key, expected="a scalar expression (no aggregate or window functions)")
    if tree.find(exp.Placeholder, exp.Parameter, exp.Star):
        raise InputError(where, key=key, expected="an expression over the source's own columns")
    for func in tree.find_all(exp.Func):
        name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if name in _table_functions() or isinstance(func, (exp.ReadCSV, exp.ReadParquet)):
            raise InputError(where, key=key, expected=f"a scalar expression ({name} reads outside the row)")
    columns = {c.name.lower() for c in tree.find_all(exp.Column)}
    return tree.sql(dialect="duckdb"), columns


def literal(value: Constant) -> str:
    """The SQL literal of a ``{value: …}`` constant."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _project(
    mapping: Mapping | None, table: Table, entry: TableMapping | None, source_columns: list[str] | None
) -> Projection:
    """``source_columns`` None: only what the entry reads is wanted (no source seen yet)."""
    actual = {c.lower(): c for c in source_columns or []}
    where = mapping.file if mapping else ""
    projection = Projection(table.name, [])
    for column in table.columns:
        spec = entry.columns.get(column.name) if entry else None
        key = f"tables.{table.name}.columns.{column.name}" if spec is not None else None
        if isinstance(spec, Value):
            projection.columns.append(Column(column.name, literal(spec.value), None, key))
            continue
        if isinstance(spec, Expr):
            sql, reads = expression(spec.expr, where, key or "")
            projection.used |= reads
            projection.columns.append(Column(column.name, f"({sql})", None, key))
            continue
        name = spec.column if isinstance(spec, Source) else column.name
        projection.used.add(name.lower())
        found = actual.get(name.lower())
        if found is None:
            projection.missing.append(Missing(name, key, f"{table.name}.{column.name}"))
            continue
        projection.columns.append(Column(column.name, _ident(found), found, key))
    if entry is not None and entry.filter is not None:
        sql, reads = expression(entry.filter, where, f"tables.{table.name}.filter")
        projection.used |= reads
        projection.filter = f"({sql})"
    renamed = {m.column.lower() for m in projection.missing}
    for name in sorted(projection.used - set(actual) - renamed):
        projection.missing.append(Missing(name, f"tables.{table.name}", "an expression or the filter"))
    return projection


def identity(table: str, source_columns: list[str]) -> Projection:
    """The projection of a table found by its contract name: its contract columns as they are."""
    return _project(None, TABLES[table], None, source_columns)
