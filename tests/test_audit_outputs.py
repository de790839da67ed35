"""The audit's outputs, exit codes and promises about the export it reads."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from handmade import ad_hoc_rule, make_export
from privacy_audit.audit import run_audit, run_rule
from privacy_audit.cli import app
from privacy_audit.engine import make_engine
from privacy_audit.export import open_export
from privacy_audit.outputs.findings import FINDINGS_SCHEMA
from privacy_audit.outputs.folder import MARKER
from privacy_audit.rules import REGISTRY


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


runner = CliRunner()


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """One overdue order (high), one plaintext password (critical), one undeclared column (medium)."""
    return make_export(
        tmp_path / "export",
        {
            "accounts": [{"account_id": "A1", "country": "US"}],
            "contacts": [
                {"contact_id": "C1", "account_id": "A1", "password_hash": "hunter2", "nickname": "x"}
            ],
            "orders": [
                {"order_id": "O1", "account_id": "A1", "order_date": "2010-01-01", "contact_id": "C1"}
            ],
        },
        "csv",
    )


def invoke(export: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", str(export), "--as-of", "2026-01-01", "--out", str(out), *extra])
    return result.exit_code, result.stdout + result.stderr


def test_findings_and_summary_follow_the_contract(export: Path, tmp_path: Path) -> None:
    code, output = invoke(export, tmp_path / "out")
    assert code == 0, output
    findings = pq.read_table(tmp_path / "out" / "findings.parquet")
    assert findings.schema.equals(FINDINGS_SCHEMA)
    rows = {(r["rule_id"], r["record_id"]): r for r in findings.to_pylist()}
    assert set(rows) >= {
        ("RET-ORDER-OVERDUE", "O1"),
        ("SEC-PASSWORD-STORAGE", "C1"),
        ("MIN-UNDECLARED-COLUMN", "contacts.nickname"),
    }
    overdue = rows[("RET-ORDER-OVERDUE", "O1")]
    assert (overdue["severity"], overdue["table_name"], overdue["subject_id"], overdue["clause"]) == (
        "high",
        "orders",
        "A1",
        "6.1",
    )
    assert "hunter2" not in json.dumps(findings.to_pylist(), default=str)

    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["as_of"] == "2026-01-01"
    assert len(summary["policy_digest"]) == 64
    assert summary["input_digests"]["orders.csv"] == sha256(export / "orders.csv")
    assert summary["engine"] == "duckdb" and summary["engine_version"] and summary["tool_version"]
    assert summary["started_at"] <= summary["finished_at"]
    by_id = {r["rule_id"]: r for r in summary["rules"]}
    assert by_id["RET-ORDER-OVERDUE"] | {"seconds": 0} == {
        "rule_id": "RET-ORDER-OVERDUE",
        "severity": "high",
        "clause": "6.1",
        "policy_text": "quoted",
        "status": "fail",
        "checked": 1,
        "violations": 1,
        "open": 1,
        "waived": 0,
        "new": 1,
        "resolved": 0,
        "reason": None,
        "seconds": 0,
    }
    assert by_id["CHILD-MINOR"]["status"] == "pass"
    assert summary["totals"]["findings"] == findings.num_rows


def test_audit_never_touches_the_export(export: Path, tmp_path: Path) -> None:
    before = {p.name: (sha256(p), p.stat().st_mtime_ns) for p in export.iterdir()}
    assert invoke(export, tmp_path / "out")[0] == 0
    assert {p.name: (sha256(p), p.stat().st_mtime_ns) for p in export.iterdir()} == before


@pytest.mark.parametrize(("severity", "code"), [("critical", 1), ("high", 1), ("low", 1)])
def test_fail_on_a_severity_that_was_found(export: Path, tmp_path: Path, severity: str, code: int) -> None:
    assert invoke(export, tmp_path / "out", "--fail-on", severity)[0] == code


def test_fail_on_above_what_was_found(tmp_path: Path) -> None:
    """Only a medium finding (undeclared column): --fail-on high passes, --fail-on medium fails."""
    export = make_export(tmp_path / "e", {"products": [{"product_id": "P1", "colour": "gold"}]}, "parquet")
    assert invoke(export, tmp_path / "o1", "--fail-on", "high")[0] == 0
    assert invoke(export, tmp_path / "o2", "--fail-on", "medium")[0] == 1


def test_rules_option_runs_only_those(export: Path, tmp_path: Path) -> None:
    assert invoke(export, tmp_path / "out", "--rules", "CHILD-MINOR,SEC-PASSWORD-STORAGE")[0] == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [r["rule_id"] for r in summary["rules"]] == ["SEC-PASSWORD-STORAGE", "CHILD-MINOR"]


def test_rerun_replaces_previous_output_whole(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    invoke(export, out)
    (out / "findings.parquet").write_bytes(b"PAR1")  # what we wrote, even if damaged, is ours
    assert invoke(export, out)[0] == 0
    assert sorted(p.name for p in out.iterdir()) == [
        MARKER,
        "attestation.json",
        "findings.parquet",
        "resolved.parquet",
        "summary.json",
    ]
    assert pq.read_table(out / "findings.parquet").num_rows > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_previous_output_someone_added_to_is_not_replaced(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    invoke(export, out)
    (out / "stale.txt").write_text("added by a person")
    code, output = invoke(export, out)
    assert code == 2 and f"{out}: expected a new or empty folder, or a previous output" in output
    assert (out / "stale.txt").exists()


def test_failed_rerun_keeps_previous_output(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    invoke(export, out)
    before = sha256(out / "summary.json")
    (export / "orders.csv").write_text("order_id\nO1\n")
    assert invoke(export, out)[0] == 2
    assert sha256(out / "summary.json") == before


@pytest.mark.parametrize("where", ["inside", "foreign"])
def test_refuses_dangerous_output_directories(export: Path, tmp_path: Path, where: str) -> None:
    if where == "inside":
        out = export / "out"
    else:
        out = tmp_path / "home"
        out.mkdir()
        (out / "thesis.docx").write_text("precious")
    code, output = invoke(export, out)
    assert code == 2
    assert f"{out}: expected" in output and ("outside the export" in output or "previous output" in output)
    assert not (export / "out").exists()
    assert where == "inside" or (out / "thesis.docx").exists()


def test_rule_on_absent_table_is_skipped_not_passed(export: Path) -> None:
    engine = make_engine()
    opened = open_export(export, engine)
    result = run_rule(engine, opened, ad_hoc_rule("staff", "SELECT staff_id AS record_id FROM staff"), {})
    assert (result.status, result.violations) == ("skipped", 0)
    assert "staff" in (result.reason or "")


def test_broken_rule_reports_error_and_the_rest_still_run(export: Path) -> None:
    broken = ad_hoc_rule("orders", "SELECT nope FROM orders")
    rules = [REGISTRY["RET-ORDER-OVERDUE"], broken, REGISTRY["SEC-PASSWORD-STORAGE"]]
    results = run_audit(export, date(2026, 1, 1), rules=rules).results
    assert [(r.rule.id, r.status) for r in results] == [
        ("RET-ORDER-OVERDUE", "fail"),
        ("T-AD-HOC", "error"),
        ("SEC-PASSWORD-STORAGE", "fail"),
    ]
    assert "nope" in (results[1].reason or "")
    assert [r.findings.column("record_id").to_pylist() for r in (results[0], results[2])] == [["O1"], ["C1"]]


def test_python_api_matches_cli(export: Path, tmp_path: Path) -> None:
    code, output = invoke(export, tmp_path / "out")
    assert code == 0, output
    result = run_audit(export, date(2026, 1, 1))
    assert pq.read_table(tmp_path / "out" / "findings.parquet").to_pylist() == result.findings().to_pylist()
    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["rules"]
    assert [(r["rule_id"], r["status"], r["checked"], r["violations"]) for r in written] == [
        (r.rule.id, r.status, r.checked, r.violations) for r in result.results
    ]
    assert (
        result.findings().num_rows >= 3
    )  # the fixture's overdue order, plaintext password, undeclared column


def test_output_is_not_written_inside_the_export_even_via_symlink(export: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    os.symlink(export, link)
    assert invoke(export, link / "out")[0] == 2
    assert not (export / "out").exists()


def test_output_directory_gets_the_usual_mode(export: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        assert invoke(export, tmp_path / "out")[0] == 0
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
