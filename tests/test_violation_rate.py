"""``generate --violation-rate``: a share of the background made violating, and truth.csv still exact.

At a high rate most findings come from rewritten background rather than plants, so the audit
matching truth.csv pair for pair proves both that every rewrite violates the rule it names and
that it disturbs no other rule.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from privacy_audit.synth.generate import MIN_CONTACTS, generate, settings
from privacy_audit.synth.violations import FAMILIES
from test_synth import assert_findings_match_truth


def _generate(out: Path, rate: float) -> Path:
    generate(
        out,
        settings(
            scale=None, contacts=MIN_CONTACTS, seed=None, fmt="parquet", as_of=None, violation_rate=rate
        ),
    )
    return out


@pytest.fixture(scope="module")
def violating(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("violating") / "out", 0.3)


def test_audit_finds_exactly_the_truth_at_a_high_violation_rate(violating: Path) -> None:
    assert_findings_match_truth(violating)


def test_every_family_makes_violations_and_truth_lists_them(violating: Path) -> None:
    manifest = json.loads((violating / "generation.json").read_text(encoding="utf-8"))
    made = manifest["made_violating"]
    assert set(made) == set(FAMILIES) and min(made.values()) > 0, made
    lines = (violating / "truth.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "rule_id,record_id" and lines[1:] == sorted(lines[1:])
    per_rule = Counter(line.split(",")[0] for line in lines[1:])
    assert sum(made.values()) + manifest["planted_violations"] == len(lines) - 1
    assert all(per_rule[rule] >= n for rule, n in made.items())


def test_rate_zero_changes_nothing(violating: Path, tmp_path: Path) -> None:
    clean = _generate(tmp_path / "clean", 0.0)
    manifest = json.loads((clean / "generation.json").read_text(encoding="utf-8"))
    assert "made_violating" not in manifest
    assert (clean / "export" / "accounts.parquet").read_bytes() == (
        violating / "export" / "accounts.parquet"
    ).read_bytes()
    assert (clean / "export" / "web_events.parquet").read_bytes() != (
        violating / "export" / "web_events.parquet"
    ).read_bytes()
