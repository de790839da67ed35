"""Class 8: a message names the real problem and the real row, not a neighbouring one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostile.exports import contacts_export
from hostile.probe import audit
from privacy_audit.engine.duckdb import MAX_LINE


def test_a_utf8_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    export = contacts_export(tmp_path / "export", "csv")
    for csv in export.glob("*.csv"):
        csv.write_bytes(b"\xef\xbb\xbf" + csv.read_bytes())
    outcome = audit(export, tmp_path / "out")
    assert outcome.code == 0, outcome.stderr


@pytest.mark.parametrize("row", [1, 5, 40])
def test_a_bad_byte_is_reported_at_its_row(tmp_path: Path, row: int) -> None:
    export = contacts_export(tmp_path / "export", "csv", rows=50)
    path = export / "contacts.csv"
    lines = path.read_bytes().split(b"\n")
    lines[row] = lines[row] + b"\xff"
    path.write_bytes(b"\n".join(lines))
    audit(export, tmp_path / "out").one_line(2, "contacts.csv", f"row {row}", "UTF-8")


def test_a_bad_byte_in_the_header_is_row_0(tmp_path: Path) -> None:
    export = contacts_export(tmp_path / "export", "csv")
    path = export / "contacts.csv"
    path.write_bytes(path.read_bytes().replace(b"email", b"em\xffail", 1))
    audit(export, tmp_path / "out").one_line(2, "contacts.csv", "row 0", "UTF-8")


def test_an_oversized_field_is_named_as_such(tmp_path: Path) -> None:
    export = contacts_export(tmp_path / "export", "csv")
    path = export / "contacts.csv"
    header, first, *rest = path.read_text(encoding="utf-8").split("\n")
    huge = '"' + "x" * (MAX_LINE + 1024) + '"'
    path.write_text("\n".join([header, first.replace('"C1"', huge, 1), *rest]), encoding="utf-8")
    line = audit(export, tmp_path / "out").one_line(2, "contacts.csv", "row 1", "MiB")
    assert "quote" not in line


@pytest.mark.parametrize(
    ("target", "found"),
    [("/dev/zero", "a device"), ("/nonexistent", "a broken link"), ("dir", "a directory")],
)
def test_a_table_that_is_not_a_regular_file_says_what_it_is(tmp_path: Path, target: str, found: str) -> None:
    export = contacts_export(tmp_path / "export")
    (export / "contacts.parquet").unlink()
    if target == "dir":
        (export / "contacts.parquet").mkdir()
    else:
        (export / "contacts.parquet").symlink_to(target)
    audit(export, tmp_path / "out").one_line(2, "contacts.parquet", found)


def test_a_fifo_table_is_a_pipe(tmp_path: Path) -> None:
    export = contacts_export(tmp_path / "export")
    (export / "contacts.parquet").unlink()
    os.mkfifo(export / "contacts.parquet")
    audit(export, tmp_path / "out").one_line(2, "contacts.parquet", "a pipe")


def test_report_and_audit_agree_on_a_bad_export(tmp_path: Path) -> None:
    from hostile.probe import run

    export = contacts_export(tmp_path / "export")
    (export / "contacts.parquet").write_bytes(b"PAR1 not really")
    audit(export, tmp_path / "a").one_line(2, "contacts.parquet")
    args = ["report", "compliance", "--export", str(export), "--as-of", "2026-01-01"]
    run(*args, "--out", str(tmp_path / "r")).one_line(2, "contacts.parquet")
