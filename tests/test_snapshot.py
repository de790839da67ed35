"""``privacy-audit snapshot``: a live PostgreSQL database at one instant, audited like its export.

The server is a throwaway cluster (conftest.py) holding the demo export under a platform's own
names: three mapped tables (one renamed, one with an expression, a filtered test row, a declared
and an undeclared extra column) and the others found by their contract names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import adbc_driver_postgresql.dbapi as adbc
import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import DEMO_EXPORT, READER, NativeDatabase
from privacy_audit.audit import run_audit
from privacy_audit.cli import app
from privacy_audit.sources import postgres
from privacy_audit.sources.snapshot import ROW_GROUP_ROWS

pytestmark = pytest.mark.postgres
runner = CliRunner()
AS_OF = date(2026, 11, 1)


def snapshot(url: str, mapping: Path, out: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["snapshot", url, "--mapping", str(mapping), "--out", str(out)])
    return result.exit_code, result.stderr


def scalar(sql: str) -> object:
    return duckdb.sql(sql).fetchall()[0][0]


def findings(export: Path) -> set[tuple[str, ...]]:
    rows = run_audit(export, AS_OF).findings().to_pylist()
    return {(r["rule_id"], r["table_name"], r["record_id"], str(r["subject_id"]), r["detail"]) for r in rows}


def test_snapshot_audits_like_the_export_it_came_from(native_db: NativeDatabase, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    code, stderr = snapshot(native_db.url(), native_db.mapping, out)
    assert code == 0, stderr
    undeclared = ("MIN-UNDECLARED-COLUMN", "orders", "orders.utm_source")
    got = findings(out)
    # The platform stores one column the contract and inventory do not declare: the snapshot
    # carries it, so the audit sees it; everything else is the demo's findings exactly.
    assert {f for f in got if f[:3] != undeclared} == findings(DEMO_EXPORT)
    assert [f[:3] for f in got if f[:3] == undeclared] == [undeclared]

    record = json.loads((out / "snapshot.json").read_text())
    assert native_db.server.password not in json.dumps(record)
    assert record["source"] == f"postgresql://postgres@127.0.0.1:{native_db.server.port}/demo"
    assert record["tables"]["orders"]["source"] == "shop.sales_order"
    # store_id and created are read only by the filter and an expression, utm_campaign is declared
    assert record["tables"]["orders"]["carried_columns"] == ["gift_message", "utm_source"]
    for table, entry in record["tables"].items():
        parquet = pq.ParquetFile(out / entry["file"])
        assert (
            parquet.metadata.num_rows
            == entry["rows"]
            == pq.read_metadata(DEMO_EXPORT / f"{table}.parquet").num_rows
        )
        groups = [parquet.metadata.row_group(i) for i in range(parquet.metadata.num_row_groups)]
        assert all(g.num_rows <= ROW_GROUP_ROWS and g.column(0).compression == "ZSTD" for g in groups)
        assert scalar(f"SELECT sha256(content) FROM read_blob('{out / entry['file']}')") == entry["sha256"]


@contextmanager
def after_reading(relation: str, action: object) -> Iterator[None]:
    """Run ``action()`` once the snapshot has read ``relation`` (while it reads the others)."""
    original = postgres.Transaction.stream

    @contextmanager
    def stream(self: postgres.Transaction, sql: str, batch_bytes: int = postgres.BATCH_BYTES):  # type: ignore[no-untyped-def]
        with original(self, sql, batch_bytes) as reader:
            yield reader
        if sql.endswith(f" FROM {relation}"):
            action()  # type: ignore[operator]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(postgres.Transaction, "stream", stream)
        yield


def execute(url: str, *statements: str) -> None:
    with adbc.connect(url) as connection, connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
        connection.commit()


def test_rows_changed_during_the_snapshot_are_not_half_applied(
    fresh_db: NativeDatabase, tmp_path: Path
) -> None:
    with adbc.connect(fresh_db.url()) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT account_id FROM shop.sales_order WHERE store_id = 'web' LIMIT 1")
        gone = cursor.fetchone()[0]
    # Another connection deletes an account with its orders and adds one with an order, after
    # the snapshot has read accounts and before it reads orders.
    change = lambda: execute(  # noqa: E731
        fresh_db.url(),
        f"DELETE FROM shop.sales_order WHERE account_id = '{gone}'",
        f"DELETE FROM app.accounts WHERE account_id = '{gone}'",
        "INSERT INTO app.accounts (account_id, country, created_at) VALUES ('NEW-1', 'FR', now())",
        "INSERT INTO shop.sales_order SELECT * FROM shop.sales_order LIMIT 1",
        "UPDATE shop.sales_order SET entity_id = 'NEW-ORDER', account_id = 'NEW-1' WHERE ctid = (SELECT max(ctid) FROM shop.sales_order)",
    )
    out = tmp_path / "snap"
    with after_reading("app.accounts", change):
        code, stderr = snapshot(fresh_db.url(), fresh_db.mapping, out)
    assert code == 0, stderr
    orders = f"'{out}/orders.parquet'"
    accounts = {r[0] for r in duckdb.sql(f"SELECT account_id FROM '{out}/accounts.parquet'").fetchall()}
    assert gone in accounts and "NEW-1" not in accounts
    assert scalar(f"SELECT count(*) FROM {orders} WHERE account_id = '{gone}'") > 0
    assert scalar(f"SELECT count(*) FROM {orders} WHERE order_id = 'NEW-ORDER'") == 0
    with adbc.connect(fresh_db.url()) as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM shop.sales_order WHERE account_id = '{gone}'")
        assert cursor.fetchone()[0] == 0  # the change did happen, after the snapshot's instant


def assert_one_clear_line(code: int, stderr: str, secret: str, *needles: str) -> None:
    assert code == 2, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert secret not in stderr
    for needle in needles:
        assert needle in stderr, stderr


def rewritten(mapping: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = mapping.read_text()
    assert old in text
    path = tmp_path / "mapping.yaml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        (
            "source: crm.people",
            "source: nosuch.people",
            ["tables.contacts.source", "nosuch.people", "not found"],
        ),
        ("source: crm.people", "source: crm.nobody", ["tables.contacts.source", "crm.nobody", "not found"]),
        (
            "contact_id: id,",
            "contact_id: ident,",
            ["tables.contacts.columns.contact_id", "crm.people", "ident"],
        ),
        ("source: crm.people", "source: crm/people.csv", ["tables.contacts.source", "schema.table"]),
    ],
    ids=["schema", "table", "column", "file-source"],
)
def test_a_mapping_that_does_not_fit_the_database_is_one_line(
    native_db: NativeDatabase, tmp_path: Path, old: str, new: str, needles: list[str]
) -> None:
    out = tmp_path / "snap"
    code, stderr = snapshot(native_db.url(), rewritten(native_db.mapping, tmp_path, old, new), out)
    assert_one_clear_line(code, stderr, native_db.server.password, *needles)
    assert not out.exists()


def test_unreachable_server_and_wrong_password_are_one_line(
    native_db: NativeDatabase, tmp_path: Path
) -> None:
    out = tmp_path / "snap"
    secret = native_db.server.password
    closed = native_db.url().replace(f":{native_db.server.port}/", ":1/")
    code, stderr = snapshot(closed, native_db.mapping, out)
    assert_one_clear_line(code, stderr, secret, "postgresql://postgres@127.0.0.1:1/demo", "refused")
    code, stderr = snapshot(native_db.url(password="not-" + secret), native_db.mapping, out)
    assert_one_clear_line(code, stderr, secret, "password authentication failed")
    assert not out.exists()


def test_a_table_the_login_may_not_read_is_named(native_db: NativeDatabase, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    code, stderr = snapshot(native_db.url(user=READER), native_db.mapping, out)
    assert_one_clear_line(code, stderr, native_db.server.password, "shop.sales_order", "permission denied")
    assert not out.exists()


def test_a_connection_dropped_mid_read_keeps_the_previous_snapshot(
    native_db: NativeDatabase, tmp_path: Path
) -> None:
    out = tmp_path / "snap"
    assert snapshot(native_db.url(), native_db.mapping, out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    original = postgres.Transaction.stream

    @contextmanager
    def dropped(self: postgres.Transaction, sql: str, batch_bytes: int = postgres.BATCH_BYTES):  # type: ignore[no-untyped-def]
        with original(self, sql, 4096) as reader:  # small batches: most of the table is still to come
            if sql.endswith("FROM shop.sales_order"):
                execute(
                    native_db.url(),
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                )
            yield reader

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(postgres.Transaction, "stream", dropped)
        code, stderr = snapshot(native_db.url(), native_db.mapping, out)
    assert_one_clear_line(code, stderr, native_db.server.password, "shop.sales_order", "connection was lost")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["snap"]  # no temporary directory left behind
