"""Sharing with third parties (§4.1, §4.4): only approved processors, only for allowed purposes.

Recipients and purposes compare exactly (case-sensitively) after trimming surrounding spaces;
`;`-separated lists are split and each item trimmed, empty items ignored.
"""

from privacy_audit.rules.registry import Severity, rule
from privacy_audit.rules.sql import day

_FORBIDDEN = "(SELECT trim(f.purpose) FROM policy_forbidden_purposes f)"

rule(
    id="SHARE-SALE",
    severity=Severity.critical,
    clauses=("4.4",),
    key="share_id",
    tables=("data_shares",),
    params=("policy_forbidden_purposes",),
    what="""
        A data share whose purpose (trimmed) is one of the policy's `forbidden_share_purposes`
        ({forbidden_share_purposes}), whoever the recipient is. Purposes compare exactly after trimming.
        """,
    why="""
        §4.4: "Parure Belle does not sell, rent, or otherwise provide your personal or business
        information to third parties for marketing". One such share breaks the policy's most
        unequivocal promise.
        """,
    example="""
        A share to `AdNet` for purpose ` advertising ` is a finding; one for `Advertising` or
        `advertising_review` is not this rule's (SHARE-PURPOSE judges it against the
        recipient's allowed purposes).
        """,
    sql=f"""
        SELECT s.share_id AS record_id, NULL AS subject_id,
               printf('share of %d records with %s on %s was for purpose %s, which the policy forbids',
                      s.record_count, trim(s.recipient), {day("s.shared_at")}, trim(s.purpose)) AS detail
        FROM data_shares s
        WHERE trim(s.purpose) IN {_FORBIDDEN}
        """,
)

rule(
    id="SHARE-UNAPPROVED",
    severity=Severity.high,
    clauses=("4.1",),
    key="share_id",
    tables=("data_shares", "processors"),
    what="""
        A data share whose recipient (trimmed) is not in the `processors` register, or whose
        data processing agreement was not signed by the time of the share: `dpa_signed_at`
        NULL or later than `shared_at` (signed at the very instant of the share is fine). If
        the register lists a recipient more than once, its earliest signature counts. Shares
        for forbidden purposes are judged here too.
        """,
    why="""
        §4.1 shares data only with vetted service providers "contractually obligated to protect
        your data". No register entry or no signed agreement means no such obligation.
        """,
    example="""
        A share to `ShipFast` on 2025-02-01 while its DPA was signed 2025-03-01 is a finding;
        the same share on 2025-03-01 is not. A share to `Unknown Ltd` is always a finding.
        """,
    sql=f"""
        WITH register AS (
            SELECT trim(recipient) AS recipient, min(dpa_signed_at) AS dpa_signed_at
            FROM processors GROUP BY trim(recipient)
        )
        SELECT s.share_id AS record_id, NULL AS subject_id,
               printf('share of %d records with %s on %s %s', s.record_count, trim(s.recipient),
                      {day("s.shared_at")},
                      CASE WHEN r.recipient IS NULL THEN 'went to a recipient not in the processor register'
                           WHEN r.dpa_signed_at IS NULL THEN 'went to a processor with no signed agreement'
                           ELSE 'came before its processing agreement was signed on ' || {day("r.dpa_signed_at")}
                      END) AS detail
        FROM data_shares s
        LEFT JOIN register r ON r.recipient = trim(s.recipient)
        WHERE r.recipient IS NULL OR r.dpa_signed_at IS NULL OR r.dpa_signed_at > s.shared_at
        """,
)

rule(
    id="SHARE-PURPOSE",
    severity=Severity.high,
    clauses=("4.1",),
    key="share_id",
    tables=("data_shares", "processors"),
    params=("policy_forbidden_purposes",),
    what="""
        A data share to a registered recipient, for a purpose that is not forbidden (those are
        SHARE-SALE's), that is not among the recipient's `allowed_purposes`. The list is split
        on `;` and each item trimmed; the share's purpose is trimmed and compared exactly
        (case-sensitively). A recipient listed more than once may use any purpose of any of
        its rows. Unregistered recipients are SHARE-UNAPPROVED's.
        """,
    why="""
        §4.1: providers use data "only for the purposes we specify". A payment processor
        receiving data for analytics is doing something nobody agreed to.
        """,
    example="""
        `PayCo` allows `payment; fraud_prevention`: a share for ` fraud_prevention` passes, one
        for `analytics` or `Payment` is a finding, one for `sale` is left to SHARE-SALE.
        """,
    sql=f"""
        WITH items AS (
            SELECT trim(recipient) AS recipient, unnest(string_split(allowed_purposes, ';')) AS purpose
            FROM processors
        ),
        allowed AS (SELECT DISTINCT recipient, trim(purpose) AS purpose FROM items WHERE trim(purpose) <> ''),
        registered AS (SELECT DISTINCT trim(recipient) AS recipient FROM processors)
        SELECT s.share_id AS record_id, NULL AS subject_id,
               printf('share of %d records with %s on %s was for purpose %s, which is not among the recipient''s allowed purposes',
                      s.record_count, r.recipient, {day("s.shared_at")}, trim(s.purpose)) AS detail
        FROM data_shares s
        JOIN registered r ON r.recipient = trim(s.recipient)
        WHERE trim(s.purpose) NOT IN {_FORBIDDEN}
          AND NOT EXISTS (SELECT 1 FROM allowed a WHERE a.recipient = r.recipient AND a.purpose = trim(s.purpose))
        """,
)

rule(
    id="SHARE-ANALYTICS-IDENTIFIABLE",
    severity=Severity.high,
    clauses=("4.1",),
    key="share_id",
    tables=("data_shares",),
    what="""
        A data share whose `recipient_category` (trimmed) is `analytics` and whose `anonymized`
        is false.
        """,
    why="""
        §4.1 shares data with analytics providers "in aggregated or anonymized formats".
        Identifiable records sent for analytics serve no purpose anonymized data would not.
        """,
    example="""
        A share of 5000 records to an analytics recipient with `anonymized = false` is a
        finding; the same share anonymized, or an identifiable share to a shipping partner, is
        not.
        """,
    sql=f"""
        SELECT share_id AS record_id, NULL AS subject_id,
               printf('share of %d records with analytics recipient %s on %s was not anonymized',
                      record_count, trim(recipient), {day("shared_at")}) AS detail
        FROM data_shares
        WHERE trim(recipient_category) = 'analytics' AND NOT anonymized
        """,
)
