"""One parametrized test for the whole catalogue: every case of every rule, in both file forms.

Each ``cases/<RULE-ID>.yaml`` holds tiny tables per case — violating, clean and near-miss
records — and states what the rule must report: ``checked``, the number of records it
examined, and ``expect``, every finding as ``{record, subject}`` (plus ``table`` where the
rule spans several tables; otherwise the rule's own table), no more and no fewer. A subject
is the ``contact_id`` or ``account_id`` the record is about, or ``null`` for records about
nobody in particular (a data share, a staff access). A case whose truth today's rule does not
meet yet says so in ``xfail`` (strict: the case fails once the rule is fixed, until the line goes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest
import yaml

from handmade import make_export, write_policy
from privacy_audit.audit import run_audit
from privacy_audit.rules import REGISTRY, Rule

CASES = Path(__file__).parent / "cases"
Finding = tuple[str, str, str | None]


def _load() -> list[object]:
    params = []
    for path in sorted(CASES.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in spec["cases"]:
            marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if "xfail" in case else []
            for fmt in ("parquet", "csv"):
                params.append(
                    pytest.param(spec, case, fmt, id=f"{spec['rule']}:{case['name']}:{fmt}", marks=marks)
                )
    return params


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f[0], f[1], f[2] or ""))


def _expected(rule: Rule, case: dict) -> list[Finding]:
    """The case's findings as (table, record, subject); ``subject`` must be stated, even null."""
    missing = [e for e in case["expect"] if not {"record", "subject"} <= set(e)]
    assert not missing, f"expected findings without record or subject: {missing}"
    unquoted = [
        e for e in case["expect"] if not all(isinstance(e[k], str | None) for k in ("record", "subject"))
    ]
    assert not unquoted, f"identifiers are strings, quote them: {unquoted}"
    return _sorted((e.get("table", rule.table), e["record"], e["subject"]) for e in case["expect"])


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
    found = _sorted((f["table_name"], f["record_id"], f["subject_id"]) for f in result.findings.to_pylist())
    assert found == _expected(rule, case)
    assert result.checked == case["checked"]


def test_every_rule_has_cases() -> None:
    covered = {yaml.safe_load(p.read_text(encoding="utf-8"))["rule"] for p in CASES.glob("*.yaml")}
    assert set(REGISTRY) <= covered, f"rules without a case file: {sorted(set(REGISTRY) - covered)}"
