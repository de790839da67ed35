"""The peer: a representative subset of the rules in pandas, written the way an analyst would.

Read the tables with ``pd.read_parquet``, merge, ``merge_asof`` for "in force at", ``apply``
for row logic. It exists to measure the audit against, and prints ``rule_id count`` lines so
that run.py can check both implementations agree before it compares their speed.

    python benchmarks/pandas_peer.py EXPORT_DIR AS_OF
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
from dateutil.relativedelta import relativedelta

from privacy_audit.policy import load_policy

SUBSET = ("RET-ORDER-OVERDUE", "RET-USAGE-OVERDUE", "CONSENT-TRACKING", "MIN-CARD-IN-TEXT", "RIGHTS-LATE")


def read(export: Path, table: str, columns: list[str]) -> pd.DataFrame:
    return pd.read_parquet(export / f"{table}.parquet", columns=columns)


def held_accounts(export: Path, as_of: pd.Timestamp) -> set[str]:
    holds = read(export, "legal_holds", ["account_id", "placed_at", "released_at"])
    active = (holds.placed_at <= as_of) & (holds.released_at.isna() | (holds.released_at > as_of))
    return set(holds.loc[active, "account_id"])


def order_overdue(export: Path, as_of: pd.Timestamp, policy) -> int:
    orders = read(
        export,
        "orders",
        [
            "order_id",
            "account_id",
            "order_date",
            "deleted_at",
            "contact_id",
            "billing_address_id",
            "shipping_address_id",
        ],
    )
    accounts = read(export, "accounts", ["account_id", "country"])
    df = orders.merge(accounts, on="account_id", how="left")
    years = df.country.map(policy.order_retention_years.by_country).fillna(
        policy.order_retention_years.default
    )
    grace = pd.Timedelta(days=policy.deletion_grace_days)

    def deadline(row: pd.Series) -> pd.Timestamp:
        return pd.Timestamp(row.order_date) + relativedelta(years=int(row.years)) + grace

    df["years"] = years
    df["deadline"] = df.apply(deadline, axis=1)
    erased = df[["contact_id", "billing_address_id", "shipping_address_id"]].isna().all(axis=1)
    late = df.deleted_at.isna() & ~erased & (df.deadline < as_of)
    return int((late & ~df.account_id.isin(held_accounts(export, as_of))).sum())


def usage_overdue(export: Path, as_of: pd.Timestamp, policy) -> int:
    events = read(export, "web_events", ["occurred_at", "contact_id", "ip_address", "user_agent"])
    deadline = events.occurred_at.apply(lambda t: t + relativedelta(months=policy.usage_retention_months))
    deadline = deadline + pd.Timedelta(days=policy.deletion_grace_days)
    erased = events[["contact_id", "ip_address", "user_agent"]].isna().all(axis=1)
    return int(((deadline < as_of) & ~erased).sum())


def consent_tracking(export: Path, policy) -> int:
    events = read(export, "web_events", ["event_id", "session_id", "occurred_at", "tracking_category"])
    events = events[events.tracking_category != "necessary"].sort_values("occurred_at")
    consents = read(
        export,
        "cookie_consents",
        ["session_id", "recorded_at", "analytics", "marketing", "personalization", "do_not_track"],
    )
    consents = (
        consents.groupby(["session_id", "recorded_at"], as_index=False)
        .agg(
            analytics=("analytics", "min"),
            marketing=("marketing", "min"),
            personalization=("personalization", "min"),
            do_not_track=("do_not_track", "max"),
        )
        .sort_values("recorded_at")
    )
    df = pd.merge_asof(
        events, consents, left_on="occurred_at", right_on="recorded_at", by="session_id", direction="backward"
    )

    def violates(row: pd.Series) -> bool:
        if pd.isna(row.recorded_at):
            return True
        if not row[row.tracking_category]:
            return True
        return bool(policy.honor_do_not_track and row.do_not_track and row.tracking_category != "analytics")

    return int(df.apply(violates, axis=1).sum())


# rules.md's card-shaped number (version 2), as an analyst would write it in plain Python.
CARD = re.compile(r"\d+(?:[ -]\d+)*", re.ASCII)
SHAPES = re.compile(r"4-4-4-(4|4-[1-3]|[1-3])|4-6-[45]")


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        total += d if i % 2 == 0 else (2 * d - 9 if d >= 5 else 2 * d)
    return total % 10 == 0


def card_in_text(export: Path) -> int:
    tickets = read(export, "support_tickets", ["ticket_id", "subject", "body"])

    def has_card(text: object) -> bool:
        if not isinstance(text, str):
            return False
        for run in CARD.findall(text):
            groups, seps = re.split(r"[ -]", run), re.findall(r"[ -]", run)
            for i in range(len(groups)):
                for j in range(i, min(len(groups), i + 5)):  # the longest shape has five groups
                    digits = "".join(groups[i : j + 1])
                    if not (13 <= len(digits) <= 19 and digits[0] in "23456"):
                        continue
                    shape = "-".join(str(len(g)) for g in groups[i : j + 1])
                    if i < j and (len(set(seps[i:j])) != 1 or not SHAPES.fullmatch(shape)):
                        continue
                    if luhn(digits):
                        return True
        return False

    return int((tickets.subject.apply(has_card) | tickets.body.apply(has_card)).sum())


def rights_late(export: Path, as_of: pd.Timestamp, policy) -> int:
    requests = read(export, "privacy_requests", ["received_at", "extension_notified_at", "completed_at"])
    end = requests.completed_at.fillna(as_of)
    days = (end - requests.received_at) / pd.Timedelta(days=1)
    limit = pd.Timedelta(days=policy.request_response_days)
    extended = requests.extension_notified_at.notna() & (
        requests.extension_notified_at <= requests.received_at + limit
    )
    late = (days > policy.request_response_days) & ~(extended & (days <= policy.request_extended_days))
    return int(late.sum())


def main(export: Path, as_of_text: str) -> None:
    policy, _ = load_policy()
    as_of = pd.Timestamp(as_of_text)
    counts = {
        "RET-ORDER-OVERDUE": order_overdue(export, as_of, policy),
        "RET-USAGE-OVERDUE": usage_overdue(export, as_of, policy),
        "CONSENT-TRACKING": consent_tracking(export, policy),
        "MIN-CARD-IN-TEXT": card_in_text(export),
        "RIGHTS-LATE": rights_late(export, as_of, policy),
    }
    for rule_id, n in counts.items():
        print(rule_id, n)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
