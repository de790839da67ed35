"""``privacy-audit snapshot``: a PostgreSQL database at one instant, written as a contract export.

Every table is read inside one ``REPEATABLE READ, READ ONLY`` transaction and streamed, batch
by batch, through DuckDB (which evaluates the mapping's expressions and filter in the same
dialect the audit does, so a snapshot holds exactly what auditing the mapped source would
read) into ``<table>.parquet``: contract columns under contract names and contract types, and
every source column the mapping neither reads nor declares under its own name, so that
MIN-UNDECLARED-COLUMN still sees what the platform stores. The directory appears whole, with
``snapshot.json``, or not at all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from privacy_audit import __version__
from privacy_audit.contract import TABLES, Table
from privacy_audit.engine.storage import LocalStorage
from privacy_audit.errors import InputError
from privacy_audit.outputs.folder import check_target, staged_output
from privacy_audit.sources.mapping import Mapping, Projection, identity
from privacy_audit.sources.postgres import (
    BATCH_BYTES,
    READ_ERRORS,
    Transaction,
    read_transaction,
    reason,
    shown,
)

SNAPSHOT_MARKER = "snapshot.json"
# DuckDB's own row-group size: the audit's scans run one row group per thread and skip whole
# row groups by their min/max statistics, so that is the unit a snapshot writes.
ROW_GROUP_ROWS = 122_880
_SOURCE = re.compile(r"^[^./]+(\.[^./]+)?$")
_CAST_COLUMN = re.compile(r"source column (\w+)")


@dataclass(frozen=True)
class Plan:
    """One contract table: where it is in the database and the SELECT that makes its file."""

    table: Table
    source: str  # as the mapping names it, or the contract name
    relation: str  # quoted and qualified by the server
    read_sql: str  # run by PostgreSQL
    write_sql: str  # run by DuckDB over the rows read, as ``source_rows``
    carried: list[str]


def take_snapshot(
    url: str, mapping: Mapping | None, out: Path, *, batch_bytes: int = BATCH_BYTES
) -> dict[str, object]:
    """Write the snapshot of ``url`` into ``out`` (replacing a previous one whole) and return its record."""
    check_target(out)  # before any connection: a folder that is not ours is refused first
    if mapping is not None:
        for name, entry in mapping.tables.items():
            if not _SOURCE.match(entry.source) or entry.format or entry.csv:
                raise InputError(
                    mapping.file,
                    key=f"tables.{name}.source",
                    expected="schema.table (or table) in the database, with no format or csv",
                )
    with staged_output(out) as stage, read_transaction(url) as transaction:
        plans = _plans(transaction, mapping, shown(url))
        tables = {plan.table.name: _write(transaction, plan, stage.output, batch_bytes) for plan in plans}
        record = {
            "source": shown(url),
            "snapshot_at": transaction.instant.isoformat(),
            "isolation": "REPEATABLE READ, READ ONLY",
            "tool_version": __version__,
            "mapping": {"file": mapping.file, "sha256": mapping.sha256} if mapping else None,
            "tables": tables,
        }
        (stage.output / SNAPSHOT_MARKER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def _plans(transaction: Transaction, mapping: Mapping | None, database: str) -> list[Plan]:
    """Every mapped table, and each other contract table found under its own name; all missing at once."""
    plans, missing = [], []
    for table in TABLES.values():
        entry = mapping.tables.get(table.name) if mapping else None
        name = entry.source if entry else table.name
        try:
            relation = transaction.resolve(name)
        except READ_ERRORS as exc:
            raise InputError(name, expected=reason(exc)) from None
        if relation is None and entry is not None:
            assert mapping is not None
            raise InputError(
                mapping.file,
                key=f"tables.{table.name}.source",
                expected=f"a table or view {name} in the database (not found, or its schema is not)",
            )
        if relation is None:
            missing += [] if table.optional else [table.name]
            continue
        plans.append(_plan(transaction, mapping, table, name, relation))
    if missing:
        raise InputError(
            database,
            expected=f"required table(s) {', '.join(missing)} (in the mapping or on the search path by name)",
        )
    return plans


def _plan(transaction: Transaction, mapping: Mapping | None, table: Table, name: str, relation: str) -> Plan:
    try:
        columns = transaction.schema(relation).names
    except READ_ERRORS as exc:
        raise InputError(name, expected=reason(exc)) from None
    mapped = mapping is not None and table.name in mapping.tables
    projection = mapping.projection(table.name, columns) if mapped else identity(table.name, columns)
    if projection.missing:
        first = projection.missing[0]
        where = mapping.file if mapped and first.key else name
        raise InputError(
            where,
            key=first.key,
            expected=f"source column {first.column} in {name} (read by {first.reads}; not found)",
        )
    declared = projection.used | (mapping.declared(table.name) if mapped else set())
    contract = {c.lower() for c in table.column_names}
    carried = [c for c in columns if c.lower() not in declared | contract]
    clash = [c for c in columns if c.lower() in contract - projection.used - declared]
    if mapped and clash:
        assert mapping is not None
        raise InputError(
            mapping.file,
            key=f"inventory.{table.name}",
            expected=f"source column {clash[0]} of {name} declared or mapped (it has a contract column's name,"
            " so it cannot be carried under it)",
        )
    read = [c for c in columns if c.lower() in projection.used or c in carried]
    return Plan(
        table,
        name,
        relation,
        f"SELECT {', '.join(_ident(c) for c in read) or 'NULL'} FROM {relation}",
        _write_sql(table, projection, carried),
        carried,
    )


def _write_sql(table: Table, projection: Projection, carried: list[str]) -> str:
    """Contract columns cast to the contract's types, then the carried columns; the filter applied."""
    sql = {c.name: c.sql for c in projection.columns}
    parts = [f"CAST({sql[c.name]} AS {c.type}) AS {_ident(c.name)}" for c in table.columns]
    parts += [_ident(c) for c in carried]
    where = f" WHERE {projection.filter}" if projection.filter else ""
    return f"SELECT {', '.join(parts)} FROM source_rows{where}"


def _write(transaction: Transaction, plan: Plan, directory: Path, batch_bytes: int) -> dict[str, object]:
    """Stream one table into ``directory/<table>.parquet``; its entry in snapshot.json."""
    path = directory / f"{plan.table.name}.parquet"
    rows = 0
    engine = duckdb.connect(config={"threads": 1})
    try:
        engine.execute("SET TimeZone = 'UTC'")  # a zoned timestamp becomes the contract's UTC wall time
        with transaction.stream(plan.read_sql, batch_bytes) as reader:
            engine.register("source_rows", reader)
            batches = engine.sql(plan.write_sql).to_arrow_reader(ROW_GROUP_ROWS)
            with pq.ParquetWriter(path, batches.schema, compression="zstd") as writer:
                for batch in batches:
                    writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
                    rows += batch.num_rows
    except duckdb.ConversionException as exc:
        column = _CAST_COLUMN.search(str(exc))
        raise InputError(
            plan.source,
            column=column.group(1) if column else None,
            expected=f"values of the contract's types in {plan.table.name} (a value does not convert)",
        ) from None
    except OSError as exc:
        if exc.errno is not None:  # the file system's own error, not a read passed up the stream
            raise InputError(str(path), expected=f"room to write the snapshot ({exc.strerror})") from None
        raise InputError(plan.source, expected=reason(exc)) from None
    except (*READ_ERRORS, duckdb.Error) as exc:
        raise InputError(plan.source, expected=reason(exc)) from None
    finally:
        engine.close()
    return {
        "source": plan.source,
        "file": path.name,
        "rows": rows,
        "sha256": LocalStorage().sha256(str(path)),
        "carried_columns": plan.carried,
    }


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
