"""Class 3: unusable input never exits 0 — corruption found while rules run is exit 2 naming the file.

Running out of memory is not the input's fault: it stays a rule error (status ``error``).
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from handmade import ad_hoc_rule, make_export, write_policy
from hostile.exports import contacts_export, invalid_utf8, replace_column
from hostile.probe import SECRET, audit
from privacy_audit.audit import run_rule
from privacy_audit.engine import make_engine
from privacy_audit.engine.base import INPUT, MEMORY, QUERY
from privacy_audit.engine.duckdb import _engine_error
from privacy_audit.errors import InputError
from privacy_audit.export import open_export


def scramble(path: Path, seed: int) -> None:
    """Overwrite 200 bytes a quarter into the file: a corrupt page, not a corrupt footer."""
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    start = len(data) // 4
    data[start : start + 200] = bytes(rng.randrange(256) for _ in range(200))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("compression", ["zstd", "snappy", "none"])
def test_a_corrupt_parquet_page_is_exit_2(tmp_path: Path, compression: str) -> None:
    export = contacts_export(tmp_path / "export", rows=3000)
    path = export / "contacts.parquet"
    pq.write_table(pq.read_table(path), path, compression=compression)
    scramble(path, 1)
    audit(export, tmp_path / "out").one_line(2, "contacts.parquet")
    assert not (tmp_path / "out").exists()


def test_a_bad_utf8_byte_in_row_300_of_a_csv(tmp_path: Path) -> None:
    export = contacts_export(tmp_path / "export", "csv", rows=400)
    path = export / "contacts.csv"
    lines = path.read_bytes().split(b"\n")
    lines[300] = lines[300].replace(b"C300", b"C300\xff", 1)
    path.write_bytes(b"\n".join(lines))
    audit(export, tmp_path / "out").one_line(2, "contacts.csv", "row 300", "UTF-8")


def test_minimum_age_1e30_is_exit_2(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {})
    policy = write_policy(tmp_path / "p.yaml", {"minimum_age": 1e30})
    audit(export, tmp_path / "out", "--policy", str(policy)).one_line(2, "key minimum_age")


def test_a_file_corrupted_after_validation_is_input_not_a_rule_error(tmp_path: Path) -> None:
    export_dir = contacts_export(tmp_path / "export")
    engine = make_engine()
    export = open_export(export_dir, engine)
    replace_column(export_dir / "contacts.parquet", "email", invalid_utf8([SECRET.encode() + b"\xff"]))
    rule = ad_hoc_rule(
        "contacts", "SELECT contact_id AS record_id, contact_id AS subject_id, email AS detail FROM contacts"
    )
    with pytest.raises(InputError) as caught:
        run_rule(engine, export, rule, {})
    assert "contacts.parquet" in str(caught.value) and SECRET not in str(caught.value)


def test_a_query_error_stays_a_rule_error(tmp_path: Path) -> None:
    export_dir = make_export(tmp_path / "export", {})
    engine = make_engine()
    export = open_export(export_dir, engine)
    rule = ad_hoc_rule("contacts", "SELECT no_such_column AS record_id FROM contacts")
    assert run_rule(engine, export, rule, {}).status == "error"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate"), MEMORY),
        (duckdb.Error("Parquet file is likely corrupted, dictionary offset out of range"), INPUT),
        (
            duckdb.InvalidInputException(f'Invalid string encoding: value "{SECRET}" is not valid UTF8!'),
            INPUT,
        ),
        (duckdb.IOException("IO Error: No files found that match the pattern"), INPUT),
        (duckdb.ConversionException(f"Could not convert string '{SECRET}' to INT32"), QUERY),
        (duckdb.BinderException('Binder Error: Referenced column "x" not found'), QUERY),
    ],
)
def test_engine_errors_are_classified_and_scrubbed(error: duckdb.Error, kind: str) -> None:
    scrubbed = _engine_error(error)
    assert scrubbed.kind == kind
    assert SECRET not in str(scrubbed)


def test_pyarrow_table_is_unchanged_by_the_audit(tmp_path: Path) -> None:
    export = contacts_export(tmp_path / "export")
    before = {p.name: p.read_bytes() for p in export.iterdir()}
    scramble(export / "contacts.parquet", 2)
    after = {p.name: p.read_bytes() for p in export.iterdir()}
    audit(export, tmp_path / "out")
    assert {p.name: p.read_bytes() for p in export.iterdir()} == after != before
