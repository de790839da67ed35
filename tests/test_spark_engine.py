"""The Spark engine gives DuckDB's answers: same findings, statuses and counts, rule by rule.

Everything runs in local mode on one SparkSession for the whole module (starting one takes
seconds; small-data settings, since planning rather than data dominates such exports); each
audit gets its own SparkEngine over it, whose close drops its views. Spark needs seconds of CPU
per audit whatever the size, so by default the first case of each rule in ``rules/cases``
runs, as Parquet; ``PRIVACY_AUDIT_SPARK_CASES=all`` runs every case in both forms. The synthetic
demo export runs whole, as Parquet and as CSV.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from handmade import ad_hoc_rule, make_export, write_policy
from privacy_audit.audit import AuditResult, run_audit, run_rule
from privacy_audit.cli import app
from privacy_audit.engine.duckdb import DuckDBEngine
from privacy_audit.engine.storage import LocalStorage
from privacy_audit.errors import InputError
from privacy_audit.export import open_export
from privacy_audit.rules import REGISTRY
from privacy_audit.sources.files import discover
from privacy_audit.sources.readers import reader_for

pytest.importorskip("pyspark")
from pyspark.sql import SparkSession  # after importorskip: needs pyspark

from privacy_audit.engine.spark import SparkEngine

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

ROOT = Path(__file__).parents[1]
CASES = Path(__file__).parent / "rules" / "cases"
DEMO = ROOT / "data" / "synthetic" / "demo"


SMALL_DATA = {"spark.sql.adaptive.enabled": "false", "spark.sql.shuffle.partitions": "1"}


@pytest.fixture(scope="module")
def session() -> Iterator[SparkSession]:
    engine = SparkEngine(conf=SMALL_DATA)
    yield engine.spark
    engine.close()


def audit_both(
    session: SparkSession, export: Path, as_of: date, **options: object
) -> tuple[AuditResult, AuditResult]:
    results = []
    for engine in (DuckDBEngine(), SparkEngine(session=session)):
        try:
            results.append(run_audit(export, as_of, engine=engine, **options))
        finally:
            engine.close()
    return results[0], results[1]


def assert_same(duck: AuditResult, spark: AuditResult) -> None:
    assert spark.engine == "spark"
    for d, s in zip(duck.results, spark.results, strict=True):
        assert (s.status, s.reason, s.checked) == (d.status, d.reason, d.checked), d.rule.id
        assert s.findings.to_pylist() == d.findings.to_pylist(), d.rule.id


def _cases() -> list[object]:
    every = os.environ.get("PRIVACY_AUDIT_SPARK_CASES") == "all"
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in spec["cases"] if every else spec["cases"][:1]:
            for fmt in ("parquet", "csv") if every else ("parquet",):
                params.append(pytest.param(spec, case, fmt, id=f"{spec['rule']}:{case['name']}:{fmt}"))
    return params


@pytest.mark.parametrize(("spec", "case", "fmt"), _cases())
def test_rule_case_same_on_spark(
    session: SparkSession, spec: dict, case: dict, fmt: str, tmp_path: Path
) -> None:
    export = make_export(tmp_path / "export", case.get("tables", {}), fmt)
    overrides = {**spec.get("policy", {}), **case.get("policy", {})}
    policy = write_policy(tmp_path / "policy.yaml", overrides) if overrides else None
    as_of = case.get("as_of", spec.get("as_of"))
    as_of = as_of if isinstance(as_of, date) else date.fromisoformat(as_of)
    assert_same(*audit_both(session, export, as_of, policy_file=policy, rules=[REGISTRY[spec["rule"]]]))


def _as_of(generated: Path) -> date:
    return date.fromisoformat(
        json.loads((generated / "generation.json").read_text(encoding="utf-8"))["as_of"]
    )


def test_demo_export_same_on_spark(session: SparkSession) -> None:
    if not (DEMO / "export").is_dir():
        pytest.skip("the demo export has not been generated")
    duck, spark = audit_both(session, DEMO / "export", _as_of(DEMO))
    assert_same(duck, spark)
    assert duck.findings().num_rows > 0


def test_demo_export_as_csv_same_on_spark(session: SparkSession, tmp_path: Path) -> None:
    generated = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "demo"), "--format", "csv"])
    assert generated.exit_code == 0, generated.stderr
    duck, spark = audit_both(session, tmp_path / "demo" / "export", _as_of(tmp_path / "demo"))
    assert_same(duck, spark)
    assert duck.findings().num_rows > 0


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_validation_names_the_same_row(session: SparkSession, fmt: str, tmp_path: Path) -> None:
    accounts = [{"account_id": "A1", "country": "US"}, {"account_id": "A2", "country": None}]
    export = make_export(tmp_path / "export", {"accounts": accounts}, fmt)
    messages = []
    for engine in (DuckDBEngine(), SparkEngine(session=session)):
        with pytest.raises(InputError) as raised:
            open_export(export, engine)
        engine.close()
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert "row 2" in messages[1]


def test_parquet_timestamp_units_and_zones_read_alike(session: SparkSession, tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {"accounts": [{"account_id": "A1", "country": "US"}]})
    moments = [datetime(2024, 1, 1, 0, 0, 0, 123456), datetime(2024, 6, 1, 12, 0, 0, 1)]
    pq.write_table(
        pa.table(
            {
                "hold_id": ["H1", "H2"],
                "account_id": ["A1", "A1"],
                "reason": ["x", "y"],
                "placed_at": pa.array(moments, pa.timestamp("ns")),
                "released_at": pa.array(moments, pa.timestamp("ms", tz="UTC")),
            }
        ),
        export / "legal_holds.parquet",
    )
    sql = "SELECT hold_id, placed_at, released_at FROM legal_holds ORDER BY hold_id"
    duck, spark = DuckDBEngine(), SparkEngine(session=session)
    try:
        open_export(export, duck)
        open_export(export, spark)
        assert spark.query(sql).to_pylist() == duck.query(sql).to_pylist()
    finally:
        duck.close()
        spark.close()


def _query_both(session: SparkSession, tables: dict[str, pa.Table], sql: str) -> tuple[list, list]:
    """``sql`` over ``tables`` on DuckDB, then on Spark, as rows."""
    answers = []
    for engine in (DuckDBEngine(), SparkEngine(session=session)):
        try:
            for name, table in tables.items():
                engine.register(name, table)
            answers.append(engine.query(sql).to_pylist())
        finally:
            engine.close()
    return answers[0], answers[1]


def test_interval_text_is_duckdb_s(session: SparkSession) -> None:
    """``CAST(a - b AS VARCHAR)`` spells every interval between timestamps as DuckDB does."""
    moments = [
        datetime(2025, 1, 1),
        datetime(2025, 1, 1, 0, 0, 1),
        datetime(2025, 1, 1, 0, 0, 0, 123),
        datetime(2025, 1, 2, 12, 0, 0, 500000),
        datetime(2025, 1, 31, 10, 0, 0),
        datetime(2025, 3, 1, 23, 59, 59, 999999),
        datetime(2027, 1, 1, 0, 0, 0, 120000),
    ]
    pairs = pa.table(
        {
            "a": pa.array([a for a in moments for _ in moments], pa.timestamp("us")),
            "b": pa.array([b for _ in moments for b in moments], pa.timestamp("us")),
        }
    )
    sql = "SELECT a, b, CAST(a - b AS VARCHAR) AS t FROM pairs ORDER BY a, b"
    duck, spark = _query_both(session, {"pairs": pairs}, sql)
    assert spark == duck


def test_regular_expressions_match_as_in_duckdb(session: SparkSession) -> None:
    """RE2 and Java differ on ``$``, ``\\s``, ``.`` and classes; the translation hides it."""
    texts = pa.table(
        {"t": ["2020-01-01", "2020-01-01\n", " \t", "\x0b", "a\rb", "a\nb", "]", "&", "[", "x y", None]}
    )
    patterns = [r"^\d{4}-\d{2}-\d{2}$", r"^[\s\p{Z}]*$", r"\s", r"a.b", r"[]&]", r"[[]", r"\S+ \S+$"]
    columns = ", ".join(f"regexp_matches(t, '{p}') AS m{i}" for i, p in enumerate(patterns))
    sql = f"SELECT t, {columns}, regexp_replace(t, '(\\d+)-', '\\1$', 'g') AS r FROM texts ORDER BY t"
    duck, spark = _query_both(session, {"texts": texts}, sql)
    assert spark == duck


def test_bad_input_through_spark_is_one_clear_line(session: SparkSession, tmp_path: Path) -> None:
    secret = "jane.doe@example.com"
    export = make_export(
        tmp_path / "export", {"contacts": [{"contact_id": "C1", "account_id": "A1", "email": secret}]}, "csv"
    )
    with (export / "contacts.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"C2,A1,{secret}\n")
    result = CliRunner().invoke(
        app,
        ["audit", str(export), "--as-of", "2026-01-01", "--out", str(tmp_path / "out"), "--engine", "spark"],
    )
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert "contacts.csv" in lines[0] and "row 2" in lines[0] and "CSV" in lines[0]
    assert secret not in result.stderr
    assert not (tmp_path / "out").exists()


def test_cli_records_the_engine(session: SparkSession, tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {"contacts": [{"contact_id": "C1", "password_hash": "x"}]})
    result = CliRunner().invoke(
        app,
        [
            "audit",
            str(export),
            "--as-of",
            "2026-01-01",
            "--out",
            str(tmp_path / "out"),
            "--engine",
            "spark",
            "--rules",
            "SEC-PASSWORD-STORAGE",
        ],
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["engine"] == "spark"
    assert summary["engine_version"] == session.version


def _file_uri(path: Path) -> str:
    """A ``file:`` URI: the loader then reads the export through Hadoop, as it would HDFS or S3."""
    return path.absolute().as_uri()


def test_export_by_uri_is_listed_checked_and_digested_through_hadoop(
    session: SparkSession, tmp_path: Path
) -> None:
    generated = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "demo"), "--format", "csv"])
    assert generated.exit_code == 0, generated.stderr
    export = tmp_path / "demo" / "export"
    (export / "notes.txt").write_text("not a table\n", encoding="utf-8")
    duck = run_audit(export, _as_of(tmp_path / "demo"), engine=DuckDBEngine())
    engine = SparkEngine(session=session)
    try:
        spark = run_audit(_file_uri(export), _as_of(tmp_path / "demo"), engine=engine)
    finally:
        engine.close()
    assert_same(duck, spark)
    assert spark.export.digests == duck.export.digests
    assert spark.export.ignored == duck.export.ignored == ["1 other file (.txt)"]
    assert all(s.location.startswith("file:") for s in spark.export.sources.values())


def test_bad_csv_row_is_found_through_hadoop_storage(session: SparkSession, tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {"contacts": [{"contact_id": "C1", "account_id": "A1"}]}, "csv")
    with (export / "contacts.csv").open("a", encoding="utf-8") as handle:
        handle.write("C2,A1\n")
    engine = SparkEngine(session=session)
    try:
        with pytest.raises(InputError) as raised:
            open_export(_file_uri(export), engine)
    finally:
        engine.close()
    assert "contacts.csv" in str(raised.value) and "row 2" in str(raised.value)


@pytest.mark.parametrize(
    ("where", "expected"),
    [("file:///nonexistent/export", "does not exist"), ("s3a://no-bucket/export", "S3AFileSystem")],
)
def test_unreadable_export_uri_is_one_clear_line(
    session: SparkSession, where: str, expected: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["audit", where, "--as-of", "2026-01-01", "--out", str(tmp_path / "out"), "--engine", "spark"]
    )
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 2, result.stderr
    assert len(lines) == 1 and where in lines[0] and expected in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


def test_null_statistics_read_alike(session: SparkSession, tmp_path: Path) -> None:
    accounts = [{"account_id": "A1", "country": "US"}, {"account_id": "A2", "country": "GB", "tax_id": None}]
    export = make_export(tmp_path / "export", {"accounts": accounts})
    parts = export / "accounts"
    parts.mkdir()
    (export / "accounts.parquet").rename(parts / "part-00000.parquet")
    make_export(tmp_path / "more", {"accounts": [{"account_id": "A3", "country": None}]})
    (tmp_path / "more" / "accounts.parquet").rename(parts / "part-00001.parquet")
    source = discover(str(export), LocalStorage(), set()).sources["accounts"]
    duck, spark = DuckDBEngine(), SparkEngine(session=session)
    try:
        proved = reader_for(spark, LocalStorage()).null_free(source)
        assert proved == reader_for(duck, LocalStorage()).null_free(source)
        assert "account_id" in proved and not {"country", "tax_id"} & proved  # country is NULL in one part
    finally:
        duck.close()
        spark.close()


def test_asof_join_is_refused_not_mistranslated(session: SparkSession, tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {"accounts": [{"account_id": "A1", "country": "US"}]})
    rule = ad_hoc_rule(
        "accounts",
        "SELECT a.account_id AS record_id, 'x' AS detail FROM accounts a "
        "ASOF LEFT JOIN accounts b ON b.account_id = a.account_id AND a.created_at >= b.created_at",
    )
    engine = SparkEngine(session=session)
    try:
        result = run_rule(engine, open_export(export, engine), rule, {})
    finally:
        engine.close()
    assert result.status == "error" and "lead(t)" in (result.reason or "")
