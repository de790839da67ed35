"""Which words of the policy each rule checks: one bullet or sentence, found by a phrase of it.

A rule checks one promise, not its whole section; quoting the section for every rule buried the
report in repeated text. Each rule names its clause and a phrase of the bullet it checks; the
report quotes that bullet (or, in running prose, that sentence) and keeps the full section one
click away. A phrase missing from the policy text in force quotes the section's title only.
"""

from __future__ import annotations

import re

from privacy_audit.reporting.compliance.policy_text import Clause

# rule id -> (clause, a phrase of the bullet or sentence it checks)
PROMISES: dict[str, tuple[str, str]] = {
    "RET-ORDER-OVERDUE": ("6.1", "Order and Transaction Records"),
    "RET-ORDER-PREMATURE": ("6.1", "Order and Transaction Records"),
    "RET-TICKET-OVERDUE": ("6.1", "Customer Support Interactions"),
    "RET-INACTIVE-ACCOUNT": ("6.1", "Inactive Accounts"),
    "RET-USAGE-OVERDUE": ("6.1", "The duration for which we keep your data depends"),
    "ANON-INCOMPLETE": ("6.2", "Anonymization Where Applicable"),
    "LEGAL-HOLD-BREACH": ("6.2", "Exceptions to Deletion"),
    "RIGHTS-LATE": ("7.1", "Response Timeline"),
    "RIGHTS-UNVERIFIED": ("7.1", "Verification Process"),
    "RIGHTS-ERASURE-INCOMPLETE": ("7.3", "Account Deletion"),
    "RIGHTS-RETENTION-UNNOTIFIED": ("7.3", "Notification:"),
    "MIN-UNDECLARED-COLUMN": ("5.1", "Data Minimization"),
    "MIN-CARD-NUMBER": ("5.1", "Payment Security Compliance"),
    "MIN-CARD-IN-TEXT": ("5.1", "Payment Security Compliance"),
    "SEC-PASSWORD-STORAGE": ("5.1", "Encryption Technologies"),
    "CHILD-MINOR": ("10.1", "under the age of 18"),
    "CONSENT-OPTOUT-IGNORED": ("7.2", "Marketing Communications"),
    "CONSENT-NO-UNSUBSCRIBE": ("7.2", "Marketing Communications"),
    "CONSENT-TRACKING": ("7.4", "Cookie Banner"),
    "SHARE-SALE": ("4.4", "does not sell, rent"),
    "SHARE-UNAPPROVED": ("4.1", "contractually obligated to protect your data"),
    "SHARE-PURPOSE": ("4.1", "use it only for the purposes we specify"),
    "SHARE-ANALYTICS-IDENTIFIABLE": ("4.1", "Analytics Providers"),
    "XFER-NO-SAFEGUARD": ("8.2", "Standard Contractual Clauses"),
    "XFER-UNENCRYPTED": ("8.2", "Encryption and Security Measures"),
    "ACCESS-ROLE": ("5.1", "Access Controls"),
    "ACCESS-AFTER-OFFBOARDING": ("5.1", "Access Controls"),
    "ACCESS-EXPORT-UNJUSTIFIED": ("5.1", "Access Controls"),
    "ACCESS-UNTRAINED": ("5.1", "Employee Training"),
    "NOTICE-SHORT": ("11.2", "Prior Notice for Major Updates"),
    "NOTICE-NOT-SENT": ("11.2", "Email Alerts"),
}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def promise_of(rule_id: str, clauses: tuple[str, ...]) -> tuple[str, str]:
    """(clause number, phrase) a rule checks; a rule not listed checks its first clause whole."""
    return PROMISES.get(rule_id, (clauses[0], ""))


def quote(clause: Clause, phrase: str) -> str:
    """The bullet of ``clause`` holding ``phrase``, or the sentence of prose holding it; "" if none."""
    if not phrase:
        return ""
    for paragraph in clause.paragraphs:
        if phrase.lower() in paragraph.lower():
            if paragraph.lstrip().startswith("-"):
                return paragraph.lstrip("- ").strip()
            return next(s for s in _SENTENCE.split(paragraph) if phrase.lower() in s.lower()).strip()
    return ""
