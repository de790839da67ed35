"""Tables in a platform's own file layout, no mapping: part-file directories, compressed CSV, offsets.

Each test writes a hand-made export in contract shape, reshapes one table, and checks the audit
reads the same rows (or names the file and row of a bad one).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard
from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.cli import app
from privacy_audit.engine import make_engine
from privacy_audit.export import open_export

runner = CliRunner()
ORDERS = [
    {"order_id": "O1", "account_id": "A1", "contact_id": "C1", "order_date": "2010-01-01"},
    {"order_id": "O2", "account_id": "A1", "contact_id": "C1", "order_date": "2025-06-01"},
    {"order_id": "O3", "account_id": "A1", "contact_id": "C1", "order_date": "2011-03-01"},
]


def audit(export: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", str(export), "--as-of", "2026-01-01", "--out", str(out), *extra])
    return result.exit_code, result.stderr


def findings(out: Path) -> set[tuple[str, str]]:
    return {(r["rule_id"], r["record_id"]) for r in pq.read_table(out / "findings.parquet").to_pylist()}


def split_into_parts(export: Path, table: str) -> Path:
    """``table.parquet`` → ``table/year=…/part-N.parquet`` (one row each) beside Spark's bookkeeping."""
    rows = pq.read_table(export / f"{table}.parquet")
    (export / f"{table}.parquet").unlink()
    for i in range(rows.num_rows):
        part = export / table / f"year=20{10 + i}" / f"part-{i:05d}.parquet"
        part.parent.mkdir(parents=True)
        pq.write_table(rows.slice(i, 1), part)
        (part.parent / f".{part.name}.crc").write_bytes(b"\x00crc")
    (export / table / "_SUCCESS").touch()
    return export / table


@pytest.fixture
def contract_export(tmp_path: Path) -> Path:
    return make_export(tmp_path / "contract", {"accounts": [{"account_id": "A1"}], "orders": ORDERS})


def test_part_file_directory_reads_like_one_file(contract_export: Path, tmp_path: Path) -> None:
    parted = shutil.copytree(contract_export, tmp_path / "parted")
    split_into_parts(parted, "orders")
    assert audit(contract_export, tmp_path / "a")[0] == 0
    code, stderr = audit(parted, tmp_path / "b")
    assert code == 0, stderr
    expected = findings(tmp_path / "a")
    assert ("RET-ORDER-OVERDUE", "O1") in expected
    assert findings(tmp_path / "b") == expected  # the hive key year is layout: no undeclared column
    summary = json.loads((tmp_path / "b" / "summary.json").read_text(encoding="utf-8"))
    files = summary["tables"]["orders"]["files"]
    part = parted / "orders" / "year=2010" / "part-00000.parquet"
    assert summary["tables"]["orders"]["source"] == "orders/"
    assert files[0] == {
        "path": "orders/year=2010/part-00000.parquet",
        "size": part.stat().st_size,
        "sha256": hashlib.sha256(part.read_bytes()).hexdigest(),
    }
    assert len(files) == 3 and "orders/_SUCCESS" not in summary["input_digests"]


def test_bad_value_in_a_part_file_names_that_file_and_row(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {"orders": [*ORDERS, {"order_id": "O4", "status": "lost"}]})
    split_into_parts(export, "orders")
    code, stderr = audit(export, tmp_path / "out")
    assert code == 2
    assert "orders/year=2013/part-00003.parquet, column status, row 1" in stderr


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.zst"])
def test_compressed_csv_reads_like_csv(tmp_path: Path, suffix: str) -> None:
    export = make_export(tmp_path / "export", {"accounts": [{"account_id": "A1"}], "orders": ORDERS}, "csv")
    assert audit(export, tmp_path / "plain")[0] == 0
    text = (export / "orders.csv").read_bytes()
    (export / "orders.csv").unlink()
    packed = gzip.compress(text) if suffix == ".csv.gz" else zstandard.ZstdCompressor().compress(text)
    (export / f"orders{suffix}").write_bytes(packed)
    code, stderr = audit(export, tmp_path / "packed")
    assert code == 0, stderr
    assert findings(tmp_path / "packed") == findings(tmp_path / "plain")


def test_csv_timestamps_with_utc_offsets_are_converted(tmp_path: Path) -> None:
    holds = [{"hold_id": f"H{i}", "account_id": "A1", "reason": "x"} for i in range(5)]
    export = make_export(tmp_path / "export", {"legal_holds": holds}, "csv")
    text = (export / "legal_holds.csv").read_text(encoding="utf-8").splitlines()
    stamps = [
        "2026-01-05 10:00:00+00",
        "2026-01-05T10:00:00Z",
        "2026-01-05T10:00:00.5+02:00",
        "2026-01-05 10:00:00-0530",
        "2026-01-05 10:00:00",
    ]
    rows = [
        line.replace("2020-01-01 00:00:00.000000", stamp, 1)
        for line, stamp in zip(text[1:], stamps, strict=True)
    ]
    (export / "legal_holds.csv").write_text("\n".join([text[0], *rows]) + "\n", encoding="utf-8")
    engine = make_engine()
    open_export(export, engine)
    placed = engine.query("SELECT placed_at FROM legal_holds ORDER BY hold_id").column(0).to_pylist()
    assert placed == [
        datetime(2026, 1, 5, 10),
        datetime(2026, 1, 5, 10),
        datetime(2026, 1, 5, 8, 0, 0, 500000),
        datetime(2026, 1, 5, 15, 30),
        datetime(2026, 1, 5, 10),
    ]
