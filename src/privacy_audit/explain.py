"""Behind one finding: the facts a rule weighed for one record, identifiers and dates only.

An auditor who doubts a finding (or its absence) asks ``explain(rule_id, record_id, …)``. The
verdict is the rule's own SQL run over the export and filtered to that record, so it cannot
disagree with the audit; the facts beside it are the record's row and, per table, one facts
query built from the same SQL fragments the rules use (``rules.sql``: holds active at an
instant, the row in force at an instant) and deadlines from the policy's own calendar steps
(``Policy.order_steps`` …). Nothing re-decides a rule in Python.

Only identifiers, dates, enum values, flags and counts are shown: a personal column is named
when it is still set, never shown, and free-text columns are left out (``SHOWN`` decides).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from privacy_audit.audit import skip_reason
from privacy_audit.contract import BOOLEAN, DATE, INTEGER, TABLES, TIMESTAMP, Column, Table
from privacy_audit.engine import Engine, make_engine
from privacy_audit.errors import InputError, closest
from privacy_audit.export import open_export
from privacy_audit.policy import Policy, Step, add_steps, load_policy, midnight
from privacy_audit.rules import REGISTRY, Rule
from privacy_audit.rules.consent import COOKIE_CHOICES
from privacy_audit.rules.params import bind, used_names
from privacy_audit.rules.rights import STOPPING
from privacy_audit.rules.sql import history_spans, hold_active_at, in_force_at, moment, personal_still_set
from privacy_audit.sources.mapping import Mapping

Fact = tuple[str, str]


def shown(table: Table, column: Column) -> bool:
    """Whether a column's values may be shown: identifiers, dates, enums, codes, flags, counts.

    Personal columns never are; neither are free texts (a hold's reason, a justification).
    """
    if column.name in table.personal:
        return False
    return (
        column.name == table.key
        or column.name.endswith("_id")
        or column.enum is not None
        or column.pattern is not None
        or column.type in (DATE, TIMESTAMP, BOOLEAN, INTEGER)
    )


_ACCOUNT_OF = {  # the account a record belongs to, as the retention rules find it
    "orders": "r.account_id",
    "support_tickets": "r.account_id",
    "contacts": "r.account_id",
    "addresses": "r.account_id",
    "accounts": "r.account_id",
    "web_events": "(SELECT c.account_id FROM contacts c WHERE c.contact_id = r.contact_id)",
}


def _holds(account: str) -> str:
    """The account's holds (id, placed, released) and whether one is active at as_of."""
    return (
        f"(SELECT string_agg(h.hold_id || ' placed ' || {moment('h.placed_at')}"
        f" || coalesce(' released ' || {moment('h.released_at')}, ', not released'),"
        f" '; ' ORDER BY h.placed_at) FROM legal_holds h WHERE h.account_id = {account}) AS legal_holds, "
        f"{hold_active_at(account, '$as_of')} AS hold_active_at_as_of"
    )


def _exceptions(table: str) -> str:
    return (
        "(SELECT string_agg(x.exception_id || ' (' || x.reason || ', until ' || CAST(x.retain_until AS VARCHAR)"
        " || ', request ' || x.request_id || ')', '; ' ORDER BY x.exception_id) FROM retention_exceptions x"
        f" WHERE x.table_name = '{table}' AND x.record_id = $record_id) AS retention_exceptions"
    )


_PREFERENCE = history_spans(
    "communication_preferences", ("contact_id", "topic"), "updated_at", {"opted_in": "bool_and(opted_in)"}
)
_CONSENT = history_spans("cookie_consents", ("session_id",), "recorded_at", COOKIE_CHOICES)

# Per table, the derived facts about the record ``$record_id`` (aliased ``r``): one row.
FACTS: dict[str, str] = {
    "orders": f"""
        SELECT a.country AS account_country, {_holds("r.account_id")}, {_exceptions("orders")}
        FROM orders r LEFT JOIN accounts a ON a.account_id = r.account_id WHERE r.order_id = $record_id""",
    "support_tickets": f"""
        SELECT {_holds("r.account_id")}, {_exceptions("support_tickets")}
        FROM support_tickets r WHERE r.ticket_id = $record_id""",
    "contacts": f"""
        SELECT {_holds("r.account_id")}, {_exceptions("contacts")},
               (SELECT string_agg(q.request_id || ' ' || q.kind || ' ' || q.status, '; ' ORDER BY q.received_at)
                FROM privacy_requests q WHERE q.contact_id = r.contact_id) AS privacy_requests
        FROM contacts r WHERE r.contact_id = $record_id""",
    "accounts": f"""
        SELECT greatest(r.created_at,
                        (SELECT max(c.last_login_at) FROM contacts c WHERE c.account_id = r.account_id),
                        (SELECT CAST(max(o.order_date) AS TIMESTAMP) FROM orders o
                         WHERE o.account_id = r.account_id)) AS last_activity,
               (SELECT count(*) FROM contacts c WHERE c.account_id = r.account_id AND NOT c._erased)
                   AS contacts_not_erased,
               {_holds("r.account_id")}
        FROM accounts r WHERE r.account_id = $record_id""",
    "web_events": f"""
        SELECT c.consent_id AS consent_in_force, c.recorded_at AS consent_recorded_at,
               c.analytics AS consent_analytics, c.marketing AS consent_marketing,
               c.personalization AS consent_personalization, c.do_not_track AS consent_do_not_track,
               {_holds(_ACCOUNT_OF["web_events"])}, {_exceptions("web_events")}
        FROM web_events r
        LEFT JOIN (SELECT s.*, (SELECT min(k.consent_id) FROM cookie_consents k
                                WHERE k.session_id = s.session_id AND k.recorded_at = s.recorded_at) AS consent_id
                   FROM ({_CONSENT}) s) c
            ON c.session_id = r.session_id AND {in_force_at("c", "recorded_at", "r.occurred_at")}
        WHERE r.event_id = $record_id""",
    "email_sends": f"""
        WITH sends AS (
            SELECT *, coalesce(topic, CASE WHEN kind = 'survey' THEN 'surveys' END) AS send_topic
            FROM email_sends WHERE send_id = $record_id
        )
        SELECT r.send_topic AS topic_checked, p.opted_in AS preference_opted_in,
               p.updated_at AS preference_recorded_at,
               (SELECT string_agg(q.request_id || ' ' || q.kind || ' completed '
                                  || {moment("q.completed_at")}, '; ' ORDER BY q.completed_at)
                FROM privacy_requests q
                WHERE q.contact_id = r.contact_id AND q.status = 'completed' AND q.kind IN {STOPPING}
                  AND q.completed_at < r.sent_at) AS completed_stop_requests_before,
               (SELECT {moment("max(o.updated_at)")} FROM communication_preferences o
                WHERE o.contact_id = r.contact_id AND o.topic = r.send_topic AND o.opted_in
                  AND o.updated_at <= r.sent_at) AS last_opt_in_at_or_before
        FROM sends r
        LEFT JOIN ({_PREFERENCE}) p
            ON p.contact_id = r.contact_id AND p.topic = r.send_topic
           AND {in_force_at("p", "updated_at", "r.sent_at")}""",
    "privacy_requests": """
        SELECT CAST(coalesce(r.completed_at, $as_of) - r.received_at AS VARCHAR) AS time_to_answer,
               r.completed_at IS NULL AS still_open_at_as_of,
               CAST(r.extension_notified_at - r.received_at AS VARCHAR) AS time_to_extension_notice,
               (SELECT string_agg(x.exception_id || ' ' || x.table_name || ' ' || x.record_id, '; '
                                  ORDER BY x.exception_id)
                FROM retention_exceptions x WHERE x.request_id = r.request_id) AS retention_exceptions
        FROM privacy_requests r WHERE r.request_id = $record_id""",
    "staff_access_log": """
        SELECT s.role AS staff_role, s.active_from AS staff_active_from, s.active_to AS staff_active_to,
               s.last_training_at AS staff_last_training_at
        FROM staff_access_log r LEFT JOIN staff s ON s.staff_id = r.staff_id WHERE r.access_id = $record_id""",
    "retention_exceptions": """
        SELECT q.kind AS request_kind, q.status AS request_status, q.contact_id AS request_contact
        FROM retention_exceptions r LEFT JOIN privacy_requests q ON q.request_id = r.request_id
        WHERE r.exception_id = $record_id""",
}


@dataclass(frozen=True)
class Deadline:
    """An erasure deadline: a fact of the record (``start``) plus the policy's calendar steps."""

    start: str
    steps: Callable[[Policy, dict[str, object]], list[Step]]

    def of(self, policy: Policy, facts: dict[str, object]) -> datetime | None:
        moment = facts.get(self.start)
        if moment is None:
            return None
        if isinstance(moment, date) and not isinstance(moment, datetime):
            moment = datetime(moment.year, moment.month, moment.day)
        assert isinstance(moment, datetime)
        return add_steps(moment, self.steps(policy, facts))

    def describe(self, policy: Policy, facts: dict[str, object], as_of: date) -> str:
        """E.g. "2026-10-31 = order_date + 6 years + 30 days, missed as of 2026-11-01"."""
        deadline = self.of(policy, facts)
        if deadline is None:
            return f"none ({self.start} is not set)"
        steps = " + ".join(f"{n} {unit}" for unit, n in self.steps(policy, facts))
        missed = "missed" if deadline < midnight(as_of) else "not missed"
        return f"{_text(deadline)} = {self.start} + {steps}, {missed} as of {as_of}"


DEADLINES: dict[str, Deadline] = {
    "orders": Deadline("order_date", lambda p, f: p.order_steps(_country(f))),
    "support_tickets": Deadline("closed_at", lambda p, _f: p.ticket_steps()),
    "accounts": Deadline("last_activity", lambda p, _f: p.inactive_steps()),
    "web_events": Deadline("occurred_at", lambda p, _f: p.usage_steps()),
    "retention_exceptions": Deadline("retain_until", lambda p, _f: [("days", p.deletion_grace_days)]),
}
"""Which deadline a record of a table has (missed when it is before as_of)."""


def _country(facts: dict[str, object]) -> str | None:
    country = facts.get("account_country")
    return country if isinstance(country, str) else None


@dataclass(frozen=True)
class Explanation:
    """One record under one rule: the verdict, the facts behind it, the policy numbers used."""

    rule: Rule
    table: str
    record_id: str
    as_of: date
    findings: tuple[str, ...]  # the rule's detail for this record; empty when it is no finding
    facts: tuple[Fact, ...]
    policy: tuple[Fact, ...]

    @property
    def is_finding(self) -> bool:
        return bool(self.findings)

    def lines(self) -> list[str]:
        """The explanation as plain lines for a terminal or a notebook cell."""
        head = f"{self.rule.id} · {self.table} {self.record_id} · as of {self.as_of}"
        verdict = [f"finding: {d}" for d in self.findings] or [
            f"not a finding: the rule's query does not select this record as of {self.as_of}"
        ]
        return [
            head,
            *verdict,
            "facts:",
            *(
                [f"  {k}: {v}" for k, v in self.facts]
                or [f"  (this rule's record ids, {self.rule.key}, are no one row's key)"]
            ),
            "policy numbers the rule uses:",
            *([f"  {k}: {v}" for k, v in self.policy] or ["  (none)"]),
        ]


def explain(
    rule_id: str,
    record_id: str,
    export_dir: str | Path,
    as_of: date,
    *,
    policy_file: Path | None = None,
    mapping: Mapping | None = None,
    table: str | None = None,
    engine: Engine | None = None,
) -> Explanation:
    """Why ``record_id`` is (or is not) a finding of ``rule_id`` as of ``as_of``.

    Raises ``InputError`` for an unknown rule (with a did-you-mean), an unknown record (naming
    the table and key), a table the rule needs that the export lacks, or unusable input.
    """
    rule = _rule(rule_id)
    policy, _ = load_policy(policy_file)
    engine = engine or make_engine()
    export = open_export(export_dir, engine, mapping)
    reason = skip_reason(rule, export)
    if reason:
        raise InputError(str(export_dir), expected=f"the tables {rule.id} reads ({reason})")
    bound = bind([*rule.params, *PARAMETER_NAMES], policy, as_of)
    for name, lookup in bound.tables.items():
        engine.register(name, lookup)
    values = {**bound.values, "record_id": record_id}
    where = _table_of(rule, record_id, table, engine)
    facts: list[Fact] = []
    if where:
        facts = _row_facts(engine, where, values, policy, as_of)
    findings = engine.query(
        f"SELECT detail FROM ({rule.sql}) AS f WHERE record_id = $record_id"
        + (
            " AND table_name = $table_name"
            if where and "table_name" in _columns(engine, rule, values)
            else ""
        )
        + " ORDER BY detail",
        {**values, "table_name": where},
    )
    named = [(n, bound.values[n]) for n in rule.params if n in bound.values]
    lookups = [(n, "(a table derived from the policy file)") for n in rule.params if n in bound.tables]
    policy_facts = [(n, _text(v)) for n, v in named] + lookups
    return Explanation(
        rule,
        where or rule.table,
        record_id,
        as_of,
        tuple(str(d) for d in findings.column("detail").to_pylist()),
        tuple(facts),
        tuple(policy_facts),
    )


PARAMETER_NAMES = sorted({n for sql in FACTS.values() for n in used_names(sql)} - {"record_id"})
"""The policy parameters the facts queries read (as_of, for holds in force at the audit date)."""


def _rule(rule_id: str) -> Rule:
    rule = REGISTRY.get(rule_id.strip().upper())
    if rule is None:
        close = closest(rule_id.strip().upper(), REGISTRY)
        hint = f" (did you mean {close}?)" if close else " (see `privacy-audit rules`)"
        raise InputError(f"rule {rule_id}", expected=f"a rule id of the catalogue{hint}")
    return rule


def _table_of(rule: Rule, record_id: str, table: str | None, engine: Engine) -> str | None:
    """The table whose key holds ``record_id``, among those the rule finds records in.

    None for a rule whose record ids are not one table's key (``table.column``,
    ``contact_id|version``): only its verdict is shown then.
    """
    if table:
        if table not in rule.tables or not TABLES[table].key:
            raise InputError(
                f"--table {table}", expected=f"a table {rule.id} reads ({', '.join(rule.tables)})"
            )
        keyed = [table]
    elif rule.table in TABLES and TABLES[rule.table].key == rule.key:
        keyed = [rule.table]
    elif rule.key == "the row's key":  # a rule over several tables: the record is a row of one
        keyed = list(rule.tables)
    else:
        return None
    found = [
        t
        for t in keyed
        if engine.query(
            f"SELECT count(*) AS n FROM {t} WHERE {TABLES[t].key} = $record_id", {"record_id": record_id}
        )
        .column(0)[0]
        .as_py()
    ]
    if not found:
        if len(keyed) == 1:
            raise InputError(
                f"table {keyed[0]}", column=TABLES[keyed[0]].key, expected="a row with this record id"
            )
        where = ", ".join(f"{t}.{TABLES[t].key}" for t in keyed)
        raise InputError(f"tables {', '.join(keyed)}", key=where, expected="a row with this record id")
    if len(found) > 1:
        raise InputError(
            f"tables {', '.join(found)}", expected="one table holding this record id (say which with --table)"
        )
    return found[0]


def _columns(engine: Engine, rule: Rule, values: dict[str, object]) -> list[str]:
    """The columns the rule's query returns (read from a query that returns no row)."""
    return engine.query(f"SELECT * FROM ({rule.sql}) AS f LIMIT 0", values).column_names


def _row_facts(
    engine: Engine, table: str, values: dict[str, object], policy: Policy, as_of: date
) -> list[Fact]:
    spec = TABLES[table]
    columns = [c.name for c in spec.columns if shown(spec, c)]
    personal = f", {personal_still_set(table)} AS personal_columns_set" if spec.personal else ""
    row = engine.query(
        f"SELECT {', '.join(columns)}{personal} FROM {table} WHERE {spec.key} = $record_id LIMIT 1", values
    ).to_pylist()[0]
    if table in FACTS:
        row.update(engine.query(FACTS[table], values).to_pylist()[0])
    facts = [(k, _text(v)) for k, v in row.items()]
    if table in DEADLINES:
        facts.append(("erasure_deadline", DEADLINES[table].describe(policy, row, as_of)))
    return facts


def _text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds").removesuffix(" 00:00:00")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if value != "" else "—"
