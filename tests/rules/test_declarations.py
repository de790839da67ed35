"""A rule names exactly the policy values it binds, and its documentation quotes the policy in force."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handmade import write_policy
from privacy_audit.cli import app
from privacy_audit.policy import load_policy
from privacy_audit.rules import REGISTRY, Severity
from privacy_audit.rules.params import bind
from privacy_audit.rules.registry import rule

_BASE = {
    "severity": Severity.low,
    "clauses": ("6.1",),
    "key": "ticket_id",
    "tables": ("support_tickets",),
    "what": "",
    "why": "",
    "example": "",
}


@pytest.mark.parametrize(
    ("params", "sql", "what", "problem"),
    [
        ((), "SELECT 1 WHERE $ticket_cutoff IS NULL", "", "uses undeclared parameter(s) ticket_cutoff"),
        (("ticket_cutoff",), "SELECT 1", "", "never uses parameter(s) ticket_cutoff"),
        (("cutoff_of_tickets",), "SELECT $cutoff_of_tickets", "", "names unknown parameter(s)"),
        ((), "SELECT 1 FROM policy_role_tables", "", "uses undeclared parameter(s) policy_role_tables"),
        ((), "SELECT 1", "kept {ticket_years} years", "documents unknown policy key(s) ticket_years"),
    ],
)
def test_a_declaration_that_does_not_match_its_sql_fails(
    params: tuple[str, ...], sql: str, what: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        rule(id="T-BAD", **{**_BASE, "what": what}, params=params, sql=sql)
    assert "T-BAD" not in REGISTRY


def test_bind_derives_only_the_named_values() -> None:
    policy, _ = load_policy()
    bound = bind(REGISTRY["RET-TICKET-OVERDUE"].params, policy, date(2025, 7, 2))
    assert set(bound.values) == {"ticket_retention_years", "deletion_grace_days", "ticket_cutoff", "as_of"}
    assert bound.tables == {}
    assert set(bind(REGISTRY["ACCESS-ROLE"].params, policy, date(2025, 7, 2)).tables) == {
        "policy_role_tables"
    }


def _doc(*args: str) -> str:
    result = CliRunner().invoke(app, ["rules", *args], terminal_width=200)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_rule_docs_quote_the_policy_in_force(tmp_path: Path) -> None:
    default = _doc("RET-ORDER-OVERDUE")
    assert "(GB 6, FR 6, AU 5, DE 10, else 7) and 30 days" in default
    assert "Example A GB partner" in default  # the worked example holds for the default policy
    policy = write_policy(
        tmp_path / "p.yaml", {"order_retention_years": {"default": 8, "by_country": {"GB": 9}}}
    )
    custom = _doc("RET-ORDER-OVERDUE", "--policy", str(policy))
    assert "(GB 9, else 8) and 30 days" in custom and "GB 6" not in custom.split("Example")[0]
    assert "Example (with the default policy's numbers)" in custom
    # A rule that binds nothing the policy file changed keeps its plain example.
    assert "Example (with" not in _doc("CHILD-MINOR", "--policy", str(policy))


def test_no_rule_doc_describes_engine_internals() -> None:
    policy, _ = load_policy()
    for r in REGISTRY.values():
        text = " ".join(r.docs(policy).what.split()).lower()
        assert "row group" not in text and "prefilter" not in text and "cheap" not in text, r.id
