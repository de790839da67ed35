"""Issue 21 class 1 on Spark: no value of the export leaves the process, exit codes as on DuckDB.

Spark quotes what it chokes on (a cast's value, an overflowing number unquoted, a string's
bytes in hex, a CSV record) inside a Java stack trace; ``engine/spark_errors.py`` retells every
error in the shared sentences of ``engine/scrub.py``. Each case runs on both engines through
the CLI, in-process, on one SparkSession for the module (the CLI's engine joins it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from handmade import ad_hoc_rule
from hostile.exports import contacts_export, invalid_utf8, orders_export, replace_column
from hostile.probe import SECRET, Outcome, audit
from privacy_audit.rules import REGISTRY

pytest.importorskip("pyspark")
from privacy_audit.engine.spark import SparkEngine  # after importorskip: needs pyspark

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

ENGINES = ["duckdb", "spark"]
AMOUNT = 123456.78
"""An order total that DECIMAL(4,1) cannot hold: Spark's overflow error prints it unquoted."""


@pytest.fixture(scope="module", autouse=True)
def session() -> Iterator[None]:
    engine = SparkEngine(conf={"spark.sql.adaptive.enabled": "false", "spark.sql.shuffle.partitions": "1"})
    yield
    engine.close()


def audit_on(engine: str, export: Path, out: Path, *extra: str) -> Outcome:
    return audit(export, out, "--engine", engine, *extra)


def no_value_in_outputs(out: Path, *values: str) -> None:
    """No output file mentions any of ``values`` (summary.json, findings.parquet, the rest)."""
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(v.encode() in data for v in values), path.name


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("column", ["contact_id", "email"])
def test_invalid_utf8_in_a_parquet_string_is_exit_2(tmp_path: Path, engine: str, column: str) -> None:
    export = contacts_export(tmp_path / "export")
    replace_column(export / "contacts.parquet", column, invalid_utf8([SECRET.encode() + b"\xff\xfe"]))
    line = audit_on(engine, export, tmp_path / "out").one_line(2, "contacts.parquet", "UTF-8")
    assert "\\x6A\\x61" not in line.upper()  # Spark prints the bytes in hex: j, a, …
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_bad_utf8_byte_in_row_300_of_a_csv_is_exit_2(tmp_path: Path, engine: str) -> None:
    """Spark's CSV reader would read the byte as U+FFFD and the audit would exit 0."""
    export = contacts_export(tmp_path / "export", "csv", rows=400)
    path = export / "contacts.csv"
    lines = path.read_bytes().split(b"\n")
    lines[300] = lines[300].replace(b"C300", b"C300\xff", 1)
    path.write_bytes(b"\n".join(lines))
    audit_on(engine, export, tmp_path / "out").one_line(2, "contacts.csv", "row 300", "UTF-8")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("amount", [float("nan"), 7e29])
def test_a_double_no_decimal_holds_is_exit_2(tmp_path: Path, engine: str, amount: float) -> None:
    export = orders_export(tmp_path / "export", [12.5, amount])
    line = audit_on(engine, export, tmp_path / "out").one_line(
        2, "orders.parquet", "column total_amount", "row 2"
    )
    assert "nan" not in line.lower().replace("finite", "") and "e+29" not in line and "E29" not in line


@pytest.mark.parametrize(
    ("table", "detail", "hidden"),
    [
        ("contacts", "CAST(CAST(email AS INTEGER) AS VARCHAR)", SECRET),
        ("orders", "CAST(CAST(total_amount AS DECIMAL(4,1)) AS VARCHAR)", str(AMOUNT)),
        ("contacts", "CAST(CAST(email AS DATE) AS VARCHAR)", SECRET),
    ],
    ids=["cast-text", "decimal-overflow", "cast-date"],
)
def test_a_cast_error_in_a_rule_never_quotes_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, detail: str, hidden: str
) -> None:
    export = (
        orders_export(tmp_path / "export", [AMOUNT])
        if table == "orders"
        else contacts_export(tmp_path / "export")
    )
    record = "order_id" if table == "orders" else "contact_id"
    rule = ad_hoc_rule(
        table, f"SELECT {record} AS record_id, {record} AS subject_id, {detail} AS detail FROM {table}"
    )
    monkeypatch.setitem(REGISTRY, rule.id, rule)
    reasons = []
    for engine in ENGINES:
        out = tmp_path / f"out-{engine}"
        outcome = audit_on(engine, export, out, "--rules", rule.id)
        assert outcome.code == 3, (engine, outcome.stderr)  # a rule in error: the run is incomplete
        assert hidden not in outcome.stderr + outcome.stdout and "Traceback" not in outcome.stderr
        no_value_in_outputs(out, hidden)
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        (result,) = summary["rules"]
        assert result["status"] == "error"
        reasons.append(result["reason"])
    assert reasons[0] == reasons[1], reasons  # one sentence for one problem, whichever engine


@pytest.mark.parametrize("engine", ENGINES)
def test_a_corrupt_parquet_page_is_exit_2_naming_the_file(tmp_path: Path, engine: str) -> None:
    export = contacts_export(tmp_path / "export", rows=3000)
    path = export / "contacts.parquet"
    pq.write_table(pq.read_table(path), path, compression="none")
    data = bytearray(path.read_bytes())
    start = len(data) // 4
    data[start : start + 200] = bytes(range(200))
    path.write_bytes(bytes(data))
    line = audit_on(engine, export, tmp_path / "out").one_line(2, "contacts.parquet")
    assert "java." not in line and "\tat " not in line


def test_a_valid_export_still_audits_on_spark(tmp_path: Path) -> None:
    export = contacts_export(tmp_path / "export")
    replace_column(export / "contacts.parquet", "full_name", pa.array(["Zoë Ø"], pa.string()))
    assert audit_on("spark", export, tmp_path / "out", "--rules", "CHILD-MINOR").code == 0
