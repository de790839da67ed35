"""`privacy-audit explain`: the facts behind one finding, or why a record is none (issue 22).

Each hand-made record has a reason: a finding and its near miss per family (retention, consent,
rights), so that the verdict is seen to come from the rule's own query and the facts to differ
where the verdict does.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.cli import app
from privacy_audit.errors import InputError
from privacy_audit.explain import explain

AS_OF = date(2026, 11, 1)
# Personal values planted in every personal and free-text column the records below touch.
PERSONAL = ("Zelda Quux", "zelda@quux.example", "+33 6 00 00 00 00", "Rue Secrete 7", "dispute with Zelda")
_PROMOTION = {"contact_id": "C1", "kind": "marketing", "topic": "promotions", "has_unsubscribe_link": True}
_ACCESS = {"contact_id": "C1", "kind": "access", "received_at": "2026-01-01", "verified_at": "2026-01-01"}
TABLES = {
    "accounts": [
        {"account_id": "A-GB", "country": "GB", "company_name": "Quux Bijoux", "created_at": "2015-01-01"},
        {"account_id": "A-HELD", "country": "GB", "created_at": "2015-01-01"},
    ],
    "contacts": [
        {
            "contact_id": "C1",
            "account_id": "A-GB",
            "full_name": PERSONAL[0],
            "email": PERSONAL[1],
            "phone": PERSONAL[2],
            "last_login_at": "2026-10-01",
        }
    ],
    "addresses": [{"address_id": "AD1", "account_id": "A-GB", "line1": PERSONAL[3], "country": "GB"}],
    # GB keeps orders 6 years + 30 days: O-OLD (2019) is overdue; O-HELD is as old, but held.
    "orders": [
        {"order_id": "O-OLD", "account_id": "A-GB", "order_date": "2019-06-01", "contact_id": "C1"},
        {"order_id": "O-HELD", "account_id": "A-HELD", "order_date": "2019-06-01", "contact_id": "C1"},
    ],
    "legal_holds": [
        {"hold_id": "H1", "account_id": "A-HELD", "reason": PERSONAL[4], "placed_at": "2026-01-01"}
    ],
    "support_tickets": [
        {"ticket_id": "T1", "account_id": "A-GB", "subject": PERSONAL[0], "body": PERSONAL[1]}
    ],
    # C1 opted out of promotions on 2026-03-01 09:00: S-AFTER is a finding, S-BEFORE is not.
    "communication_preferences": [
        {"contact_id": "C1", "topic": "promotions", "opted_in": True, "updated_at": "2025-01-01"},
        {"contact_id": "C1", "topic": "promotions", "opted_in": False, "updated_at": "2026-03-01 09:00"},
    ],
    "email_sends": [
        {"send_id": "S-AFTER", "sent_at": "2026-03-02", **_PROMOTION},
        {"send_id": "S-BEFORE", "sent_at": "2026-02-01", **_PROMOTION},
    ],
    # R-LATE took 31 days; R-ONTIME exactly 30 (an answer on its limit is in time).
    "privacy_requests": [
        {"request_id": "R-LATE", "completed_at": "2026-02-01", "status": "completed", **_ACCESS},
        {"request_id": "R-ONTIME", "completed_at": "2026-01-31", "status": "completed", **_ACCESS},
    ],
}
runner = CliRunner()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_export(tmp_path_factory.mktemp("explain") / "export", TABLES)


def _facts(export: Path, rule: str, record: str) -> tuple[bool, dict[str, str]]:
    explained = explain(rule, record, export, AS_OF)
    return explained.is_finding, dict(explained.facts)


def test_retention_an_overdue_order_and_a_held_one(export: Path) -> None:
    found, facts = _facts(export, "RET-ORDER-OVERDUE", "O-OLD")
    assert found
    assert facts["account_country"] == "GB" and facts["hold_active_at_as_of"] == "no"
    assert facts["erasure_deadline"] == "2025-07-01 = order_date + 6 years + 30 days, missed as of 2026-11-01"
    held, facts = _facts(export, "RET-ORDER-OVERDUE", "O-HELD")
    assert not held
    assert facts["hold_active_at_as_of"] == "yes" and facts["legal_holds"].startswith("H1 placed 2026-01-01")


def test_consent_the_preference_in_force_at_each_send(export: Path) -> None:
    found, facts = _facts(export, "CONSENT-OPTOUT-IGNORED", "S-AFTER")
    assert found and facts["preference_opted_in"] == "no"
    assert facts["preference_recorded_at"] == "2026-03-01 09:00:00"
    found, facts = _facts(export, "CONSENT-OPTOUT-IGNORED", "S-BEFORE")
    assert not found and facts["preference_opted_in"] == "yes"


def test_rights_the_time_each_request_took(export: Path) -> None:
    found, facts = _facts(export, "RIGHTS-LATE", "R-LATE")
    assert found and facts["time_to_answer"] == "31 days"
    found, facts = _facts(export, "RIGHTS-LATE", "R-ONTIME")
    assert not found and facts["time_to_answer"] == "30 days"


def test_the_policy_numbers_come_from_the_policy_file(export: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("deletion_grace_days: 14\n", encoding="utf-8")
    explained = explain("RET-ORDER-OVERDUE", "O-OLD", export, AS_OF, policy_file=policy)
    assert ("deletion_grace_days", "14") in explained.policy
    assert dict(explained.facts)["erasure_deadline"].startswith("2025-06-15 = order_date + 6 years + 14 days")


@pytest.mark.parametrize(
    ("rule", "record"),
    [
        ("RET-ORDER-OVERDUE", "O-OLD"),
        ("RET-INACTIVE-ACCOUNT", "A-GB"),
        ("SEC-PASSWORD-STORAGE", "C1"),
        ("ANON-INCOMPLETE", "AD1"),
        ("MIN-CARD-IN-TEXT", "T1"),
        ("LEGAL-HOLD-BREACH", "H1"),
        ("RIGHTS-OBJECTION-IGNORED", "S-AFTER"),
    ],
)
def test_no_personal_value_is_printed(export: Path, rule: str, record: str) -> None:
    result = runner.invoke(app, ["explain", rule, record, str(export), "--as-of", str(AS_OF)])
    assert result.exit_code == 0, result.output
    assert "facts:" in result.stdout
    assert not [v for v in PERSONAL if v in result.stdout]


def test_a_personal_column_still_set_is_named_never_shown(export: Path) -> None:
    facts = dict(explain("SEC-PASSWORD-STORAGE", "C1", export, AS_OF).facts)
    assert facts["personal_columns_set"] == "full_name, email, phone"


def test_an_unknown_rule_is_one_line_with_a_did_you_mean(export: Path) -> None:
    result = runner.invoke(app, ["explain", "RET-ORDER-OVRDUE", "O-OLD", str(export), "--as-of", str(AS_OF)])
    assert result.exit_code == 2
    assert "did you mean RET-ORDER-OVERDUE?" in result.output and len(result.output.splitlines()) == 1


def test_an_unknown_record_names_the_table_and_key(export: Path) -> None:
    result = runner.invoke(
        app, ["explain", "RET-ORDER-OVERDUE", "O-NONE", str(export), "--as-of", str(AS_OF)]
    )
    assert result.exit_code == 2
    assert "table orders, column order_id: expected a row with this record id" in result.output
    with pytest.raises(InputError, match=r"contacts\.contact_id, addresses\.address_id"):
        explain("ANON-INCOMPLETE", "NOWHERE", export, AS_OF)
