"""The texts the compliance report quotes on purpose, and the leak scanner that knows them.

The report quotes the policy text in force (its promises, its sections whole) and the
catalogue's descriptions of what each rule checks. Their words are the company's and the
project's, like the template's: a company called "Action" or "Parent" is not published when a
rule description says "an access with action export" or a policy bullet "a parent or guardian".
The scanner exempts such words only inside a marked quote whose whole text is, word for word,
one of these texts (``leaks.KnownTexts``); the same name anywhere else still stops publication.
"""

from __future__ import annotations

from pathlib import Path

from privacy_audit.engine import Engine
from privacy_audit.policy import Policy, load_policy
from privacy_audit.reporting.common.leaks import PERSONAL_KINDS, LeakScanner
from privacy_audit.reporting.compliance.policy_text import UNMAPPED, PolicyText, load_policy_text
from privacy_audit.rules import REGISTRY
from privacy_audit.rules.coverage import COVERAGE


def rule_description(what: str) -> str:
    """A rule's description as the report says it: its `code` marks dropped (shown as code)."""
    return what.replace("`", "")


def known_texts(text: PolicyText, policy: Policy) -> list[str]:
    """Every text the report may quote: each section's title and words, each rule's description
    under ``policy``, and the coverage table's reasons."""
    policy_words = [part for c in text.clauses.values() for part in (c.title, c.words)]
    descriptions = [rule_description(r.docs(policy).what) for r in REGISTRY.values()]
    return [*policy_words, *descriptions, *(c.not_evidenced for c in COVERAGE), UNMAPPED]


def leak_scanner(
    export_dir: Path, policy_file: Path | None, policy_text: Path | None, engine: Engine
) -> LeakScanner:
    """The compliance report's scanner: personal values only (its evidence is identifiers by
    design), with the policy text and rule descriptions of this run as known texts; the export
    is opened in ``engine`` (policy, then policy text, then export: the first bad one is named)."""
    policy, _ = load_policy(policy_file)
    known = known_texts(load_policy_text(policy_text), policy)
    return LeakScanner.from_export(export_dir, kinds=PERSONAL_KINDS, known=known, engine=engine)
