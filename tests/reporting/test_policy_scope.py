"""Coverage and the user's own policy text: every section with a verdict, and nothing quoted
from the bundled policy in place of the user's (rules.md, "Coverage"; issue 19 items 1 and 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handmade import make_export, write_policy
from privacy_audit.cli import app
from privacy_audit.reporting.compliance import run as compliance_run
from privacy_audit.reporting.compliance import sections as compliance
from privacy_audit.rules.coverage import COVERAGE

AS_OF = "2026-11-01"
# One overdue order (RET-ORDER-OVERDUE fails), nothing else wrong; data_shares is absent.
TABLES = {
    "accounts": [{"account_id": "A1", "country": "GB"}],
    "orders": [{"order_id": "O-old", "account_id": "A1", "order_date": "2015-01-01", "contact_id": "C1"}],
}
OWN_TEXT = """Acme privacy notice
1. Keeping data
1.1 How long we keep orders
Orders are kept six years.
1.2 Cards
We never keep card numbers.
2. Complaints
Write to us.
"""
runner = CliRunner()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_export(tmp_path_factory.mktemp("scope") / "export", TABLES)


def _row(html: str, section: str) -> str:
    start = html.index(f"<td>§{section} ")
    return html[start : html.index("</tr>", start)]


def test_the_report_opens_with_every_section_and_its_verdict(export: Path, tmp_path: Path) -> None:
    run = compliance_run.prepare(str(export), AS_OF, "", str(tmp_path / "out"))
    html = compliance.coverage(run).html
    assert html.index("<h1>") < html.index("Scope: every section of the policy")
    assert all(f"<td>§{c.section} " in html for c in COVERAGE)
    assert "broken" in _row(html, "6.1") and "RET-ORDER-OVERDUE (fail)" in _row(html, "6.1")
    assert "kept" in _row(html, "10.1")  # CHILD-MINOR ran and passed
    assert "skipped" in _row(html, "4.4")  # SHARE-SALE: no data_shares table
    assert "not evidenced by the export" in _row(html, "1.1")
    assert "not found" not in html


def test_a_policy_text_of_ones_own_is_cited_and_its_gaps_named(export: Path, tmp_path: Path) -> None:
    text = tmp_path / "acme.txt"
    text.write_text(OWN_TEXT, encoding="utf-8")
    policy = write_policy(
        tmp_path / "policy.yaml",
        {"clauses": {"RET-ORDER-OVERDUE": ["1.1"], "MIN-CARD-NUMBER": ["1.2"], "MIN-CARD-IN-TEXT": ["1.2"]}},
    )
    out = tmp_path / "audit"
    args = ["audit", str(export), "--as-of", AS_OF, "--out", str(out), "--policy", str(policy)]
    result = runner.invoke(app, [*args, "--policy-text", str(text)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["policy_text"] == str(text) and len(summary["policy_text_digest"]) == 64
    rules = {r["rule_id"]: r for r in summary["rules"]}
    assert rules["RET-ORDER-OVERDUE"]["clause"] == "1.1"
    assert rules["RET-ORDER-OVERDUE"]["policy_text"] == "quoted"
    assert rules["RIGHTS-LATE"]["policy_text"] == "section not found in the policy text: 7.1"

    run = compliance_run.prepare(
        str(export), AS_OF, str(policy), str(tmp_path / "out"), policy_text=str(text)
    )
    html = compliance.coverage(run).html + compliance.failing_rules(run).html
    assert "RET-ORDER-OVERDUE (fail)" in _row(html, "1.1") and "broken" in _row(html, "1.1")
    assert "not evidenced by the export" in _row(html, "2")  # a section without subsections
    assert "§7.1: section not found in the policy text" in html
    assert "Retention Period" not in html  # never the bundled policy's words


@pytest.mark.parametrize(
    ("content", "where", "expected"),
    [
        (b"Just words.\nNo numbers at all.\n", "line 1", "numbered sections"),
        (b"Title\n1.1 Scope\nWords.\n1.1 Scope again\nMore.\n", "line 4", "each section number once"),
        (b"Title\n1.1 Scope\nCaf\xe9 words.\n", "line 3", "UTF-8"),
    ],
)
def test_a_bad_policy_text_is_exit_2_naming_file_and_line(
    content: bytes, where: str, expected: str, export: Path, tmp_path: Path
) -> None:
    text = tmp_path / "bad.txt"
    text.write_bytes(content)
    out = tmp_path / "audit"
    args = ["audit", str(export), "--as-of", AS_OF, "--out", str(out), "--policy-text", str(text)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"{text}, {where}" in lines[0] and expected in lines[0]
    assert "Caf" not in result.output and not out.exists()


def test_a_clause_mapping_naming_no_rule_is_exit_2(export: Path, tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "policy.yaml", {"clauses": {"NO-SUCH-RULE": ["1.1"]}})
    args = ["audit", str(export), "--as-of", AS_OF, "--out", str(tmp_path / "o"), "--policy", str(policy)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "key clauses.NO-SUCH-RULE" in result.output
