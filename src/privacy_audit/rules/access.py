"""Staff access (§5.1, §5.3): the right people, for the right tables, while employed and trained.

A staff_id of the access log that the staff register does not know has no role and no period of
activity: its accesses are findings of both ACCESS-ROLE and ACCESS-AFTER-OFFBOARDING.
"""

from privacy_audit.rules.registry import Severity, rule
from privacy_audit.rules.sql import day, moment

# Active at $as_of, bounds inclusive like every staff activity bound.
_ACTIVE_AT_AS_OF = "s.active_from <= $as_of AND (s.active_to IS NULL OR s.active_to >= $as_of)"
# Accesses in the access_lookback_days before as_of: [as_of - days, as_of).
_RECENT_ACCESSES = """
            SELECT staff_id, count(*) AS n, max(accessed_at) AS last_access
            FROM staff_access_log
            WHERE accessed_at >= $access_since AND accessed_at < $as_of
            GROUP BY staff_id"""

rule(
    id="ACCESS-ROLE",
    severity=Severity.high,
    clauses=("5.1",),
    key="access_id",
    tables=("staff_access_log", "staff"),
    params=("policy_role_tables",),
    what="""
        An access to a table that the staff member's role may not touch under the policy's
        `role_permissions` (a role listing `"*"` may touch every table). Role and table name are
        trimmed and compared exactly. A role the policy does not list permits nothing, and a
        `staff_id` missing from the staff register has no role: both are findings.
        """,
    why="""
        §5.1 promises that "only authorized personnel with a legitimate business need" access
        the data. A fulfillment clerk reading payments has no such need.
        """,
    example="""
        A `fulfillment` member reading `orders` passes; reading `payments` is a finding. A
        `privacy_office` member may read anything. An access by `ST-99`, whom the staff
        register does not list, is a finding.
        """,
    sql=f"""
        SELECT a.access_id AS record_id, NULL AS subject_id,
               CASE WHEN s.staff_id IS NULL
                    THEN printf('%s of table %s on %s by staff %s, who is not in the staff register',
                                a.action, trim(a.table_name), {moment("a.accessed_at")}, a.staff_id)
                    ELSE printf('%s of table %s on %s by staff %s, whose role %s does not permit it',
                                a.action, trim(a.table_name), {moment("a.accessed_at")}, a.staff_id,
                                trim(s.role)) END AS detail
        FROM staff_access_log a
        LEFT JOIN staff s ON s.staff_id = a.staff_id
        WHERE NOT EXISTS (SELECT 1 FROM policy_role_tables p
                          WHERE p.role = trim(s.role) AND (p.table_name = trim(a.table_name) OR p.table_name = '*'))
        """,
)

rule(
    id="ACCESS-AFTER-OFFBOARDING",
    severity=Severity.critical,
    clauses=("5.1", "5.3"),
    key="access_id",
    tables=("staff_access_log", "staff"),
    what="""
        An access outside the staff member's period of activity: `accessed_at < active_from`,
        or `accessed_at > active_to` when `active_to` is set. Both bounds are inclusive
        (an access at exactly `active_from` or `active_to` is allowed). An access by a
        `staff_id` missing from the staff register has no period of activity and is a finding.
        """,
    why="""
        §5.1 and §5.3 promise access controls and prompt removal of access when people leave.
        An account that still works after its owner left is the classic insider breach.
        """,
    example="""
        Active 2024-01-01 to 2025-03-31 17:00: an access at 2025-03-31 17:00 passes, one at
        17:00:01 is a finding, and so is one on 2023-12-31.
        """,
    sql=f"""
        SELECT a.access_id AS record_id, NULL AS subject_id,
               printf('%s of table %s on %s by staff %s %s', a.action, trim(a.table_name),
                      {moment("a.accessed_at")}, a.staff_id,
                      CASE WHEN s.staff_id IS NULL THEN 'who is not in the staff register'
                           WHEN a.accessed_at < s.active_from
                           THEN 'before their activity began on ' || {moment("s.active_from")}
                           ELSE 'after their activity ended on ' || {moment("s.active_to")} END) AS detail
        FROM staff_access_log a
        LEFT JOIN staff s ON s.staff_id = a.staff_id
        WHERE s.staff_id IS NULL OR a.accessed_at < s.active_from OR a.accessed_at > s.active_to
        """,
)

rule(
    id="ACCESS-EXPORT-UNJUSTIFIED",
    severity=Severity.medium,
    clauses=("5.1",),
    key="access_id",
    tables=("staff_access_log",),
    what="""
        An access with action `export` whose `justification` is blank: NULL, empty, or only
        whitespace (spaces, tabs, line breaks, Unicode spaces).
        """,
    why="""
        §5.1 limits access to a "legitimate business need"; a bulk export is where data leaves
        the platform, and the justification is the only record of that need.
        """,
    example="""
        An export with justification `"  "` or NULL is a finding; with `"tax audit 2024"` it is
        not; a `read` without justification is not checked.
        """,
    sql=f"""
        SELECT access_id AS record_id, NULL AS subject_id,
               printf('export of table %s on %s by staff %s has no justification',
                      trim(table_name), {moment("accessed_at")}, staff_id) AS detail
        FROM staff_access_log
        WHERE action = 'export' AND (justification IS NULL OR regexp_matches(justification, '^[\\s\\p{{Z}}]*$'))
        """,
    checked="SELECT count(*) AS n FROM staff_access_log WHERE action = 'export'",
)

rule(
    id="ACCESS-UNTRAINED",
    severity=Severity.low,
    clauses=("5.1",),
    key="staff_id",
    tables=("staff", "staff_access_log"),
    params=("access_lookback_days", "as_of", "training_valid_months", "access_since", "training_cutoff"),
    what="""
        A staff member active at as_of (`active_from <= as_of` and `active_to` NULL or
        `>= as_of`), with at least one access in the `access_lookback_days`
        ({access_lookback_days}) before as_of (`as_of − days <= accessed_at < as_of`), whose
        training has lapsed: `last_training_at` NULL, or `last_training_at +
        training_valid_months < as_of` in calendar months ({training_valid_months}). Trained
        exactly that many months before as_of is still valid, month ends included: with 1
        month and as_of 2026-03-31, 2026-02-28 is lapsed, since 2026-02-28 + 1 month =
        2026-03-28.
        """,
    why="""
        §5.1: "Our team members receive regular training on data security". Staff who handle
        data with lapsed training are the gap that promise is about.
        """,
    example="""
        As of 2026-03-01, with 12 months, training on 2025-03-01 00:00 is valid and
        2025-02-28 23:59:59 lapsed: a support agent who read contacts on 2026-02-10 and was
        last trained 2025-01-15 is a finding; trained 2025-03-01 they are not; one whose last access was
        2025-02-01 (more than 365 days ago) is not checked.
        """,
    sql=f"""
        SELECT s.staff_id AS record_id, NULL AS subject_id,
               printf('staff %s made %d access(es) in the %d days before %s, the last on %s, %s',
                      s.staff_id, CAST(a.n AS BIGINT), $access_lookback_days, {day("$as_of")}, {day("a.last_access")},
                      CASE WHEN s.last_training_at IS NULL THEN 'with no training on record'
                           ELSE printf('last trained on %s, more than %d months earlier',
                                       {day("s.last_training_at")}, $training_valid_months) END) AS detail
        FROM staff s
        JOIN ({_RECENT_ACCESSES}
        ) a ON a.staff_id = s.staff_id
        WHERE {_ACTIVE_AT_AS_OF}
          AND (s.last_training_at IS NULL OR s.last_training_at < $training_cutoff)
        """,
    checked=f"""
        SELECT count(*) AS n FROM staff s JOIN ({_RECENT_ACCESSES}
        ) a ON a.staff_id = s.staff_id
        WHERE {_ACTIVE_AT_AS_OF}
        """,
)
