"""International transfers (§8.2): a safeguard for every transfer out of Europe, and encryption."""

from privacy_audit.rules.registry import Severity, rule
from privacy_audit.rules.sql import day

rule(
    id="XFER-NO-SAFEGUARD",
    severity=Severity.high,
    clauses=("8.2",),
    key="transfer_id",
    tables=("transfers",),
    params=("policy_eea_countries", "policy_adequate_countries"),
    what="""
        A transfer of data about subjects in the `EEA`, the `UK` or `CH` to a
        `destination_country` (trimmed, compared exactly) that is in neither the policy's
        `eea_countries` nor its `adequate_countries`, under a mechanism other than `scc` or
        `bcr`. A claimed `adequacy` to a country the policy does not list as adequate is a
        finding: the claim is what the audit checks. Subjects of region `OTHER` are not
        checked.
        """,
    why="""
        §8.2 promises Standard Contractual Clauses (or Binding Corporate Rules within the group)
        whenever European partners' data goes to a country without an adequacy decision.
        """,
    example="""
        EEA subjects' data to `CN` under `none` or `adequacy` is a finding, under `scc` it is
        not; to `JP` (adequate) or `DE` (EEA) nothing is needed; `OTHER` subjects' data to `CN`
        is not checked.
        """,
    sql=f"""
        SELECT t.transfer_id AS record_id, NULL AS subject_id,
               printf('transfer on %s of %s subjects'' data to %s in %s, neither in the EEA nor adequate, relied on %s instead of SCC or BCR',
                      {day("t.transferred_at")}, t.subject_region, trim(t.recipient),
                      trim(t.destination_country), t.mechanism) AS detail
        FROM transfers t
        WHERE t.subject_region IN ('EEA', 'UK', 'CH')
          AND trim(t.destination_country) NOT IN (SELECT country FROM policy_eea_countries)
          AND trim(t.destination_country) NOT IN (SELECT country FROM policy_adequate_countries)
          AND t.mechanism NOT IN ('scc', 'bcr')
        """,
)

rule(
    id="XFER-UNENCRYPTED",
    severity=Severity.high,
    clauses=("8.2",),
    key="transfer_id",
    tables=("transfers",),
    what="""
        An international transfer with `encrypted = false`, whatever its destination, subject
        region or mechanism.
        """,
    why="""
        §8.2: "All data transferred internationally is protected using encryption".
        """,
    example="""
        A transfer to `US` under `scc` with `encrypted = false` is a finding; the same transfer
        encrypted is not.
        """,
    sql=f"""
        SELECT transfer_id AS record_id, NULL AS subject_id,
               printf('transfer on %s to %s in %s was not encrypted',
                      {day("transferred_at")}, trim(recipient), trim(destination_country)) AS detail
        FROM transfers
        WHERE NOT encrypted
        """,
)
