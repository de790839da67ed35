"""Per record of a subject: why it is kept, until when, and what a deletion request must do.

The deadlines are the catalogue's (shared/spec/rules.md): the same anchors and periods as the
RET-* rules and the policy model's calendar arithmetic, computed for a handful of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from privacy_audit.contract import TABLES
from privacy_audit.policy import Policy, add_steps, midnight
from privacy_audit.subject.linkage import SHARED_TABLES, Holding, record_ids

PURPOSES = {
    "accounts": "3.2",
    "contacts": "3.2",
    "addresses": "3.1",
    "legal_holds": "3.5, 6.2",
    "orders": "3.1, 3.5, 6.1",
    "order_items": "3.1, 3.5, 6.1",
    "payments": "3.1, 3.5, 6.1",
    "support_tickets": "3.3",
    "web_events": "2.3, 3.4",
    "cookie_consents": "2.4, 7.4",
    "communication_preferences": "3.3, 7.2",
    "email_sends": "3.3",
    "privacy_requests": "7.1, 7.3",
    "retention_exceptions": "6.2, 7.3",
    "staff_access_log": "5.1",
}
"""Table → the policy sections whose purpose permits keeping its records."""

Row = dict[str, Any]

KEEP_REASONS = frozenset(
    {"tax", "legal_hold", "fraud_prevention", "pending_order", "dispute", "shared_account"}
)
"""Why a record survives a deletion request: retention_exceptions' reasons, or account data of others."""


@dataclass(frozen=True)
class Deadline:
    """When a record's retention ends, the rule that enforces it, and how it was computed."""

    at: date | datetime
    rule: str
    basis: str


@dataclass(frozen=True)
class Step:
    """One row of the erasure plan."""

    table_name: str
    record_id: str
    action: str  # "erase" or "keep"
    columns: tuple[str, ...]
    reason: str
    until: date | None


@dataclass(frozen=True)
class Assessed:
    """One held record: what the subject is told about it, and its plan step if it is personal."""

    record_id: str
    personal_set: tuple[str, ...]
    purpose: str
    deadline: Deadline | None
    overdue: bool
    holds: tuple[str, ...]
    exceptions: tuple[Row, ...]
    step: Step | None


# --- Deadlines: the RET-* rules' anchors and periods, per row, with the policy model's own
# --- calendar arithmetic (policy.add_steps) and per-country years (years_for).


def _order_deadline(policy: Policy, order_date: date, country: str | None) -> Deadline:
    years = policy.order_retention_years.years_for(country)
    return Deadline(
        add_steps(midnight(order_date), [("years", years)]).date(),
        "RET-ORDER-OVERDUE",
        f"order_date + {years} years ({country})",
    )


def _deadline(policy: Policy, holding: Holding, table: str, row: Row) -> Deadline | None:
    if table == "orders":
        return _order_deadline(policy, row["order_date"], holding.countries.get(row["account_id"]))
    if table == "support_tickets" and row["closed_at"] is not None:
        years = policy.ticket_retention_years
        return Deadline(
            add_steps(row["closed_at"], [("years", years)]),
            "RET-TICKET-OVERDUE",
            f"closed_at + {years} years",
        )
    if table == "web_events":
        months = policy.usage_retention_months
        return Deadline(
            add_steps(row["occurred_at"], [("months", months)]),
            "RET-USAGE-OVERDUE",
            f"occurred_at + {months} months",
        )
    if table in ("accounts", "contacts") and holding.last_activity is not None:
        idle, grace = policy.inactive_after_years, policy.reactivation_grace_years
        return Deadline(
            add_steps(holding.last_activity, [("years", idle), ("years", grace)]),
            "RET-INACTIVE-ACCOUNT",
            f"last activity of the account + {idle} + {grace} years",
        )
    return None


def _overdue(policy: Policy, deadline: Deadline | None, as_of: datetime) -> bool:
    if deadline is None:
        return False
    moment = deadline.at if isinstance(deadline.at, datetime) else midnight(deadline.at)
    return add_steps(moment, [("days", policy.deletion_grace_days)]) < as_of


def _hold_active(hold: Row, at: datetime) -> bool:
    released = hold["released_at"]
    return hold["placed_at"] <= at and (released is None or released > at)


# --- end of the policy computations


def assess(holding: Holding, policy: Policy, as_of: date) -> dict[str, list[Assessed]]:
    """Every held record, table by table, with its purpose, deadline, holds, exceptions and step."""
    start = midnight(as_of)
    holds = [h for h in holding.tables["legal_holds"].to_pylist() if _hold_active(h, start)]
    hold_ids = tuple(str(h["hold_id"]) for h in holds)
    exceptions: dict[tuple[str, str], list[dict[str, object]]] = {}
    for x in holding.tables["retention_exceptions"].to_pylist():
        exceptions.setdefault((x["table_name"], x["record_id"]), []).append(
            {k: x[k] for k in ("exception_id", "request_id", "reason", "retain_until")}
        )
    order_deadlines = {
        o["order_id"]: _deadline(policy, holding, "orders", o) for o in holding.tables["orders"].to_pylist()
    }
    assessed: dict[str, list[Assessed]] = {}
    for table, rows in holding.held().items():
        spec = TABLES[table]
        found = []
        for rid, row in zip(record_ids(table, rows), rows.to_pylist(), strict=True):
            if table in ("order_items", "payments"):
                deadline = order_deadlines.get(row["order_id"])
            else:
                deadline = _deadline(policy, holding, table, row)
            own = row.get("account_id", holding.subject.account_id) == holding.subject.account_id
            on_hold = hold_ids if own else ()
            kept_for = tuple(exceptions.get((table, rid), ()))
            step = (
                _step(holding, table, rid, row, deadline, holds if own else [], kept_for, as_of)
                if spec.personal
                else None
            )
            found.append(
                Assessed(
                    rid,
                    tuple(c for c in spec.personal if row[c] is not None),
                    PURPOSES[table],
                    deadline,
                    _overdue(policy, deadline, start),
                    on_hold,
                    kept_for,
                    step,
                )
            )
        assessed[table] = found
    return assessed


def _step(
    holding: Holding,
    table: str,
    rid: str,
    row: Row,
    deadline: Deadline | None,
    holds: list[Row],
    exceptions: tuple[Row, ...],
    as_of: date,
) -> Step:
    """Erase, or keep where a retention period, an active hold or an exception requires it.

    Order of precedence: nothing left to erase; an active hold (§6.2) suspends everything;
    a record the platform marked erased but left half-done is finished; then the latest of
    the legal retention (orders, §6.1 and §3.5) and the unexpired exceptions; account data a
    contact shares with other, still-held contacts stays with the account.
    """
    still_set = tuple(c for c in TABLES[table].personal if row[c] is not None)
    if not still_set:
        return Step(table, rid, "erase", (), "already_erased", None)
    if holds:
        released = [h["released_at"] for h in holds]
        until = None if None in released else max(released).date()
        return Step(table, rid, "keep", (), "legal_hold", until)
    if row.get("anonymized_at") is not None or row.get("deleted_at") is not None:
        return Step(table, rid, "erase", still_set, "incomplete_erasure", None)
    keeps: list[tuple[date, str]] = [
        (x["retain_until"], str(x["reason"])) for x in exceptions if x["retain_until"] >= as_of
    ]
    if table == "orders" and deadline is not None and deadline.at > as_of:
        keeps.append((deadline.at, "tax"))
    if keeps:
        until, reason = max(keeps)
        return Step(table, rid, "keep", (), reason, until)
    if table in SHARED_TABLES and holding.subject.kind == "contact" and holding.other_contacts:
        return Step(table, rid, "keep", (), "shared_account", None)
    ended = deadline is not None and _day(deadline.at) <= as_of
    return Step(table, rid, "erase", still_set, "retention_ended" if ended else "on_request", None)


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment
