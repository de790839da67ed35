"""`privacy-audit coverage` shows the coverage of the policy and policy text given (issue 19):
the text's own sections, the policy file's clause mapping, and the sections a rule cites that
the text lacks."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from privacy_audit.cli import app

runner = CliRunner()
OWN_TEXT = """Acme privacy notice
1. Keeping data
1.1 How long we keep orders
Orders are kept six years.
1.2 Cards
We never keep card numbers.
"""


def _coverage(*args: str) -> str:
    result = runner.invoke(app, ["coverage", *args], terminal_width=250)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_coverage_is_that_of_the_given_text_and_mapping(tmp_path: Path) -> None:
    text = tmp_path / "acme.txt"
    text.write_text(OWN_TEXT, encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text('clauses: {RET-ORDER-OVERDUE: ["1.1"], MIN-CARD-NUMBER: ["1.2"]}\n', encoding="utf-8")
    printed = _coverage("--policy", str(policy), "--policy-text", str(text))
    assert re.search(r"^│ 1\.1 .*RET-ORDER-OVERDUE", printed, re.M)
    assert re.search(r"^│ 1\.2 .*MIN-CARD-NUMBER", printed, re.M)
    assert not re.search(r"^│ 6\.1 ", printed, re.M)  # the bundled text's sections are not this text's
    assert f"RET-TICKET-OVERDUE cites §6.1: section not found in the policy text ({text})" in printed
    assert "RET-ORDER-OVERDUE cites" not in printed


def test_without_a_mapping_another_text_says_its_sections_are_unmapped(tmp_path: Path) -> None:
    text = tmp_path / "acme.txt"
    text.write_text(OWN_TEXT, encoding="utf-8")
    printed = _coverage("--policy-text", str(text))
    assert re.search(r"^│ 1\.1 .*no rule of the catalogue is mapped", printed, re.M)


def test_a_bad_policy_text_or_key_is_exit_2(tmp_path: Path) -> None:
    flat = tmp_path / "flat.txt"
    flat.write_text("no numbered sections here\n", encoding="utf-8")
    result = runner.invoke(app, ["coverage", "--policy-text", str(flat)])
    assert result.exit_code == 2 and "flat.txt, line 1" in result.output
    policy = tmp_path / "policy.yaml"
    policy.write_text("clauses: {RET-ORDER-OVRDUE: ['6.1']}\n", encoding="utf-8")
    result = runner.invoke(app, ["coverage", "--policy", str(policy)])
    assert result.exit_code == 2 and "did you mean RET-ORDER-OVERDUE?" in result.output
