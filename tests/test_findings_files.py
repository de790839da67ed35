"""Millions of findings in bounded memory: rules, lifecycle and outputs over Parquet files (issue 23).

Each rule's findings go to a file, the lifecycle (waivers, previous run, resolved) runs as DuckDB
SQL over those files, and the outputs read findings.parquet a record batch at a time.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from handmade import make_export
from privacy_audit.audit import run_audit
from privacy_audit.lifecycle import PreviousRun, Waiver, Waivers, annotate
from privacy_audit.outputs.findings import FINDINGS_SCHEMA, RECORD_SCHEMA, RESOLVED_SCHEMA

A, B, C = "RET-ORDER-OVERDUE", "CHILD-MINOR", "SHARE-SALE"
DAY, PREV, EARLIER = date(2026, 11, 1), date(2026, 10, 1), date(2026, 1, 15)


def _records(path: Path, rule: str, rows: list[tuple[str, str, str]]) -> Path:
    """A rule's findings file as the engine writes it: (table, record, subject) rows, sorted."""
    columns = {
        "rule_id": [rule] * len(rows),
        "severity": ["high"] * len(rows),
        "table_name": [r[0] for r in rows],
        "record_id": [r[1] for r in rows],
        "subject_id": [r[2] for r in rows],
        "clause": ["6.1"] * len(rows),
        "detail": [f"why {r[1]}" for r in rows],
    }
    pq.write_table(pa.table(columns, schema=RECORD_SCHEMA), path)
    return path


def _waiver(wid: str, rule: str, expires: date = date(2027, 1, 1), **target: object) -> Waiver:
    return Waiver(id=wid, rule=rule, justification="j", approved_by="a", expires=expires, **target)


def test_the_lifecycle_over_files_gives_each_finding_its_place(tmp_path: Path) -> None:
    """Two rules' files, a previous run and waivers of every kind: every column of every row."""
    records = [
        _records(tmp_path / "a.parquet", A, [("orders", "O1", "S1"), ("orders", "O2", "S2"), ("orders", "O3", "S3")]),
        _records(tmp_path / "b.parquet", B, [("contacts", "C1", "S2"), ("contacts", "C2", "S9")]),
    ]  # fmt: skip
    before = [  # an earlier run: O2 first seen in January, C1 by a run from before first_seen was filled
        (A, "O2", "open", EARLIER),
        (A, "O4", "waived", EARLIER),  # found no more: resolved
        (B, "C1", None, None),
        (C, "X1", "open", PREV),  # its rule did not run now: not resolved
    ]
    prior = tmp_path / "prev.parquet"
    pq.write_table(
        pa.table(
            {"rule_id": [b[0] for b in before], "severity": ["high"] * 4, "table_name": ["orders", "orders", "contacts", "t"],
             "record_id": [b[1] for b in before], "subject_id": ["S2", "S4", "S2", "S5"], "clause": ["6.1"] * 4,
             "detail": ["d"] * 4, "status": [b[2] for b in before], "waiver_id": [None, "W-9", None, None],
             "change": ["new"] * 4, "first_seen": [b[3] for b in before]},
            schema=FINDINGS_SCHEMA,
        ),
        prior,
    )  # fmt: skip
    waivers = [
        _waiver("W-REC", A, records=["O1"]),
        _waiver("W-OLD", A, expires=date(2026, 10, 31), records=["O2"]),  # expired the day before
        _waiver("W-ALL", B, scope="rule"),
        _waiver("W-SUB", B, subjects=["S2"]),  # matches C1 too, but W-ALL is listed first
        _waiver("W-C", C, scope="rule"),
    ]
    out = tmp_path / "out"
    out.mkdir()
    life = annotate(
        records,
        [A, B],
        DAY,
        Waivers("w.yaml", "0" * 64, tuple(waivers)),
        PreviousRun("prev", PREV, {}, "p", None, None, prior),
        folder=out,
    )
    # every field optional, as the contract's (DuckDB would write a column it proves non-null as REQUIRED)
    assert pq.read_schema(life.findings_file).equals(FINDINGS_SCHEMA)
    assert pq.read_schema(life.resolved_file).equals(RESOLVED_SCHEMA)
    got = [(r["rule_id"], r["record_id"], r["status"], r["waiver_id"], r["change"], r["first_seen"])
           for r in life.findings.to_pylist()]  # fmt: skip
    assert got == [
        (A, "O1", "waived", "W-REC", "new", DAY),
        (A, "O2", "open", "W-OLD", "persisting", EARLIER),  # an expired waiver names itself, waives nothing
        (A, "O3", "open", None, "new", DAY),
        (B, "C1", "waived", "W-ALL", "persisting", PREV),
        (B, "C2", "waived", "W-ALL", "new", DAY),
    ]
    assert life.findings.select(RECORD_SCHEMA.names).equals(
        pa.concat_tables([pq.read_table(p) for p in records])
    )  # every record column as the rules wrote it
    resolved = life.resolved.to_pylist()
    assert [(r["rule_id"], r["record_id"], r["status"], r["waiver_id"], r["resolved_as_of"]) for r in resolved] == [
        (A, "O4", "waived", "W-9", DAY)
    ]  # fmt: skip
    assert [(u.waiver.id, u.state, u.matched) for u in life.uses] == [
        ("W-REC", "in_force", 1),
        ("W-OLD", "expired", 1),
        ("W-ALL", "in_force", 2),
        ("W-SUB", "in_force", 1),
        ("W-C", "not_checked", 0),
    ]
    assert {rule: (c.open, c.waived, c.new, c.resolved) for rule, c in life.counts.items()} == {
        A: (2, 1, 2, 1),
        B: (0, 2, 1, 0),
    }


def _overdue_orders(root: Path, n: int) -> Path:
    """An export whose ``n`` orders (O0000000…) are all overdue: ``n`` findings of RET-ORDER-OVERDUE."""
    order = {"order_id": "O", "account_id": "A1", "order_date": "2010-01-01", "contact_id": "C1"}
    tables = {"accounts": [{"account_id": "A1", "country": "US"}],
              "contacts": [{"contact_id": "C1", "account_id": "A1"}], "orders": [order]}  # fmt: skip
    export = make_export(root, tables, "parquet")
    one = pq.read_table(export / "orders.parquet")
    many = one.take(pa.array([0] * n)).set_column(0, "order_id", pa.array([f"O{i:07d}" for i in range(n)]))
    pq.write_table(many, export / "orders.parquet")
    return export


def test_a_library_result_keeps_its_findings_until_it_is_closed(tmp_path: Path) -> None:
    """run_audit's caller reads findings after it returns; the files go with the result, not before."""
    export = _overdue_orders(tmp_path / "export", 3)
    result = run_audit(export, DAY, rules=None)
    folder = result.lifecycle.findings_file.parent
    overdue = next(r for r in result.results if r.rule.id == A)
    del result
    gc.collect()
    assert overdue.findings.column("record_id").to_pylist() == ["O0000000", "O0000001", "O0000002"]
    del overdue
    gc.collect()
    assert not folder.exists()  # the last holder gone, the temporary folder is removed
    with run_audit(export, DAY) as result:
        assert result.findings().num_rows >= 3
        folder = result.lifecycle.findings_file.parent
    assert not folder.exists()


PEAK = """
import sys
import pyarrow as pa
from privacy_audit.cli import app
try:
    sys.exit(app(sys.argv[1:], standalone_mode=False))
finally:
    print(pa.default_memory_pool().max_memory(), file=sys.stderr)
"""


def test_the_audit_never_holds_the_whole_findings_table(tmp_path: Path) -> None:
    """600,000 findings under a 100 MB DuckDB limit: pyarrow's peak is a few row groups, not the table.

    Before, the findings were one Arrow table (and the lifecycle's joins copies of it); now Arrow
    holds a row group of findings.parquet at a time, for SARIF, JUnit and the attestation alike.
    """
    n = 600_000
    export = _overdue_orders(tmp_path / "export", n)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", PEAK, "audit", str(export), "--as-of", DAY.isoformat(), "--out", str(out),
         "--rules", A, "--memory-limit", "100MB", "--threads", "1", "--format", "sarif,junit"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    peak = int(done.stderr.strip().splitlines()[-1])
    table = pq.read_table(out / "findings.parquet")
    assert table.num_rows == n and json.loads((out / "summary.json").read_text())["totals"]["open"] == n
    assert 0 < peak < table.nbytes / 3, (peak, table.nbytes)
