"""Hand-made exports (and throwaway rules) for tests: only the rows and columns a test is about.

Every required table is written (empty unless given); optional tables only when given. A
required column a row leaves out gets a plain default (first enum value, 2020-01-01, "x", a
generated key); nullable columns default to NULL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import yaml

from privacy_audit.contract import COUNTRY, CURRENCY, DATE, TABLES, TEXT, TIMESTAMP, Column
from privacy_audit.rules.registry import Rule, Severity
from privacy_audit.writer import to_arrow, write_table

Rows = list[Mapping[str, object]]


def _default(table: str, column: Column, index: int) -> object:
    if column.nullable:
        return None
    if column.name == TABLES[table].key and column.type == TEXT:
        return f"{table}-{index}"
    if column.enum:
        return column.enum[0]
    if column.pattern:
        return {COUNTRY: "US", CURRENCY: "EUR"}[column.pattern]
    return {TIMESTAMP: datetime(2020, 1, 1), DATE: date(2020, 1, 1), "BOOLEAN": False, "BIGINT": 1}.get(
        column.type, 1 if column.type.startswith("DECIMAL") else "x"
    )


def _coerce(column: Column | None, value: object) -> object:
    if column is None or value is None:
        return value
    if column.type == TIMESTAMP:
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day)
    if column.type == DATE:
        if isinstance(value, str):
            return date.fromisoformat(value)
        if isinstance(value, datetime):
            return value.date()
    return value


def complete_rows(table: str, rows: Rows) -> Rows:
    """Fill the columns a row leaves out and coerce ISO strings to dates and timestamps."""
    spec = TABLES[table]
    done = []
    for i, row in enumerate(rows, start=1):
        full = {c.name: _default(table, c, i) for c in spec.columns}
        for key, value in row.items():
            full[key] = _coerce(next((c for c in spec.columns if c.name == key), None), value)
        done.append(full)
    return done


def make_export(directory: Path, tables: Mapping[str, Rows], fmt: str = "parquet") -> Path:
    """Write an export of ``tables`` (plus empty required tables) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, spec in TABLES.items():
        if name not in tables and spec.optional:
            continue
        write_table(directory, name, to_arrow(name, complete_rows(name, tables.get(name) or [])), fmt)
    return directory


def write_policy(path: Path, overrides: Mapping[str, object]) -> Path:
    """The default policy with ``overrides`` replacing top-level keys, written as YAML."""
    from privacy_audit.policy import DEFAULT_POLICY

    data = yaml.safe_load(DEFAULT_POLICY.read_bytes())
    data.update(overrides)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def ad_hoc_rule(table: str, sql: str) -> Rule:
    """A throwaway rule over ``table``, not registered in the catalogue."""
    return Rule(
        id="T-AD-HOC",
        severity=Severity.low,
        clauses=("5.1",),
        key="x",
        table=table,
        tables=(table,),
        params=(),
        what="",
        why="",
        example="",
        sql=sql,
    )
