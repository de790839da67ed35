"""The demo in a platform-native layout audits, through its mapping, exactly like the demo.

``data/synthetic/demo-native`` holds the contract-shaped demo rewritten as a platform dumps it
(other names, part files, gzip and semicolon CSV, UTC offsets, expressions, test rows) and the
mapping that reads it back. Same record ids rule by rule on both engines proves the mapping
loader and the native writer agree; the committed sample is kept equal to a fresh generation.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from privacy_audit.cli import app
from privacy_audit.outputs.folder import MARKER
from privacy_audit.synth.native import LAYOUT, MAPPING, TEST_STORE, mapping, write_native

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "synthetic" / "demo"
NATIVE = ROOT / "data" / "synthetic" / "demo-native"
AS_OF = "2026-11-01"
REGENERATE = "privacy-audit generate --layout native --out data/synthetic/demo-native"


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _audit(export: Path, out: Path, *options: str) -> tuple[dict[str, list], dict[str, tuple]]:
    """Findings per rule as sorted (record_id, subject_id) pairs, and each rule's outcome."""
    result = CliRunner().invoke(app, ["audit", str(export), "--as-of", AS_OF, "--out", str(out), *options])
    assert result.exit_code == 0, result.output
    found: dict[str, list] = defaultdict(list)
    for row in pq.read_table(out / "findings.parquet").to_pylist():
        found[row["rule_id"]].append((row["record_id"], row["subject_id"]))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    outcome = {r["rule_id"]: (r["status"], r["violations"], r["reason"]) for r in summary["rules"]}
    return {rule: sorted(pairs) for rule, pairs in found.items()}, outcome


@pytest.fixture(scope="module")
def contract_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list], dict[str, tuple]]:
    return _audit(DEMO / "export", tmp_path_factory.mktemp("contract") / "out")


def test_committed_sample_equals_a_fresh_rewrite_of_the_demo(tmp_path: Path) -> None:
    """The demo equals a fresh generation (test_synth.py), so a rewrite of it is a fresh native one."""
    files = write_native(DEMO / "export", tmp_path)
    stale = f"data/synthetic/demo-native is stale: run `{REGENERATE}`"
    assert _digests(NATIVE / "export") == _digests(tmp_path / "export"), stale
    assert (NATIVE / MAPPING).read_bytes() == (tmp_path / MAPPING).read_bytes(), stale
    for name in ("truth.csv", "near_misses.csv"):
        assert (NATIVE / name).read_bytes() == (DEMO / name).read_bytes(), stale
    manifest = json.loads((DEMO / "generation.json").read_text(encoding="utf-8"))
    manifest.update(layout="native", mapping=MAPPING, files=files)
    assert json.loads((NATIVE / "generation.json").read_text(encoding="utf-8")) == manifest, stale
    assert {p.name for p in NATIVE.iterdir()} == {
        "export",
        MAPPING,
        "truth.csv",
        "near_misses.csv",
        "generation.json",
        MARKER,
    }


def test_native_shape_has_no_contract_file_for_a_mapped_table() -> None:
    export = NATIVE / "export"
    assert not {f"{spec.table}.parquet" for spec in LAYOUT} & {p.name for p in export.iterdir()}
    assert (export / "shop" / "sales_order" / "_SUCCESS").exists()
    assert list((export / "tracking" / "events").glob("year=*/part-*.parquet"))
    assert yaml.safe_load((NATIVE / MAPPING).read_text(encoding="utf-8")) == mapping()


def test_native_audit_with_mapping_equals_contract_demo(
    contract_demo: tuple[dict[str, list], dict[str, tuple]], tmp_path: Path
) -> None:
    native = _audit(NATIVE / "export", tmp_path / "out", "--mapping", str(NATIVE / MAPPING))
    assert native[1] == contract_demo[1]
    for rule, pairs in contract_demo[0].items():
        assert native[0].get(rule) == pairs, rule
    assert set(native[0]) == set(contract_demo[0])


def test_the_filter_is_what_drops_the_test_rows(tmp_path: Path) -> None:
    unfiltered = mapping()
    del unfiltered["tables"]["orders"]["filter"]
    path = tmp_path / MAPPING
    path.write_text(yaml.safe_dump(unfiltered), encoding="utf-8")
    found, _ = _audit(NATIVE / "export", tmp_path / "out", "--mapping", str(path))
    test_orders = {rid for pairs in found.values() for rid, _ in pairs if rid.startswith("TEST-")}
    assert test_orders, f"the {TEST_STORE} store's orders would be findings without the filter"


@pytest.mark.spark
def test_native_audit_on_spark_equals_contract_demo(
    contract_demo: tuple[dict[str, list], dict[str, tuple]], tmp_path: Path
) -> None:
    pytest.importorskip("pyspark")
    native = _audit(
        NATIVE / "export", tmp_path / "out", "--mapping", str(NATIVE / MAPPING), "--engine", "spark"
    )
    assert native == contract_demo


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--layout", "flat"], "--layout"), (["--layout", "native", "--format", "csv"], "--layout native")],
)
def test_bad_layout_arguments_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_readme_worked_example_is_the_samples_mapping() -> None:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Auditing your own export")[1]
    example = yaml.safe_load(section.split("```yaml\n")[1].split("```")[0])
    truth = mapping()
    assert example["inventory"] == truth["inventory"]
    assert {t: truth["tables"][t] for t in example["tables"]} == example["tables"]
