"""One parametrized test for the whole catalogue: every case of every rule, in both file forms.

Each ``cases/<RULE-ID>.yaml`` holds tiny tables per case — violating, clean and near-miss
records — and the record ids the rule must report, no more and no fewer.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from handmade import make_export, write_policy
from privacy_audit.audit import run_audit
from privacy_audit.rules import REGISTRY

CASES = Path(__file__).parent / "cases"


def _load() -> list[object]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in spec["cases"]:
            for fmt in ("parquet", "csv"):
                params.append(pytest.param(spec, case, fmt, id=f"{spec['rule']}:{case['name']}:{fmt}"))
    return params


@pytest.mark.parametrize(("spec", "case", "fmt"), _load())
def test_rule_case(spec: dict, case: dict, fmt: str, tmp_path: Path) -> None:
    rule = REGISTRY[spec["rule"]]
    export = make_export(tmp_path / "export", case.get("tables", {}), fmt)
    overrides = {**spec.get("policy", {}), **case.get("policy", {})}
    policy = write_policy(tmp_path / "policy.yaml", overrides) if overrides else None
    as_of = case.get("as_of", spec.get("as_of"))
    as_of = as_of if isinstance(as_of, date) else date.fromisoformat(as_of)
    result = run_audit(export, as_of, policy_file=policy, rules=[rule]).results[0]
    assert result.status == case.get("status", "fail" if case["expect"] else "pass"), result.reason
    assert sorted(result.findings.column("record_id").to_pylist()) == sorted(str(e) for e in case["expect"])


def test_every_rule_has_cases() -> None:
    covered = {yaml.safe_load(p.read_text(encoding="utf-8"))["rule"] for p in CASES.glob("*.yaml")}
    assert set(REGISTRY) <= covered, f"rules without a case file: {sorted(set(REGISTRY) - covered)}"
