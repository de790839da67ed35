"""``privacy-audit check``: every structural problem at once, the first bad value per column, the rule plan."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.cli import app

runner = CliRunner()


def check(export: Path, *extra: str) -> tuple[int, list[str], str]:
    result = runner.invoke(app, ["check", str(export), *extra])
    return result.exit_code, [ln for ln in result.stderr.splitlines() if ln.strip()], result.stdout


def test_every_missing_table_and_column_at_once(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {}, "csv")
    for table in ("orders", "products", "payments"):
        (export / f"{table}.csv").unlink()
    contacts = export / "contacts.csv"
    contacts.write_text(
        contacts.read_text(encoding="utf-8")
        .replace('"created_at"', '"created"')
        .replace('"email"', '"mail"'),
        encoding="utf-8",
    )
    code, errors, _ = check(export)
    assert code == 2
    assert len(errors) == 5, errors
    assert sum("required table" in e for e in errors) == 3
    assert any("contacts.csv, column email" in e for e in errors)
    assert any("contacts.csv, column created_at" in e for e in errors)
    assert not (export / "out").exists() and "Traceback" not in "".join(errors)


def test_first_bad_value_of_each_column(tmp_path: Path) -> None:
    accounts = [
        {"account_id": "A1", "country": "gb", "status": "active"},
        {"account_id": "A2", "country": "GB", "status": "gone"},
        {"account_id": "A3", "country": "fr", "status": "gone"},
    ]
    export = make_export(tmp_path / "export", {"accounts": accounts}, "csv")
    code, errors, _ = check(export)
    assert code == 2
    assert errors == [
        f"error: {export}/accounts.csv, column country, row 1: expected an ISO 3166-1 alpha-2 country code"
        " such as GB; 1 more rows like it",
        f"error: {export}/accounts.csv, column status, row 2: expected one of active | suspended | closed;"
        " 1 more rows like it",
    ]


def test_usable_export_lists_the_rules_that_run_and_those_skipped(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {"staff": [{"staff_id": "S1"}]})
    code, errors, stdout = check(export)
    assert code == 0 and errors == []
    assert "export is usable" in stdout
    assert "ACCESS-ROLE: skipped: table staff_access_log is absent from the export" in stdout
    assert "RET-ORDER-OVERDUE: runs" in stdout
