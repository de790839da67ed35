"""Class 1: a value of the export never reaches stderr, summary.json or a rule's reason.

DuckDB quotes offending values in its errors (invalid UTF-8, failed casts, a CSV line); every
engine message is scrubbed before it leaves the engine, and ignored files are listed without
personal-looking names.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from handmade import ad_hoc_rule
from hostile.exports import CONTACT, contacts_export, invalid_utf8, orders_export, replace_column
from hostile.probe import SECRET, audit
from privacy_audit.audit import run_rule
from privacy_audit.engine import make_engine
from privacy_audit.export import listable, open_export

BAD = SECRET.encode() + b"\xff\xfe"


@pytest.mark.parametrize("column", ["contact_id", "account_id", "email", "full_name"])
def test_invalid_utf8_in_parquet_names_the_file_not_the_value(tmp_path: Path, column: str) -> None:
    export = contacts_export(tmp_path / "export")
    values = [BAD] if column != "contact_id" else [b"C1\xff" + SECRET.encode()]
    replace_column(export / "contacts.parquet", column, invalid_utf8(values))
    outcome = audit(export, tmp_path / "out")
    outcome.one_line(2, "contacts.parquet", "UTF-8")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), -float("inf"), 7e29, 1e16])
def test_a_parquet_double_that_no_decimal_holds(tmp_path: Path, amount: float) -> None:
    export = orders_export(tmp_path / "export", [12.5, amount])
    line = audit(export, tmp_path / "out").one_line(2, "orders.parquet", "column total_amount", "row 2")
    assert "nan" not in line.lower().replace("finite", "") and "e+29" not in line and "inf" not in line


def test_csv_error_never_quotes_the_line(tmp_path: Path) -> None:
    export = contacts_export(tmp_path / "export", "csv")
    csv = export / "contacts.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + f'"{SECRET},unterminated\n', encoding="utf-8")
    audit(export, tmp_path / "out").one_line(2, "contacts.csv")


def test_a_rule_reason_never_quotes_a_value(tmp_path: Path) -> None:
    export_dir = contacts_export(tmp_path / "export")
    engine = make_engine()
    export = open_export(export_dir, engine)
    rule = ad_hoc_rule(
        "contacts",
        "SELECT contact_id AS record_id, contact_id AS subject_id, "
        "CAST(CAST(email AS INTEGER) AS VARCHAR) AS detail FROM contacts",
    )
    result = run_rule(engine, export, rule, {})
    assert result.status == "error"
    assert SECRET not in (result.reason or "") and "example" not in (result.reason or "")


@pytest.mark.parametrize(
    "name",
    [SECRET, f"{SECRET}.pdf", "Jane Doe CV.docx", "+44 7700 900123.txt", "jane.doe@example.com.parquet"],
)
def test_ignored_files_are_listed_without_personal_names(tmp_path: Path, name: str) -> None:
    export = contacts_export(tmp_path / "export")
    (export / name).write_bytes(b"x")
    (export / "contacts.parquet.bak").write_bytes(b"x")
    audit(export, tmp_path / "out").code == 0  # noqa: B015 - the summary is what is checked
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    ignored = summary["ignored_files"]
    assert "contacts.parquet.bak" in ignored
    assert not any(part in json.dumps(ignored) for part in ("jane", "Jane", "7700"))
    assert any("1 other file" in entry for entry in ignored)


def test_listable_counts_unknown_files_by_extension() -> None:
    names = ["a@b.pdf", "c@d.pdf", "x y", "orders.csv.gz", "_SUCCESS", "passwords.evil!ext"]
    assert listable(names) == [
        "orders.csv.gz",
        "_SUCCESS",
        "2 other files (no extension)",
        "2 other files (.pdf)",
    ]


def test_open_export_never_echoes_values_from_contacts(tmp_path: Path) -> None:
    export = contacts_export(tmp_path / "export")
    replace_column(export / "contacts.parquet", "email", pa.array([SECRET], pa.string()))
    assert audit(export, tmp_path / "out").code == 0
    assert SECRET not in (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    assert CONTACT["email"] == SECRET and date.today().year > 2000
