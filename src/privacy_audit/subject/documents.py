"""The subject's artifacts: subject.json and erasure-plan.csv (identifiers only), and package/.

The identifier documents are scanned for the subject's personal values before anything is
moved into place; only package/, written on request, holds values, readable by its owner only.
"""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from privacy_audit.contract import TABLES
from privacy_audit.engine import make_engine
from privacy_audit.reporting.common.leaks import PERSONAL_KINDS, LeakScanner
from privacy_audit.subject.assessment import Assessed
from privacy_audit.subject.linkage import DATA_CATEGORIES, SHARED_TABLES, Holding
from privacy_audit.writer import csv_ready

PLAN_COLUMNS = ("table_name", "record_id", "action", "columns", "reason", "until")


class LeakFound(Exception):
    """An identifier document would carry a personal value: nothing is written (exit 1)."""


def subject_document(
    holding: Holding, assessed: dict[str, list[Assessed]], as_of: date, manifest: dict[str, object]
) -> dict[str, object]:
    """subject.json: per table the record ids, personal columns set, purpose, deadline, holds, exceptions."""
    subject = holding.subject
    steps = [a.step for records in assessed.values() for a in records if a.step]
    access = {
        str(r["access_id"]): r for r in holding.tables.get("staff_access_log", pa.table({})).to_pylist()
    }
    tables: dict[str, object] = {}
    for table, records in assessed.items():
        spec = TABLES[table]
        tables[table] = {
            "shared_with_account": table in SHARED_TABLES,
            "data_category": DATA_CATEGORIES.get(table),
            "personal_columns": list(spec.personal),
            "personal_columns_set": sorted({c for a in records for c in a.personal_set}),
            "records": [_record(table, a, access) for a in records],
        }
    return {
        "subject": {
            "kind": subject.kind,
            "id": subject.id,
            "account_id": subject.account_id,
            "contact_ids": list(subject.contact_ids),
            "erased": is_erased(holding),
        },
        "as_of": as_of.isoformat(),
        "counts": {
            "records": sum(len(r) for r in assessed.values()),
            "by_table": {t: len(r) for t, r in assessed.items()},
            "erase": sum(s.action == "erase" for s in steps),
            "keep": sum(s.action == "keep" for s in steps),
        },
        "tables": tables,
        "recipients": holding.recipients,
        "absent_tables": holding.absent,
        "manifest": manifest,
    }


def is_erased(holding: Holding) -> bool:
    """The subject's own row (a contact's, or an account's and all its contacts') is erased."""
    own = ["contacts"] if holding.subject.kind == "contact" else ["accounts", "contacts"]
    return all(
        all(row[c] is None for c in TABLES[t].personal) for t in own for row in holding.tables[t].to_pylist()
    )


def _record(table: str, a: Assessed, access: dict[str, dict[str, Any]]) -> dict[str, object]:
    record: dict[str, object] = {
        "record_id": a.record_id,
        "personal_columns_set": list(a.personal_set),
        "purpose": a.purpose,
        "deadline": _iso(a.deadline.at) if a.deadline else None,
        "deadline_rule": a.deadline.rule if a.deadline else None,
        "deadline_basis": a.deadline.basis if a.deadline else None,
        "overdue": a.overdue,
        "holds": list(a.holds),
        "exceptions": [{k: _iso(v) for k, v in x.items()} for x in a.exceptions],
    }
    if a.step:
        record["plan"] = {"action": a.step.action, "reason": a.step.reason, "until": _iso(a.step.until)}
    if table == "staff_access_log":  # who on the staff looked at which record (Art. 15 recipients)
        row = access[a.record_id]
        record.update(
            staff_id=row["staff_id"],
            action=row["action"],
            accessed_on=row["accessed_at"].date().isoformat(),
            names=f"{row['table_name']}/{row['record_id']}",
        )
    return record


def plan_csv(assessed: dict[str, list[Assessed]]) -> str:
    """erasure-plan.csv: one row per personal record; columns to set NULL are ``;``-separated."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PLAN_COLUMNS)
    for records in assessed.values():
        for s in (a.step for a in records if a.step):
            writer.writerow(
                [s.table_name, s.record_id, s.action, ";".join(s.columns), s.reason, _iso(s.until) or ""]
            )
    return buffer.getvalue()


def leak_scan(holding: Holding, texts: dict[str, str]) -> None:
    """Raise ``LeakFound`` when a text holds one of the subject's personal values.

    The documents are built from the subject's records alone, so the subject's values are
    the ones that could leak; scanning for them needs no pass over the whole export.
    """
    engine = make_engine("duckdb")
    try:
        held = holding.held()
        for table, rows in held.items():
            engine.register(table, rows)
        pairs = [(t, c) for t, rows in held.items() for c in rows.column_names]
        engine.register(
            "export_columns",
            pa.table({"table_name": [t for t, _ in pairs], "column_name": [c for _, c in pairs]}),
        )
        scanner = LeakScanner.from_engine(engine, kinds=PERSONAL_KINDS)
        found = [f"{name}: {hit}" for name, text in texts.items() for hit in scanner.scan_text(text)]
    finally:
        engine.close()
    if found:
        raise LeakFound("; ".join(found))


def write_package(holding: Holding, directory: Path) -> None:
    """package/: the data itself, one JSON document and one CSV per table, owner-only."""
    package = directory / "package"
    package.mkdir(mode=0o700)
    package.chmod(0o700)
    held = holding.held()
    document = {
        t: [{k: _value(v) for k, v in row.items()} for row in rows.to_pylist()] for t, rows in held.items()
    }
    _private(package / "package.json", (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())
    for table, rows in held.items():
        sink = pa.BufferOutputStream()
        pacsv.write_csv(csv_ready(rows), sink, write_options=pacsv.WriteOptions(quoting_style="needed"))
        _private(package / f"{table}.csv", sink.getvalue().to_pybytes())


def _private(path: Path, data: bytes) -> None:
    """Create ``path`` readable and writable by its owner only, from its first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    path.chmod(0o600)


def _value(value: object) -> object:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, date | datetime) else value
