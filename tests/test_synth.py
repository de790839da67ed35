"""The synthetic generator: the audit finds exactly its planted truth, and its output never drifts.

Each rule registered at test time is held to the truth: every planted violation found, nothing
else reported (near misses included). The committed demo export must equal a fresh generation,
so it can never go stale silently.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from privacy_audit.audit import run_audit
from privacy_audit.cli import app
from privacy_audit.errors import InputError
from privacy_audit.outputs.folder import MARKER
from privacy_audit.rules import REGISTRY
from privacy_audit.synth import columns as col
from privacy_audit.synth.generate import MAX_CONTACTS, GenerationError, generate, made_with, settings
from privacy_audit.synth.plants import PLANTS
from privacy_audit.synth.schemas import ID_FORMATS
from privacy_audit.writer import TableWriter

DEMO = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "demo"
REGENERATE = "privacy-audit generate --out data/synthetic/demo"


def _generate(out: Path, fmt: str = "parquet", seed: int | None = None) -> Path:
    generate(out, settings(scale="demo", contacts=None, seed=seed, fmt=fmt, as_of=None))
    return out


def _pairs(path: Path) -> set[tuple[str, ...]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return {tuple(row[:2]) for row in rows[1:]}


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("demo") / "out")


def assert_findings_match_truth(out: Path) -> None:
    """The audit of ``out/export`` reports exactly truth.csv's pairs of the registered rules."""
    manifest = json.loads((out / "generation.json").read_text(encoding="utf-8"))
    result = run_audit(out / "export", date.fromisoformat(manifest["as_of"]))
    broken = {r.rule.id: r.reason for r in result.results if r.status in ("error", "skipped")}
    assert not broken
    found = {(r.rule.id, rid) for r in result.results for rid in r.findings.column("record_id").to_pylist()}
    truth = {t for t in _pairs(out / "truth.csv") if t[0] in REGISTRY}
    assert not found - truth, f"reported but not planted: {sorted(found - truth)[:20]}"
    assert not truth - found, f"planted but not reported: {sorted(truth - found)[:20]}"


@pytest.mark.parametrize("fmt", ["parquet", "csv", "mixed"])
def test_audit_finds_exactly_the_planted_truth(fmt: str, demo: Path, tmp_path: Path) -> None:
    assert_findings_match_truth(demo if fmt == "parquet" else _generate(tmp_path / "out", fmt))


def test_every_registered_rule_has_a_plant_function() -> None:
    missing = sorted(set(REGISTRY) - set(PLANTS))
    assert not missing, f'rules without plants (add a function marked @plants("RULE-ID")): {missing}'


def test_every_registered_rule_has_plants_and_near_misses(demo: Path) -> None:
    plants = Counter(rule for rule, _ in _pairs(demo / "truth.csv"))
    near = Counter(rule for rule, _ in _pairs(demo / "near_misses.csv"))
    few = {r: plants[r] for r in REGISTRY if plants[r] < 5}
    assert not few, f"rules with fewer than 5 planted violations (rule: how many): {few}"
    none = sorted(r for r in REGISTRY if near[r] < 1)
    assert not none, f"rules without a near miss: {none}"


def test_files_are_sorted_and_truth_stays_outside_the_export(demo: Path) -> None:
    lines = (demo / "truth.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "rule_id,record_id" and lines[1:] == sorted(lines[1:])
    assert {p.name for p in demo.iterdir()} == {
        "export",
        "truth.csv",
        "near_misses.csv",
        "generation.json",
        MARKER,
    }
    manifest = json.loads((demo / "generation.json").read_text(encoding="utf-8"))
    assert 1_500 <= manifest["row_counts"]["accounts"] <= 3_000


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(demo: Path, tmp_path: Path) -> None:
    assert _digests(_generate(tmp_path / "again")) == _digests(demo)
    other = _digests(_generate(tmp_path / "other", seed=7))
    same = {name for name, digest in _digests(demo).items() if other[name] == digest}
    assert same <= {
        "export/policy_versions.parquet",
        "export/processors.parquet",
        MARKER,
    }  # no randomness in them


def test_committed_demo_equals_a_fresh_generation(demo: Path) -> None:
    committed = json.loads((DEMO / "generation.json").read_text(encoding="utf-8"))["made_with"]
    assert committed == made_with(), f"library versions changed since the demo was made: run `{REGENERATE}`"
    assert _digests(DEMO) == _digests(demo), f"data/synthetic/demo is stale: run `{REGENERATE}`"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contacts", "5"], "--contacts"),
        (["--format", "xml"], "--format"),
        (["--scale", "huge"], "--scale"),
        (["--scale", "demo", "--contacts", "1000"], "either"),
        (["--as-of", "2026-02-30"], "--as-of"),
        (["--violation-rate", "1.5"], "--violation-rate"),
        (["--violation-rate", "nan"], "--violation-rate"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_refuses_to_replace_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="previous output"):
        _generate(tmp_path)
    assert (tmp_path / "notes.txt").exists()


def test_contacts_go_up_to_ten_million() -> None:
    assert (
        settings(scale=None, contacts=10_000_000, seed=None, fmt="parquet", as_of=None).contacts
        == MAX_CONTACTS
    )
    with pytest.raises(GenerationError, match="10,000,000"):
        settings(scale=None, contacts=10_000_001, seed=None, fmt="parquet", as_of=None)


def test_identifiers_of_the_largest_export_fit_their_width(demo: Path) -> None:
    """Running numbers at 10M contacts (the demo's rows per contact, with room) keep their width."""
    manifest = json.loads((demo / "generation.json").read_text(encoding="utf-8"))
    per_contact = {t: n / manifest["contacts"] for t, n in manifest["row_counts"].items()}
    per_contact["sessions"] = 11.5 + 1  # SESSIONS_PER_CONTACT; sessions are no table of their own
    for table, (_, width) in ID_FORMATS.items():
        if table in ("products", "staff", "data_shares", "transfers"):
            continue  # the catalogue and governance: a few thousand rows at any size
        assert 1.5 * per_contact.get(table, 0) * MAX_CONTACTS < 10**width, table
    assert col.labels("EVT-", np.array([9_999_999_999]), 10).to_pylist() == ["EVT-9999999999"]
    with pytest.raises(ValueError, match="10 digits"):
        col.labels("EVT-", np.array([10_000_000_000]), 10)


def test_coded_text_is_written_as_text(tmp_path: Path) -> None:
    """Chunks mixing dictionary-encoded and plain text (background, then plants) read back as text."""
    schema = pa.schema([("kind", pa.string()), ("n", pa.int64())])
    with TableWriter(tmp_path, "t", "parquet", schema) as writer:
        writer.write(
            pa.table(
                {
                    "kind": col.coded(
                        col.strings(["a", "b"]), np.array([1, 0, 1]), np.array([0, 0, 1], bool)
                    ),
                    "n": [1, 2, 3],
                }
            )
        )
        writer.write(pa.table({"kind": pa.array(["planted", None], pa.string()), "n": [4, 5]}))
    read = pq.read_table(tmp_path / "t.parquet")
    assert read.schema == schema
    assert read.column("kind").to_pylist() == ["b", "a", None, "planted", None]
    assert duckdb.sql(
        f"SELECT typeof(kind), count(kind) FROM '{tmp_path / 't.parquet'}' GROUP BY ALL"
    ).fetchall() == [("VARCHAR", 3)]
