"""Policy changes (§11.2): major versions announced in advance, by email, to every active contact."""

from privacy_audit.rules.registry import Severity, rule
from privacy_audit.rules.sql import day

# The version(s) in effect at as_of: the latest effective_at at or before as_of (all of them if
# several versions share it), kept only when major.
_MAJOR_IN_EFFECT = """
            SELECT v.version, v.published_at, v.effective_at
            FROM policy_versions v
            WHERE v.major
              AND v.effective_at = (SELECT max(effective_at) FROM policy_versions WHERE effective_at <= $as_of)"""
# Contacts owed its notice: not erased, created before publication, account active.
_DUE = f"""
        WITH in_effect AS ({_MAJOR_IN_EFFECT}
        ),
        due AS (
            SELECT c.contact_id, c.created_at, v.version, v.published_at, v.effective_at
            FROM in_effect v
            JOIN contacts c ON c.created_at < v.published_at AND NOT c._erased
            JOIN accounts a ON a.account_id = c.account_id AND a.status = 'active'
        )"""

rule(
    id="NOTICE-SHORT",
    severity=Severity.medium,
    clauses=("11.2",),
    key="version",
    tables=("policy_versions",),
    params=("notice_days",),
    what="""
        A major policy version that took effect less than `notice_days` ({notice_days}) days
        after it was published: `effective_at < published_at + notice_days × 1 day`, exact
        24-hour days. Exactly `notice_days` days of notice is enough. Minor versions are not checked.
        """,
    why="""
        §11.2 promises advance notice, typically 30 days, before significant changes take
        effect, so partners can review them and object.
        """,
    example="""
        Major version 3.0 published 2025-01-01 09:00 and effective 2025-01-31 09:00 passes;
        effective 2025-01-31 08:59:59 it is a finding. A minor version effective the day it is
        published is not checked.
        """,
    sql=f"""
        SELECT version AS record_id, NULL AS subject_id,
               printf('major version %s was published on %s and took effect on %s, %s; the policy requires %d days of notice',
                      version, {day("published_at")}, {day("effective_at")},
                      CASE WHEN effective_at < published_at THEN 'before its publication'
                           ELSE 'only ' || CAST(effective_at - published_at AS VARCHAR) || ' later' END,
                      $notice_days) AS detail
        FROM policy_versions
        WHERE major AND effective_at < published_at + $notice_days * INTERVAL 1 DAY
        """,
    checked="SELECT count(*) AS n FROM policy_versions WHERE major",
)

rule(
    id="NOTICE-NOT-SENT",
    severity=Severity.medium,
    clauses=("11.2",),
    key="contact_id|version",
    tables=("contacts", "policy_versions", "accounts", "email_sends"),
    params=("as_of",),
    what="""
        For the policy version in effect at as_of — the one with the latest `effective_at <=
        as_of` (every one of them, if several share that instant), checked only if it is major
        — a contact that should have been emailed about it and was not. Owed a notice: a
        contact that is not erased, whose `created_at` is before the version's `published_at`,
        and whose account has status `active`. Sent: an `email_sends` row of that contact with
        kind `policy_notice`, `policy_version` equal to the version, and `sent_at <=
        effective_at`. A notice sent after the change took effect does not count. Earlier
        major versions, superseded by as_of, are not checked. `record_id` is
        `contact_id|version`.
        """,
    why="""
        §11.2 promises an email about substantial changes "to the address associated with your
        wholesale account" before they apply. A banner on the website does not replace it.
        """,
    example="""
        Major version 3.0 published 2025-01-01 and effective 2025-02-01, audited 2025-06-01:
        contact C1 (created 2024) notified 2025-01-05 passes; C2 notified 2025-02-02 and C3
        never notified are findings (`C2|3.0`, `C3|3.0`); C4 created 2025-01-10, after
        publication, and contacts of suspended or closed accounts are not checked. If 3.1, a
        minor version, took effect 2025-05-01, nothing is checked.
        """,
    sql=f"""
        {_DUE}
        SELECT d.contact_id || '|' || d.version AS record_id, d.contact_id AS subject_id,
               printf('contact created on %s was not sent the notice of major version %s (published %s) by its effective date %s',
                      {day("d.created_at")}, d.version, {day("d.published_at")}, {day("d.effective_at")}) AS detail
        FROM due d
        WHERE NOT EXISTS (SELECT 1 FROM email_sends e
                          WHERE e.contact_id = d.contact_id AND e.kind = 'policy_notice'
                            AND e.policy_version = d.version AND e.sent_at <= d.effective_at)
        """,
    checked=f"""
        {_DUE}
        SELECT count(*) AS n FROM due
        """,
)
