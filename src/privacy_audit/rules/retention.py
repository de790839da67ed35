"""Retention (§6.1) and deletion (§6.2): records kept too long, erased too early or badly."""

from privacy_audit.rules.registry import Severity, rule
from privacy_audit.rules.sql import day, hold_active_at, personal_still_set

# Age rules compare a column with a cut-off computed once (Policy.*_cutoff: the first instant
# whose deadline has not passed), so DuckDB skips whole row groups. Here orders younger than the
# shortest retention are dropped while they are read, before any join.
rule(
    id="RET-ORDER-OVERDUE",
    severity=Severity.high,
    clauses=("6.1",),
    key="order_id",
    tables=("orders", "accounts", "legal_holds"),
    params=(
        "as_of",
        "deletion_grace_days",
        "policy_order_retention",
        "order_retention_default_years",
        "order_cutoff_default",
        "order_cutoff_latest",
    ),
    what="""
        An order that is neither erased (its personal columns all NULL) nor deleted, whose
        `order_date + order_retention_years + deletion_grace_days` is before as_of, in calendar
        years ({order_retention_years}) and {deletion_grace_days} days. The years come from the
        partner's `accounts.country`, never from `ship_country`. An account under a legal hold
        active at as_of is exempt.
        """,
    why="""
        §6.1 keeps order records only as long as tax and warranty law require, typically 5 to 7
        years depending on the partner's jurisdiction. Keeping them longer keeps personal data
        (who ordered, where it shipped) without a purpose.
        """,
    example="""
        A GB partner's order of 2019-05-01 must be erased by 2025-05-01 + 30 days: audited on
        2025-06-01 it is a finding; audited on 2025-05-31 (the deadline itself) it is not. A DE
        partner's order of the same day is kept until 2029.
        """,
    sql=f"""
        SELECT o.order_id AS record_id, o.account_id AS subject_id,
               printf('order of %s still holds personal data after its %d-year retention for %s and %d days of grace',
                      {day("o.order_date")}, coalesce(r.years, $order_retention_default_years),
                      coalesce(a.country, 'an unknown account'), $deletion_grace_days) AS detail
        FROM orders o
        LEFT JOIN accounts a ON a.account_id = o.account_id
        LEFT JOIN policy_order_retention r ON r.country = a.country
        WHERE o.deleted_at IS NULL AND NOT o._erased
          AND o.order_date < $order_cutoff_latest  -- no country's deadline is later: read no younger order
          AND o.order_date < coalesce(r.cutoff, $order_cutoff_default)
          AND NOT {hold_active_at("o.account_id", "$as_of")}
        """,
)

rule(
    id="RET-ORDER-PREMATURE",
    severity=Severity.high,
    clauses=("6.1", "3.5"),
    key="order_id",
    tables=("orders", "accounts"),
    params=("policy_order_retention", "order_retention_default_years"),
    what="""
        An order whose earliest of `anonymized_at` / `deleted_at` falls before
        `order_date + order_retention_years` of the partner's country ({order_retention_years}):
        the record was destroyed while the law still required it.
        """,
    why="""
        §3.5 and §6.1 promise to keep transaction records for tax and legal obligations.
        Erasing them early breaks that promise as surely as keeping them late breaks the other.
        """,
    example="""
        An FR partner's order of 2022-03-01 anonymized on 2027-01-15 is premature (the 6 years
        end 2028-03-01); anonymized on 2028-03-01 it is not.
        """,
    sql=f"""
        SELECT o.order_id AS record_id, o.account_id AS subject_id,
               printf('order of %s was erased on %s, before its %d-year retention for %s ended',
                      {day("o.order_date")}, {day("least(o.anonymized_at, o.deleted_at)")},
                      coalesce(r.years, $order_retention_default_years),
                      coalesce(a.country, 'an unknown account')) AS detail
        FROM orders o
        LEFT JOIN accounts a ON a.account_id = o.account_id
        LEFT JOIN policy_order_retention r ON r.country = a.country
        WHERE (o.anonymized_at IS NOT NULL OR o.deleted_at IS NOT NULL)  -- read no unerased order further
          AND least(o.anonymized_at, o.deleted_at)
              < o.order_date + to_years(CAST(coalesce(r.years, $order_retention_default_years) AS INTEGER))
        """,
)

rule(
    id="RET-TICKET-OVERDUE",
    severity=Severity.medium,
    clauses=("6.1",),
    key="ticket_id",
    tables=("support_tickets", "legal_holds"),
    params=("ticket_retention_years", "deletion_grace_days", "ticket_cutoff", "as_of"),
    what="""
        A closed support ticket that is not erased, whose `closed_at + ticket_retention_years +
        deletion_grace_days` ({ticket_retention_years} years and {deletion_grace_days} days) is
        before as_of, on an account with no legal hold active at as_of. Open tickets are never
        overdue.
        """,
    why="""
        §6.1 keeps support interactions "generally up to 3 years". Tickets hold free text that
        often carries more personal data than any other table.
        """,
    example="""
        A ticket closed 2022-06-01 10:00 is due for erasure by 2025-07-01 10:00 (3 years and 30
        days); an audit as of 2025-07-02 finds it, as of 2025-07-01 does not.
        """,
    sql=f"""
        SELECT t.ticket_id AS record_id, t.account_id AS subject_id,
               printf('ticket closed on %s still holds personal data after %d years and %d days of grace',
                      {day("t.closed_at")}, $ticket_retention_years, $deletion_grace_days) AS detail
        FROM support_tickets t
        WHERE t.closed_at IS NOT NULL AND NOT t._erased AND t.closed_at < $ticket_cutoff
          AND NOT {hold_active_at("t.account_id", "$as_of")}
        """,
)

rule(
    id="RET-INACTIVE-ACCOUNT",
    severity=Severity.medium,
    clauses=("6.1",),
    key="account_id",
    tables=("accounts", "contacts", "orders", "legal_holds"),
    params=(
        "inactive_after_years",
        "reactivation_grace_years",
        "deletion_grace_days",
        "inactive_cutoff",
        "as_of",
    ),
    what="""
        An account whose last activity — the latest of its `created_at`, its contacts'
        `last_login_at` and its orders' `order_date` — plus `inactive_after_years`, then
        `reactivation_grace_years`, then `deletion_grace_days` ({inactive_after_years} +
        {reactivation_grace_years} years and {deletion_grace_days} days, added in that order) is
        before as_of, while some contact of the account is not erased and no legal hold is active.
        """,
    why="""
        §6.1 lets an inactive account linger for a reactivation period, then starts deletion.
        Contacts of a long-dormant partner are people whose data no longer serves anyone.
        """,
    example="""
        An account created 2018-01-10 whose one contact last logged in 2020-02-01 and which
        never ordered is inactive from 2023-02-01 and due by 2024-03-02 (1 year and 30 days
        later); audited 2024-03-03 with that contact still named, it is a finding.
        """,
    sql=f"""
        WITH activity AS (
            SELECT account_id, max(active_at) AS last_activity FROM (
                SELECT account_id, created_at AS active_at FROM accounts
                UNION ALL SELECT account_id, last_login_at FROM contacts
                UNION ALL SELECT account_id, CAST(order_date AS TIMESTAMP) FROM orders
            ) GROUP BY account_id
        )
        SELECT a.account_id AS record_id, a.account_id AS subject_id,
               printf('account last active on %s still has contacts with personal data after %d + %d years and %d days of grace',
                      {day("act.last_activity")}, $inactive_after_years, $reactivation_grace_years,
                      $deletion_grace_days) AS detail
        FROM accounts a
        JOIN activity act ON act.account_id = a.account_id
        WHERE act.last_activity < $inactive_cutoff
          AND EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.account_id AND NOT c._erased)
          AND NOT {hold_active_at("a.account_id", "$as_of")}
        """,
)

rule(
    id="RET-USAGE-OVERDUE",
    severity=Severity.low,
    clauses=("2.3", "6.1"),
    key="event_id",
    tables=("web_events",),
    params=("usage_retention_months", "deletion_grace_days", "usage_cutoff"),
    what="""
        A web event that is not erased (contact_id, ip_address and user_agent not all NULL)
        whose `occurred_at + usage_retention_months + deletion_grace_days` is before as_of:
        {usage_retention_months} calendar months (a day of month past the target month's end
        clamps to its last day), then {deletion_grace_days} days.
        """,
    why="""
        §2.3 collects usage data to improve the site; it is only useful for a year or so, and
        IP addresses and user agents tie it to people.
        """,
    example="""
        Audited 2026-06-30 with 13 months and 30 days, an event of 2025-04-30 23:59 is overdue
        (its deadline is 2026-06-29 23:59) and one of 2025-05-01 00:00 is not.
        """,
    sql=f"""
        SELECT event_id AS record_id, contact_id AS subject_id,
               printf('web event of %s still holds personal data after %d months and %d days of grace',
                      {day("occurred_at")}, $usage_retention_months, $deletion_grace_days) AS detail
        FROM web_events
        WHERE occurred_at < $usage_cutoff AND NOT _erased
        """,
)

_ERASURE_TABLES = (
    ("accounts", "account_id", "account_id", "anonymized_at IS NOT NULL"),
    ("contacts", "contact_id", "contact_id", "(anonymized_at IS NOT NULL OR deleted_at IS NOT NULL)"),
    ("addresses", "address_id", "account_id", "anonymized_at IS NOT NULL"),
    ("orders", "order_id", "account_id", "(anonymized_at IS NOT NULL OR deleted_at IS NOT NULL)"),
    ("support_tickets", "ticket_id", "account_id", "anonymized_at IS NOT NULL"),
)

rule(
    id="ANON-INCOMPLETE",
    severity=Severity.high,
    clauses=("6.2",),
    key="the row's key",
    tables=("accounts", "contacts", "addresses", "orders", "support_tickets"),
    table="accounts",
    what="""
        A row of accounts, contacts, addresses, orders or support_tickets whose `anonymized_at`
        or `deleted_at` is set while some of its personal columns still hold values. The
        finding names the columns (never their values).
        """,
    why="""
        §6.2 promises deletion "so it cannot be recovered" and anonymization that strips
        identifiable information. A timestamp that says "erased" over data that is still there
        is worse than no erasure: every report built on the timestamp is wrong.
        """,
    example="""
        A contact with `deleted_at = 2025-01-10` whose email is still set is a finding
        (`email` named in the detail); the same contact with every personal column NULL is not.
        """,
    sql="\nUNION ALL\n".join(
        f"""
        SELECT '{table}' AS table_name, {key} AS record_id, {subject} AS subject_id,
               'marked erased but still holds ' || {personal_still_set(table)} AS detail
        FROM {table} WHERE {marked} AND NOT _erased"""
        for table, key, subject, marked in _ERASURE_TABLES
    ),
    checked="SELECT " + " + ".join(f"(SELECT count(*) FROM {t})" for t, *_ in _ERASURE_TABLES) + " AS n",
)

_HELD_TABLES = (
    ("contacts", "contact_id", ("anonymized_at", "deleted_at")),
    ("addresses", "address_id", ("anonymized_at",)),
    ("orders", "order_id", ("anonymized_at", "deleted_at")),
    ("support_tickets", "ticket_id", ("anonymized_at",)),
)

rule(
    id="LEGAL-HOLD-BREACH",
    severity=Severity.critical,
    clauses=("6.2",),
    key="the row's key",
    tables=("contacts", "addresses", "orders", "support_tickets", "legal_holds"),
    table="contacts",
    what="""
        A contacts, addresses, orders or support_tickets row whose `anonymized_at` or
        `deleted_at` falls while a legal hold on its account is active (placed_at <= t and
        released_at NULL or after t).
        """,
    why="""
        §6.2 suspends deletion for legal obligations and disputes. Destroying held records can
        be spoliation of evidence: the most serious retention failure there is.
        """,
    example="""
        A hold placed 2024-01-01 and released 2024-06-01: an order anonymized 2024-03-15 is a
        finding; one anonymized 2024-06-01 (the release instant) is not.
        """,
    sql="""
        WITH erasures AS (
        """
    + "\n            UNION ALL\n".join(
        f"            SELECT '{table}' AS table_name, {key} AS record_id, account_id, {col} AS erased_at "
        f"FROM {table} WHERE {col} IS NOT NULL"
        for table, key, cols in _HELD_TABLES
        for col in cols
    )
    + f"""
        )
        SELECT e.table_name, e.record_id, CASE WHEN e.table_name = 'contacts' THEN e.record_id ELSE e.account_id END AS subject_id,
               printf('erased on %s while legal hold %s on its account was active',
                      {day("min(e.erased_at)")}, min(h.hold_id)) AS detail
        FROM erasures e
        JOIN legal_holds h ON h.account_id = e.account_id AND h.placed_at <= e.erased_at
             AND (h.released_at IS NULL OR h.released_at > e.erased_at)
        GROUP BY e.table_name, e.record_id, e.account_id
        """,
    checked="SELECT " + " + ".join(f"(SELECT count(*) FROM {t})" for t, *_ in _HELD_TABLES) + " AS n",
)
