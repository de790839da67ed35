"""Coverage: every subsection of the bundled policy text, the rules that evidence it, or why not.

An audit is only as honest as its scope (rules.md, "Coverage"). The table is declared here, in
Python beside the rules rather than in a YAML file beside ``default_policy.yaml``, because it is
a fact about the catalogue and the bundled policy text, not a setting: ``--policy`` replaces
the policy file whole, and a user's file must not be able to drop a row or claim a rule that
does not exist. ``tests/test_evidence.py`` keeps it consistent with the rules and the text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Coverage:
    """One subsection: the rules that evidence it and what an export cannot show about it."""

    section: str
    rules: tuple[str, ...]
    not_evidenced: str

    @property
    def checked(self) -> bool:
        return bool(self.rules)


# (sections, rules, why an export cannot evidence it or the rest of it): the spec's table.
_TABLE: tuple[tuple[str, str, str], ...] = (
    ("1.1 1.2 1.3", "", "statements of intent and scope, no promise about data"),
    ("2.1", "MIN-UNDECLARED-COLUMN SEC-PASSWORD-STORAGE", ""),
    ("2.2", "MIN-UNDECLARED-COLUMN", ""),
    ("2.3", "RET-USAGE-OVERDUE", ""),
    ("2.4", "CONSENT-TRACKING", "browser-side cookie storage is not in the export"),
    ("3.1 3.2 3.4", "", "the export records no purpose per processing act"),
    ("3.3", "CONSENT-OPTOUT-IGNORED CONSENT-NO-UNSUBSCRIBE", ""),
    ("3.5", "RET-ORDER-PREMATURE", "fraud monitoring is not in the export"),
    (
        "4.1",
        "SHARE-UNAPPROVED SHARE-PURPOSE SHARE-ANALYTICS-IDENTIFIABLE",
        "confidentiality agreements' content",
    ),
    ("4.2 4.3", "", "the contract has no log of legal disclosures or business transfers"),
    ("4.4", "SHARE-SALE", ""),
    (
        "5.1",
        "MIN-CARD-NUMBER MIN-CARD-IN-TEXT SEC-PASSWORD-STORAGE MIN-UNDECLARED-COLUMN ACCESS-ROLE"
        " ACCESS-AFTER-OFFBOARDING ACCESS-EXPORT-UNJUSTIFIED ACCESS-UNTRAINED",
        "encryption at rest and in transit, firewalls, security audits",
    ),
    ("5.2", "MIN-CARD-IN-TEXT", ""),
    ("5.3", "ACCESS-AFTER-OFFBOARDING", "the rest is the partner's own duty"),
    (
        "6.1",
        "RET-ORDER-OVERDUE RET-ORDER-PREMATURE RET-TICKET-OVERDUE RET-INACTIVE-ACCOUNT RET-USAGE-OVERDUE",
        "",
    ),
    (
        "6.2",
        "ANON-INCOMPLETE LEGAL-HOLD-BREACH RIGHTS-ERASURE-INCOMPLETE RET-EXCEPTION-EXPIRED",
        "whether deleted data survives in backups",
    ),
    (
        "7.1",
        "RIGHTS-LATE RIGHTS-UNVERIFIED",
        "the format of the copy delivered (`privacy-audit subject` produces one)",
    ),
    ("7.2", "CONSENT-OPTOUT-IGNORED CONSENT-NO-UNSUBSCRIBE RIGHTS-OBJECTION-IGNORED", ""),
    ("7.3", "RIGHTS-ERASURE-INCOMPLETE RIGHTS-RETENTION-UNNOTIFIED RET-EXCEPTION-EXPIRED", ""),
    ("7.4", "CONSENT-TRACKING", ""),
    ("7.5", "RIGHTS-LATE RIGHTS-OBJECTION-IGNORED", "complaints to an authority"),
    ("8.1", "", "describes where data goes; 8.2 holds the promises"),
    ("8.2", "XFER-NO-SAFEGUARD XFER-UNENCRYPTED", "vendor assessments beyond the DPA date"),
    ("9.1 9.2", "", "third-party sites are outside the platform's data"),
    ("10.1", "CHILD-MINOR", ""),
    ("10.2", "", "the contract has no parental-inquiry request kind"),
    ("11.1 11.3", "", "no promise about data"),
    ("11.2", "NOTICE-SHORT NOTICE-NOT-SENT", "website banners"),
)

COVERAGE: tuple[Coverage, ...] = tuple(
    sorted(
        (
            Coverage(section, tuple(rules.split()), reason)
            for sections, rules, reason in _TABLE
            for section in sections.split()
        ),
        key=lambda c: tuple(int(n) for n in c.section.split(".")),
    )
)
