"""Minimization and security (§5.1, §5.2, §10.1): data that should never have been kept."""

from privacy_audit.rules.registry import Severity, rule

# A run of digit groups joined by single spaces or dashes; a card-shaped number is some of its
# consecutive groups (rules.md, "card-shaped number").
_DIGIT_RUN = r"\d+(?:[ -]\d+)*"
# Cheap prefilter: at least 13 digits in such a run (RE2 skips most texts without splitting, and
# no checksum is computed for them).
_THIRTEEN_DIGITS = r"\d(?:[ -]?\d){12}"
# Group lengths of the grouped card shapes: 4-4-4-4, 4-4-4-4-d, 4-4-4-d (d = 1-3), 4-6-5, 4-6-4.
_CARD_GROUPS = r"^4-4-4-(4|4-[1-3]|[1-3])$|^4-6-[45]$"
# The longest shape has five groups: no window of a run need be wider.
_MAX_GROUPS = 5


def _luhn(digits: str) -> str:
    """SQL: true when the digit string ``digits`` passes the Luhn checksum."""
    d = f"CAST(substr({digits}, length({digits}) - k, 1) AS INTEGER)"
    return (
        f"list_sum(list_transform(range(length({digits})), lambda k: CASE WHEN k % 2 = 0 THEN {d} "
        f"WHEN {d} >= 5 THEN 2 * {d} - 9 ELSE 2 * {d} END)) % 10 = 0"
    )


rule(
    id="MIN-UNDECLARED-COLUMN",
    severity=Severity.medium,
    clauses=("5.1",),
    key="table.column",
    tables=(),
    params=("policy_data_inventory", "contract_columns"),
    table="export_columns",
    what="""
        A column of an export file that neither the export contract nor the policy's
        `data_inventory` declares. One finding per column; `record_id` is `table.column`.
        """,
    why="""
        §5.1 promises to collect "only the information necessary". A column nobody declared is
        data nobody decided to keep, and nobody audits.
        """,
    example="""
        `contacts.csv` with a `date_of_birth_verified` column: a finding, unless the policy's
        data inventory lists `contacts: [date_of_birth_verified]`.
        """,
    sql="""
        SELECT e.table_name, e.table_name || '.' || e.column_name AS record_id, NULL AS subject_id,
               'column ' || e.table_name || '.' || e.column_name
               || ' is declared by neither the export contract nor the data inventory' AS detail
        FROM export_columns e
        WHERE NOT EXISTS (SELECT 1 FROM contract_columns c
                          WHERE c.table_name = e.table_name AND c.column_name = e.column_name)
          AND NOT EXISTS (SELECT 1 FROM policy_data_inventory i
                          WHERE i.table_name = e.table_name AND i.column_name = e.column_name)
        """,
    checked="SELECT count(*) AS n FROM export_columns",
)

rule(
    id="MIN-CARD-NUMBER",
    severity=Severity.critical,
    clauses=("5.1",),
    key="payment_id",
    tables=("payments", "orders"),
    table="payments",
    what="""
        A payment whose `card_number` holds more than four digits (any characters other than
        digits, such as `*` masks, spaces and dashes, are ignored when counting).
        """,
    why="""
        §5.1 promises PCI DSS compliance: a full card number (PAN) may never be stored by the
        platform; at most the last four digits may be shown.
        """,
    example="""
        `**** **** **** 4242` is fine; `4242 4242 4242 4242` and `42424` are findings.
        """,
    sql="""
        SELECT p.payment_id AS record_id, o.account_id AS subject_id,
               printf('card_number holds %d digits; at most the last four may be stored', p.digits) AS detail
        FROM (SELECT payment_id, order_id, length(regexp_replace(card_number, '[^0-9]', '', 'g')) AS digits
              FROM payments WHERE card_number IS NOT NULL) p
        LEFT JOIN orders o ON o.order_id = p.order_id
        WHERE p.digits > 4
        """,
)

rule(
    id="MIN-CARD-IN-TEXT",
    severity=Severity.high,
    clauses=("5.1", "5.2"),
    key="ticket_id",
    tables=("support_tickets",),
    what="""
        A support ticket whose subject or body holds a card-shaped number that passes the Luhn
        checksum. Card-shaped (version 2): 13 to 19 digits, first digit 2 to 6 (the card
        industries), written either as one unbroken run of digits, or as groups joined by one
        kind of separator, all single spaces or all single dashes, in the shape 4-4-4-4,
        4-4-4-4-d or 4-4-4-d (d is 1 to 3 digits), 4-6-5 or 4-6-4. The groups may sit inside a
        longer run of digit groups ("card 4111 1111 1111 1111 2 pcs" is caught), but groups of
        other shapes never join them.
        """,
    why="""
        §5.1 and §5.2 warn that email is not a channel for sensitive data, and PCI DSS forbids
        keeping card numbers in free text just as in a card column. Partners do paste them.
        Phone numbers written in pairs and run together with a date ("33 6 35 94 29 61
        2024-04-11") pass Luhn one time in ten: read as one number, they made version 1 of
        this rule report ordinary tickets.
        """,
    example="""
        "Please charge 4111-1111-1111-1111" and "Amex 3782 822463 10005" are findings; "order
        4111 1111 1111 1112" (fails Luhn), "5555-5555 5555-4444" (mixed separators), a
        12-digit phone number and "33 6 35 94 29 61 2024-04-11" are not.
        """,
    sql=f"""
        WITH texts AS (
            SELECT ticket_id, account_id, 'subject' AS field, subject AS txt FROM support_tickets
            WHERE regexp_matches(subject, '{_THIRTEEN_DIGITS}')
            UNION ALL
            SELECT ticket_id, account_id, 'body' AS field, body AS txt FROM support_tickets
            WHERE regexp_matches(body, '{_THIRTEEN_DIGITS}')
        ),
        runs AS (
            SELECT ticket_id, account_id, field, string_split_regex(run, '[ -]') AS groups,
                   regexp_extract_all(run, '[ -]') AS seps
            FROM (SELECT ticket_id, account_id, field, unnest(regexp_extract_all(txt, '{_DIGIT_RUN}')) AS run
                  FROM texts)
            WHERE regexp_matches(run, '{_THIRTEEN_DIGITS}')
        ),
        starts AS (SELECT *, unnest(range(1, array_length(groups) + 1)) AS i FROM runs),
        windows AS (
            SELECT *, unnest(range(i, least(array_length(groups), i + {_MAX_GROUPS - 1}) + 1)) AS j FROM starts
        ),
        candidates AS (
            SELECT ticket_id, account_id, field, i, j, array_to_string(groups[i:j], '') AS digits,
                   array_to_string(list_transform(groups[i:j], lambda g: CAST(length(g) AS VARCHAR)), '-') AS shape,
                   array_to_string(seps[i:j - 1], '') AS joints
            FROM windows
        )
        SELECT ticket_id AS record_id, account_id AS subject_id,
               'a Luhn-valid card number appears in the ticket ' || string_agg(DISTINCT field, ' and ' ORDER BY field) AS detail
        FROM candidates
        WHERE length(digits) BETWEEN 13 AND 19 AND substr(digits, 1, 1) BETWEEN '2' AND '6'
          AND (i = j OR (joints IN (repeat(' ', j - i), repeat('-', j - i))
                         AND regexp_matches(shape, '{_CARD_GROUPS}')))
          AND {_luhn("digits")}
        GROUP BY ticket_id, account_id
        """,
)

rule(
    id="SEC-PASSWORD-STORAGE",
    severity=Severity.critical,
    clauses=("5.1",),
    key="contact_id",
    tables=("contacts",),
    params=("policy_password_prefixes",),
    what="""
        A contact whose `password_hash` is set but does not start (case-sensitively) with one
        of the policy's accepted scheme prefixes: {password_schemes}.
        """,
    why="""
        §5.1 promises industry-standard protection of account credentials. Unsalted digests
        (md5, sha1 hex) and plaintext fall to a dictionary in seconds once a table leaks.
        """,
    example="""
        `$2b$12$…` and `$argon2id$v=19$…` pass; `5f4dcc3b5aa765d61d8327deb882cf99` (md5),
        `$2x$…`, `$argon2d$…`, `pbkdf2_sha1$…` and `hunter2` are findings.
        """,
    sql="""
        SELECT c.contact_id AS record_id, c.contact_id AS subject_id,
               'password_hash is not stored in an accepted scheme' AS detail
        FROM contacts c
        WHERE c.password_hash IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM policy_password_prefixes p WHERE starts_with(c.password_hash, p.prefix))
        """,
)

rule(
    id="CHILD-MINOR",
    severity=Severity.high,
    clauses=("10.1",),
    key="contact_id",
    tables=("contacts",),
    params=("minimum_age",),
    what="""
        A contact that is not erased, has a `birth_date`, and had not completed
        `minimum_age` ({minimum_age}) years on the date of its `created_at`: `birth_date +
        minimum_age years > created_at's date` (calendar years; someone born 29 February turns
        {minimum_age} on 28 February).
        """,
    why="""
        §10.1: the platform does not knowingly collect data from anyone under 18 and deletes it
        when it learns of it. A birth date on file is exactly that knowledge.
        """,
    example="""
        Born 2008-03-01: a login created 2026-03-01 is fine (18 that day); one created
        2026-02-28 is a finding.
        """,
    sql="""
        SELECT contact_id AS record_id, contact_id AS subject_id,
               printf('contact was under the minimum age of %d when created', $minimum_age) AS detail
        FROM contacts
        WHERE NOT _erased AND birth_date IS NOT NULL
          AND birth_date + to_years(CAST($minimum_age AS INTEGER)) > CAST(created_at AS DATE)
        """,
)
