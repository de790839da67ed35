"""Unusable input ends with exit status 2 and one line naming file, column and row — no traceback.

Each test breaks one thing in an otherwise valid hand-made export.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import NoReturn

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.cli import app
from privacy_audit.engine.storage import LocalStorage

runner = CliRunner()
SECRET = "jane.doe@example.com"


def audit(export: Path | str, tmp_path: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["audit", str(export), "--as-of", "2026-01-01", "--out", str(tmp_path / "out"), *extra]
    )
    return result.exit_code, result.stderr


def assert_one_clear_line(code: int, stderr: str, *needles: str) -> None:
    assert code == 2, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert SECRET not in stderr


@pytest.fixture
def csv_export(tmp_path: Path) -> Path:
    return make_export(
        tmp_path / "export",
        {"contacts": [{"contact_id": "C1", "account_id": "A1", "email": SECRET}]},
        "csv",
    )


def rewrite(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


def test_missing_directory(tmp_path: Path) -> None:
    assert_one_clear_line(*audit(tmp_path / "nope", tmp_path), "nope", "does not exist")


def test_file_instead_of_directory(tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    file.write_text("a\n")
    assert_one_clear_line(*audit(file, tmp_path), "export.csv", "not a file")


def test_storage_uri_needs_the_spark_engine(tmp_path: Path) -> None:
    code, stderr = audit("hdfs://namenode:8020/exports/2026-11-01", tmp_path)
    assert_one_clear_line(code, stderr, "hdfs://namenode:8020/exports/2026-11-01", "--engine spark")
    assert not (tmp_path / "out").exists()


def test_missing_required_table(csv_export: Path, tmp_path: Path) -> None:
    (csv_export / "orders.csv").unlink()
    assert_one_clear_line(*audit(csv_export, tmp_path), "orders", "required table")


def test_missing_required_tables_are_named_in_one_line(csv_export: Path, tmp_path: Path) -> None:
    for table in ("orders", "products", "payments"):
        (csv_export / f"{table}.csv").unlink()
    assert_one_clear_line(*audit(csv_export, tmp_path), "required tables products, orders, payments")


def test_missing_required_column(csv_export: Path, tmp_path: Path) -> None:
    rewrite(csv_export / "contacts.csv", '"created_at"', '"created"')
    assert_one_clear_line(*audit(csv_export, tmp_path), "contacts.csv", "column created_at")


def test_text_in_integer_column_names_the_row(tmp_path: Path) -> None:
    export = make_export(
        tmp_path / "export",
        {"order_items": [{"order_id": "O1", "quantity": 2}, {"order_id": "O2", "quantity": 3}]},
        "csv",
    )
    rewrite(export / "order_items.csv", '"O2",1,"x",3,', '"O2",1,"x",three,')
    assert_one_clear_line(
        *audit(export, tmp_path), "order_items.csv", "column quantity", "row 2", "an integer"
    )


def test_impossible_date(csv_export: Path, tmp_path: Path) -> None:
    rewrite(csv_export / "contacts.csv", "2020-01-01 00:00:00", "2020-02-30 00:00:00")
    assert_one_clear_line(
        *audit(csv_export, tmp_path), "contacts.csv", "column created_at", "row 1", "timestamp"
    )


def test_timestamp_with_a_malformed_offset_is_rejected(csv_export: Path, tmp_path: Path) -> None:
    rewrite(csv_export / "contacts.csv", "2020-01-01 00:00:00.000000", "2020-01-01 00:00:00+2")
    assert_one_clear_line(*audit(csv_export, tmp_path), "column created_at", "row 1", "offset such as Z")


def test_personal_value_never_echoed(csv_export: Path, tmp_path: Path) -> None:
    rewrite(csv_export / "contacts.csv", "2020-01-01 00:00:00", SECRET)
    code, stderr = audit(csv_export, tmp_path)
    assert_one_clear_line(code, stderr, "column created_at")


def test_empty_file(csv_export: Path, tmp_path: Path) -> None:
    (csv_export / "products.csv").write_bytes(b"")
    assert_one_clear_line(*audit(csv_export, tmp_path), "products.csv", "empty")


def test_header_only_csv_is_a_valid_empty_table(csv_export: Path, tmp_path: Path) -> None:
    code, stderr = audit(csv_export, tmp_path)
    assert code == 0, stderr


def test_unknown_enum_value(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {"orders": [{"order_id": "O1"}, {"order_id": "O2"}]}, "csv")
    rewrite(export / "orders.csv", '"O2","x",,2020-01-01,"placed"', '"O2","x",,2020-01-01,"lost"')
    assert_one_clear_line(
        *audit(export, tmp_path), "orders.csv", "column status", "row 2", "placed | shipped"
    )


def test_malformed_csv_row(csv_export: Path, tmp_path: Path) -> None:
    with (csv_export / "contacts.csv").open("a", encoding="utf-8") as handle:
        handle.write(f'C2,A1,"{SECRET},unterminated\n')
    assert_one_clear_line(*audit(csv_export, tmp_path), "contacts.csv", "CSV")


def test_wrong_number_of_fields(csv_export: Path, tmp_path: Path) -> None:
    with (csv_export / "contacts.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"C2,A1,{SECRET}\n")
    assert_one_clear_line(*audit(csv_export, tmp_path), "contacts.csv", "row 2", "CSV")


def test_required_value_missing(tmp_path: Path) -> None:
    export = make_export(
        tmp_path / "export", {"accounts": [{"account_id": "A1", "country": None}]}, "parquet"
    )
    assert_one_clear_line(*audit(export, tmp_path), "accounts.parquet", "column country", "row 1", "required")


def write_holds(export: Path, placed_at: pa.Array, released_at: pa.Array) -> None:
    """Replace legal_holds.parquet by one hold whose timestamp columns have the given Parquet types."""
    ids = {"hold_id": ["H1"], "account_id": ["A1"], "reason": ["x"]}
    pq.write_table(
        pa.table({**ids, "placed_at": placed_at, "released_at": released_at}), export / "legal_holds.parquet"
    )


def test_parquet_column_of_wrong_type(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {}, "parquet")
    write_holds(export, pa.array(["2020-01-01"]), pa.array([None], pa.string()))
    assert_one_clear_line(*audit(export, tmp_path), "legal_holds.parquet", "column placed_at", "VARCHAR")


def test_parquet_timestamp_units_and_zones_are_accepted(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {}, "parquet")
    write_holds(
        export,
        pa.array([datetime(2020, 1, 1)], pa.timestamp("ns")),
        pa.array([datetime(2021, 1, 1)], pa.timestamp("ms", tz="UTC")),
    )
    code, stderr = audit(export, tmp_path)
    assert code == 0, stderr


def test_two_files_for_one_table(csv_export: Path, tmp_path: Path) -> None:
    make_export(tmp_path / "pq", {}, "parquet")
    (tmp_path / "pq" / "products.parquet").rename(csv_export / "products.parquet")
    assert_one_clear_line(
        *audit(csv_export, tmp_path), "one form of table products", "products.csv and products.parquet"
    )


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"deletion_grace_days: [30", "valid YAML"),
        (b"- a list\n", "mapping"),
        (b"", "mapping"),
    ],
)
def test_invalid_policy_file(csv_export: Path, tmp_path: Path, content: bytes, needle: str) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(content)
    assert_one_clear_line(*audit(csv_export, tmp_path, "--policy", str(policy)), "policy.yaml", needle)


def test_unreadable_policy_file(csv_export: Path, tmp_path: Path) -> None:
    assert_one_clear_line(
        *audit(csv_export, tmp_path, "--policy", str(tmp_path / "none.yaml")), "none.yaml", "readable"
    )


def test_unknown_policy_key(csv_export: Path, tmp_path: Path) -> None:
    from handmade import write_policy

    policy = write_policy(tmp_path / "policy.yaml", {"delection_grace_days": 30})
    assert_one_clear_line(
        *audit(csv_export, tmp_path, "--policy", str(policy)), "key delection_grace_days", "unknown"
    )


def test_policy_key_of_wrong_type(csv_export: Path, tmp_path: Path) -> None:
    from handmade import write_policy

    policy = write_policy(
        tmp_path / "policy.yaml", {"order_retention_years": {"default": "seven", "by_country": {}}}
    )
    assert_one_clear_line(
        *audit(csv_export, tmp_path, "--policy", str(policy)), "key order_retention_years.default", "integer"
    )


def test_as_of_not_a_date(csv_export: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["audit", str(csv_export), "--as-of", "2026-13-01", "--out", str(tmp_path / "o")]
    )
    assert_one_clear_line(result.exit_code, result.stderr, "--as-of", "YYYY-MM-DD")


def test_unknown_rule_id(csv_export: Path, tmp_path: Path) -> None:
    assert_one_clear_line(*audit(csv_export, tmp_path, "--rules", "RET-NOPE"), "RET-NOPE")


def test_failed_run_leaves_no_output(csv_export: Path, tmp_path: Path) -> None:
    (csv_export / "orders.csv").write_bytes(b"")
    code, _ = audit(csv_export, tmp_path)
    assert code == 2
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.parametrize("kind", ["directory", "broken link"])
def test_table_name_that_is_not_a_file(csv_export: Path, tmp_path: Path, kind: str) -> None:
    """An optional table whose file is unusable is an error, never silently "absent"."""
    staff = csv_export / "staff.csv"
    if kind == "directory":
        staff.mkdir()
    else:
        staff.symlink_to(tmp_path / "gone.csv")
    assert_one_clear_line(*audit(csv_export, tmp_path), "staff.csv", "table staff as a regular file")
    assert not (tmp_path / "out").exists()


def _vanished(self: LocalStorage, location: str) -> NoReturn:
    """A storage call on a file that was deleted after the export was listed."""
    raise FileNotFoundError(2, "No such file or directory", location)


def test_csv_unreadable_after_discovery(
    csv_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LocalStorage, "open", _vanished)
    assert_one_clear_line(*audit(csv_export, tmp_path), "accounts.csv", "a readable file", "No such file")
    assert not (tmp_path / "out").exists()


def test_file_unreadable_before_its_digest(
    csv_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digests are computed while the rules run: a file lost meanwhile stops the run, no output."""
    monkeypatch.setattr(LocalStorage, "sha256", _vanished)
    code, stderr = audit(csv_export, tmp_path)
    assert code == 2 and "Traceback" not in stderr
    assert "accounts.csv: expected a file that stays readable until the audit ends (No such file" in stderr
    assert not (tmp_path / "out").exists()


def test_memory_limit_not_a_size(csv_export: Path, tmp_path: Path) -> None:
    assert_one_clear_line(*audit(csv_export, tmp_path, "--memory-limit", "lots"), "--memory-limit", "4GB")


@pytest.mark.parametrize(
    "report",
    [
        ["compliance", "--as-of", "2026-01-01"],
        ["trends", "--period-start", "2025-01-01", "--period-end", "2025-12-31"],
    ],
)
def test_a_reports_memory_limit_not_a_size(csv_export: Path, tmp_path: Path, report: list[str]) -> None:
    """The reports' engines are bounded like the audit's, and a bad bound is refused the same way."""
    out = ["--export", str(csv_export), "--out", str(tmp_path / "out"), "--memory-limit", "lots"]
    result = runner.invoke(app, ["report", *report, *out])
    assert_one_clear_line(result.exit_code, result.stderr, "--memory-limit", "4GB")
    assert not (tmp_path / "out").exists()


def test_country_code_not_iso(tmp_path: Path) -> None:
    export = make_export(
        tmp_path / "export", {"accounts": [{"account_id": "A1", "country": "<b>uk</b>"}]}, "csv"
    )
    assert_one_clear_line(*audit(export, tmp_path), "accounts.csv", "column country", "row 1", "ISO 3166-1")
    assert "<b>" not in audit(export, tmp_path)[1]


def test_zoned_parquet_timestamps_read_as_utc_on_any_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from privacy_audit.engine import make_engine
    from privacy_audit.export import open_export

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        export = make_export(tmp_path / "export", {}, "parquet")
        write_holds(
            export,
            pa.array([datetime(2020, 1, 1)], pa.timestamp("us", tz="UTC")),
            pa.array([None], pa.timestamp("us", tz="UTC")),
        )
        engine = make_engine()
        open_export(export, engine)
        assert engine.query("SELECT placed_at FROM legal_holds").to_pylist() == [
            {"placed_at": datetime(2020, 1, 1)}
        ]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def tree_digest(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_refused(export: Path, tmp_path: Path, *needles: str, mapping: str | None = None) -> None:
    """One clear line, no output, and the export exactly as it was."""
    before = tree_digest(export)
    extra = []
    if mapping is not None:
        (tmp_path / "mapping.yaml").write_text(mapping, encoding="utf-8")
        extra = ["--mapping", str(tmp_path / "mapping.yaml")]
    assert_one_clear_line(*audit(export, tmp_path, *extra), *needles)
    assert not (tmp_path / "out").exists()
    assert tree_digest(export) == before


MAPPING = """\
version: 1
tables:
  orders:
    source: shop/orders/
    columns: {order_id: entity_id}
"""


@pytest.fixture
def mapped_export(tmp_path: Path) -> Path:
    """Orders as ``shop/orders/part-00000.parquet`` with ``entity_id`` for order_id; MAPPING maps it."""
    export = make_export(tmp_path / "export", {"orders": [{"order_id": "O1", "contact_id": SECRET}]})
    orders = pq.read_table(export / "orders.parquet")
    (export / "orders.parquet").unlink()
    (export / "shop" / "orders").mkdir(parents=True)
    names = ["entity_id" if n == "order_id" else n for n in orders.column_names]
    pq.write_table(orders.rename_columns(names), export / "shop" / "orders" / "part-00000.parquet")
    return export


def test_mapped_export_is_accepted(mapped_export: Path, tmp_path: Path) -> None:
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    code, stderr = audit(mapped_export, tmp_path, "--mapping", str(tmp_path / "mapping.yaml"))
    assert code == 0, stderr


@pytest.mark.parametrize(
    ("mapping", "needles"),
    [
        (MAPPING.replace("shop/orders/", "shop/nope/"), ["key tables.orders.source", "does not exist"]),
        (
            MAPPING.replace("../", "").replace("shop/orders/", "../elsewhere"),
            ["key tables.orders.source", "inside"],
        ),
        (
            MAPPING.replace("entity_id", "ident"),
            ["key tables.orders.columns.order_id", "source column ident"],
        ),
        (MAPPING.replace("  orders:", "  ordres:"), ["key tables.ordres", "contract table"]),
        (
            MAPPING.replace("order_id: entity_id", "order_no: entity_id"),
            ["key tables.orders.columns.order_no"],
        ),
        (
            MAPPING.replace(
                "{order_id: entity_id}", "{order_id: entity_id, order_date: {expr: 'CAST(x AS'}}"
            ),
            ["key tables.orders.columns.order_date", "does not parse"],
        ),
        (
            MAPPING.replace("{order_id: entity_id}", "{order_id: {expr: \"read_csv('/etc/passwd')\"}}"),
            ["key tables.orders.columns.order_id", "read_csv"],
        ),
        (
            MAPPING.replace(
                "{order_id: entity_id}", "{order_id: {expr: '(SELECT min(email) FROM contacts)'}}"
            ),
            ["key tables.orders.columns.order_id", "subqueries"],
        ),
        (
            MAPPING.replace("{order_id: entity_id}", "{order_id: {expr: 'nope + 1'}}"),
            ["key tables.orders", "source column nope"],
        ),
        (
            MAPPING.replace("{order_id: entity_id}", "{order_id: {expr: 'entity_id + 1'}}"),
            ["key tables.orders.columns.order_id", "can run"],
        ),
        (MAPPING + "    filter: entity_id\n", ["key tables.orders.filter", "boolean"]),
        (MAPPING.replace("columns:", "colums:"), ["key tables.orders.colums", "no such key"]),
        (
            MAPPING.replace("{order_id: entity_id}", "{order_id: [entity_id]}"),
            ["key tables.orders.columns.order_id", "{expr: SQL}"],
        ),
        (MAPPING.replace("version: 1", "version: 2"), ["key version"]),
    ],
)
def test_unusable_mapping(mapped_export: Path, tmp_path: Path, mapping: str, needles: list[str]) -> None:
    assert_refused(mapped_export, tmp_path, "mapping.yaml", *needles, mapping=mapping)


def test_csv_dialect_that_does_not_match_the_file(csv_export: Path, tmp_path: Path) -> None:
    mapping = "version: 1\ntables:\n  contacts:\n    source: contacts.csv\n    csv: {delimiter: ';'}\n"
    assert_refused(
        csv_export, tmp_path, "contacts.csv", "row 0", "delimited by ';'", "containing ','", mapping=mapping
    )


def test_semicolon_csv_without_a_dialect_says_so(csv_export: Path, tmp_path: Path) -> None:
    text = (csv_export / "contacts.csv").read_text(encoding="utf-8")
    (csv_export / "contacts.csv").write_text(text.replace(",", ";"), encoding="utf-8")
    assert_refused(csv_export, tmp_path, "contacts.csv", "looks like one column containing ';'")


def test_part_file_directory_mixing_formats(csv_export: Path, tmp_path: Path) -> None:
    (csv_export / "orders").mkdir()
    (csv_export / "orders.csv").rename(csv_export / "orders" / "part-00000.csv")
    make_export(tmp_path / "pq", {}, "parquet")
    (tmp_path / "pq" / "orders.parquet").rename(csv_export / "orders" / "part-00001.parquet")
    assert_refused(csv_export, tmp_path, "orders", "part files of one format", "csv (orders/part-00000.csv)")


def test_empty_part_file_directory(csv_export: Path, tmp_path: Path) -> None:
    (csv_export / "orders.csv").unlink()
    (csv_export / "orders" / "year=2024").mkdir(parents=True)
    (csv_export / "orders" / "_SUCCESS").touch()
    assert_refused(csv_export, tmp_path, "orders", "part files of table orders (found none")


def test_two_forms_of_one_table(csv_export: Path, tmp_path: Path) -> None:
    (csv_export / "orders").mkdir()
    (csv_export / "orders" / "part-00000.csv").write_bytes((csv_export / "orders.csv").read_bytes())
    assert_refused(csv_export, tmp_path, "one form of table orders", "orders and orders.csv")
