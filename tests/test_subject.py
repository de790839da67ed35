"""``privacy-audit subject``: the spec's linkage, the erasure plan, and what never leaves the tool."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from handmade import make_export
from privacy_audit.audit import run_audit, select_rules
from privacy_audit.cli import app
from privacy_audit.contract import TABLES
from privacy_audit.engine import make_engine
from privacy_audit.export import open_export
from privacy_audit.outputs.folder import MARKER
from privacy_audit.policy import load_policy
from privacy_audit.reporting.common.leaks import PERSONAL_KINDS, LeakScanner
from privacy_audit.subject.assessment import KEEP_REASONS, assess
from privacy_audit.subject.documents import LeakFound, leak_scan
from privacy_audit.subject.linkage import collect, record_ids, resolve

AS_OF = date(2026, 11, 1)
DEMO = Path(__file__).parents[1] / "data" / "synthetic" / "demo" / "export"
runner = CliRunner()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Account A1 (GB, 6-year orders) with contacts C1 and C2; every row says why it is there."""
    return make_export(
        tmp_path_factory.mktemp("subject") / "export",
        {
            "accounts": [
                {
                    "account_id": "A1",
                    "country": "GB",
                    "company_name": "Maison Perle",
                    "created_at": "2015-01-01",
                },
                {"account_id": "A2", "country": "DE", "company_name": "Held GmbH"},  # under an open hold
                {"account_id": "X", "country": "FR"},  # also a contact id: ambiguous
                {"account_id": "A3", "country": "IE"},
            ],
            "contacts": [
                {
                    "contact_id": "C1",
                    "account_id": "A1",
                    "email": "c1@perle.example",
                    "last_login_at": "2026-10-01",
                },
                {"contact_id": "C2", "account_id": "A1", "email": "c2@perle.example"},  # the colleague
                {"contact_id": "C3", "account_id": "A2", "full_name": "Held Person"},
                {"contact_id": "C4", "account_id": "A2"},  # erased: all personal columns NULL
                {"contact_id": "X", "account_id": "X"},
                {"contact_id": "C'Q", "account_id": "A3"},  # a quote in an id stays an id
            ],
            "addresses": [{"address_id": "AD1", "account_id": "A1", "line1": "1 Rue Perle", "country": "GB"}],
            "legal_holds": [{"hold_id": "H1", "account_id": "A2", "placed_at": "2026-01-01"}],
            "orders": [
                # C1's: retention ended (2018 + 6 years) → erase; 2023 → kept for tax until 2029-03-01
                {"order_id": "O1", "account_id": "A1", "contact_id": "C1", "order_date": "2018-02-01"},
                {"order_id": "O2", "account_id": "A1", "contact_id": "C1", "order_date": "2023-03-01"},
                # retention ended but an unexpired dispute exception of C1's request keeps it
                {"order_id": "O3", "account_id": "A1", "contact_id": "C1", "order_date": "2019-01-01"},
                # retention ended, exception expired → erase
                {"order_id": "O4", "account_id": "A1", "contact_id": "C1", "order_date": "2019-01-01"},
                # marked anonymized, billing address still set → finish the erasure
                {
                    "order_id": "O5",
                    "account_id": "A1",
                    "order_date": "2018-01-01",
                    "billing_address_id": "AD1",
                    "anonymized_at": "2025-01-01",
                    "contact_id": "C1",
                },
                # the account's, placed by C2: in A1's package, not in C1's
                {"order_id": "O6", "account_id": "A1", "contact_id": "C2", "order_date": "2024-01-01"},
                {"order_id": "O7", "account_id": "A2", "contact_id": "C3", "order_date": "2010-01-01"},
                {"order_id": "O'8", "account_id": "A3", "contact_id": "C'Q", "order_date": "2026-01-01"},
            ],
            "order_items": [
                {"order_id": "O1", "line_no": 1},
                {"order_id": "O1", "line_no": 2},
                {"order_id": "O6", "line_no": 1},
            ],
            "payments": [{"payment_id": "P1", "order_id": "O2"}, {"payment_id": "P6", "order_id": "O6"}],
            "support_tickets": [
                {"ticket_id": "T1", "account_id": "A1", "contact_id": "C1", "body": "necklace broke"},
                {"ticket_id": "T2", "account_id": "A1", "body": "no contact named"},  # the account's
            ],
            "web_events": [
                {"event_id": "E1", "session_id": "S1", "contact_id": "C1", "occurred_at": "2026-10-01"},
                {"event_id": "E2", "session_id": "S2", "occurred_at": "2026-10-01"},  # anonymous visitor
                {"event_id": "E9", "session_id": "S9", "contact_id": "C9"},  # C9's row is gone
            ],
            "cookie_consents": [
                {"consent_id": "K1", "session_id": "S1"},
                {"consent_id": "K2", "session_id": "S2"},  # a session without C1's event
            ],
            "communication_preferences": [
                {"contact_id": "C1", "topic": "promotions", "updated_at": "2025-01-01"}
            ],
            "email_sends": [{"send_id": "M1", "contact_id": "C1"}, {"send_id": "M2", "contact_id": "C2"}],
            "privacy_requests": [
                {"request_id": "R1", "contact_id": "C1", "kind": "access"},
                {"request_id": "R9", "contact_id": "C9", "kind": "deletion", "status": "completed"},
            ],
            "retention_exceptions": [
                {
                    "exception_id": "RX3",
                    "request_id": "R1",
                    "table_name": "orders",
                    "record_id": "O3",
                    "reason": "dispute",
                    "retain_until": "2027-06-30",
                },
                {
                    "exception_id": "RX4",
                    "request_id": "R1",
                    "table_name": "orders",
                    "record_id": "O4",
                    "reason": "tax",
                    "retain_until": "2026-10-31",
                },
                {  # another request's exception names O2: not C1's
                    "exception_id": "RX9",
                    "request_id": "R9",
                    "table_name": "orders",
                    "record_id": "O2",
                    "retain_until": "2030-01-01",
                },
            ],
            "staff": [{"staff_id": "ST1", "role": "finance"}],
            "staff_access_log": [
                {"access_id": "L1", "staff_id": "ST1", "table_name": "orders", "record_id": "O2"},
                {"access_id": "L2", "staff_id": "ST1", "table_name": "contacts", "record_id": "C1"},
                {"access_id": "L3", "staff_id": "ST1", "table_name": "orders", "record_id": "O6"},  # C2's
                {"access_id": "L4", "staff_id": "ST1", "table_name": "cookie_consents", "record_id": "K1"},
            ],
            "data_shares": [
                {"share_id": "D1", "recipient": " Stripe ", "data_categories": "payment;contact"},
                {"share_id": "D2", "recipient": "Zendesk", "data_categories": "ticket"},
                {"share_id": "D3", "recipient": "Matomo", "data_categories": " usage "},
                {"share_id": "D4", "recipient": "Unrelated", "data_categories": "something_else"},
            ],
            "transfers": [{"transfer_id": "TR1", "recipient": "Rakuten", "data_categories": "address"}],
        },
    )


def holding_of(export: Path, subject_id: str, engine_name: str = "duckdb"):
    engine = make_engine(engine_name)
    opened = open_export(export, engine)
    return collect(engine, opened, resolve(engine, subject_id))


def ids(holding, table: str) -> set[str]:
    return set(record_ids(table, holding.tables[table]))


def test_a_contact_holds_exactly_the_spec_linkage(export: Path) -> None:
    held = holding_of(export, "C1")
    assert held.subject.kind == "contact" and held.subject.account_id == "A1"
    expected = {
        "contacts": {"C1"},
        "accounts": {"A1"},
        "addresses": {"AD1"},
        "legal_holds": set(),
        "orders": {"O1", "O2", "O3", "O4", "O5"},
        "order_items": {"O1/1", "O1/2"},
        "payments": {"P1"},
        "support_tickets": {"T1"},
        "web_events": {"E1"},
        "cookie_consents": {"K1"},
        "communication_preferences": {"C1/promotions/2025-01-01T00:00:00"},
        "email_sends": {"M1"},
        "privacy_requests": {"R1"},
        "retention_exceptions": {"RX3", "RX4"},
        "staff_access_log": {"L1", "L2", "L4"},
    }
    assert {t: ids(held, t) for t in expected} == expected
    shares = {r["recipient"]: r["data_categories"] for r in held.recipients["data_shares"]}
    assert shares == {"Stripe": ["contact", "payment"], "Zendesk": ["ticket"], "Matomo": ["usage"]}
    assert [r["recipient"] for r in held.recipients["transfers"]] == ["Rakuten"]
    quoted = holding_of(export, "C'Q")
    assert ids(quoted, "orders") == {"O'8"} and ids(quoted, "order_items") == set()


def test_an_account_holds_every_contact_order_and_ticket(export: Path) -> None:
    held = holding_of(export, "A1")
    assert held.subject.kind == "account" and held.subject.contact_ids == ("C1", "C2")
    assert ids(held, "orders") == {"O1", "O2", "O3", "O4", "O5", "O6"}
    assert ids(held, "support_tickets") == {"T1", "T2"}
    assert ids(held, "payments") == {"P1", "P6"}
    assert ids(held, "email_sends") == {"M1", "M2"}
    assert ids(held, "staff_access_log") == {"L1", "L2", "L3", "L4"}


def plan_of(export: Path, subject_id: str) -> dict[tuple[str, str], tuple[str, str, str, object]]:
    policy, _ = load_policy()
    assessed = assess(holding_of(export, subject_id), policy, AS_OF)
    steps = [a.step for records in assessed.values() for a in records if a.step]
    return {(s.table_name, s.record_id): (s.action, ";".join(s.columns), s.reason, s.until) for s in steps}


def test_the_plan_keeps_only_what_a_period_a_hold_or_an_exception_requires(export: Path) -> None:
    plan = plan_of(export, "C1")
    assert plan == {
        ("contacts", "C1"): ("erase", "email", "on_request", None),
        ("accounts", "A1"): ("keep", "", "shared_account", None),  # C2 still uses the account
        ("addresses", "AD1"): ("keep", "", "shared_account", None),
        ("orders", "O1"): ("erase", "contact_id", "retention_ended", None),
        ("orders", "O2"): ("keep", "", "tax", date(2029, 3, 1)),
        ("orders", "O3"): ("keep", "", "dispute", date(2027, 6, 30)),
        ("orders", "O4"): ("erase", "contact_id", "retention_ended", None),
        ("orders", "O5"): ("erase", "contact_id;billing_address_id", "incomplete_erasure", None),
        ("support_tickets", "T1"): ("erase", "contact_id;body", "on_request", None),
        ("web_events", "E1"): ("erase", "contact_id", "on_request", None),
    }
    assert plan_of(export, "A2")[("contacts", "C3")] == ("keep", "", "legal_hold", None)
    assert plan_of(export, "A2")[("contacts", "C4")] == ("erase", "", "already_erased", None)
    assert plan_of(export, "A1")[("accounts", "A1")][0] == "erase"  # the account's own request


def test_subject_json_names_deadlines_rules_holds_and_exceptions(export: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["subject", "C1", "--export", str(export), "--as-of", "2026-11-01", "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "s" / "subject.json").read_text())
    orders = {r["record_id"]: r for r in doc["tables"]["orders"]["records"]}
    assert orders["O2"]["deadline"] == "2029-03-01" and orders["O2"]["deadline_rule"] == "RET-ORDER-OVERDUE"
    assert orders["O1"]["overdue"] and not orders["O2"]["overdue"]
    assert [x["exception_id"] for x in orders["O3"]["exceptions"]] == ["RX3"]
    assert orders["O2"]["exceptions"] == []  # RX9 belongs to another person's request
    assert orders["O1"]["purpose"] == "3.1, 3.5, 6.1"
    assert doc["tables"]["contacts"]["records"][0]["personal_columns_set"] == ["email"]
    access = {r["record_id"]: r for r in doc["tables"]["staff_access_log"]["records"]}
    assert access["L1"]["staff_id"] == "ST1" and access["L1"]["names"] == "orders/O2"
    held = holding_of(export, "A2")
    doc_a2 = assess(held, load_policy()[0], AS_OF)
    assert {a.record_id: a.holds for a in doc_a2["orders"]} == {"O7": ("H1",)}
    assert "subject.json and erasure-plan.csv written" in result.output
    assert doc["manifest"]["policy_effective_digest"] == load_policy()[0].effective_digest


def test_bad_subjects_exit_2_and_write_nothing(export: Path, tmp_path: Path) -> None:
    def run(subject_id: str, out: Path) -> tuple[int, str]:
        r = runner.invoke(
            app, ["subject", subject_id, "--export", str(export), "--as-of", "2026-11-01", "--out", str(out)]
        )
        return r.exit_code, r.output

    code, output = run("NOBODY", tmp_path / "a")
    assert code == 2 and "neither" in output and "Traceback" not in output
    code, output = run("X", tmp_path / "b")
    assert code == 2 and "not both" in output
    (tmp_path / "taken").mkdir()
    code, output = run("C1", tmp_path / "taken")
    assert code == 2 and "exists already" in output and not any((tmp_path / "taken").iterdir())
    code, output = run("C1", export / "inside")
    assert code == 2 and not (export / "inside").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # nothing staged left behind


def test_an_erased_subject_is_said_so_with_what_is_still_held(export: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["subject", "C4", "--export", str(export), "--as-of", "2026-11-01", "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 0, result.output
    assert (
        "C4 is erased, yet records still refer to it: contacts 1, accounts 1, legal_holds 1" in result.output
    )
    assert json.loads((tmp_path / "s" / "subject.json").read_text())["subject"]["erased"] is True
    gone = runner.invoke(
        app, ["subject", "C9", "--export", str(export), "--as-of", "2026-11-01", "--out", str(tmp_path / "g")]
    )
    assert gone.exit_code == 0, gone.output
    assert (
        "C9 is erased, yet records still refer to it: web_events 1, privacy_requests 1, retention_exceptions 1"
        in gone.output
    )


def test_a_document_with_a_personal_value_is_never_written(export: Path) -> None:
    held = holding_of(export, "C1")
    leak_scan(held, {"subject.json": '{"id": "C1"}'})
    with pytest.raises(LeakFound, match=r"subject\.json: text holds email"):
        leak_scan(held, {"subject.json": '{"note": "c1@perle.example"}'})
    with pytest.raises(LeakFound, match="street line"):
        leak_scan(held, {"erasure-plan.csv": "addresses,AD1,keep,1 Rue Perle"})


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_no_personal_value_without_the_flag_and_an_owner_only_package_with_it(tmp_path: Path) -> None:
    before = digests(DEMO)
    scanner = LeakScanner.from_export(DEMO, kinds=PERSONAL_KINDS)  # every value of the export
    args = ["subject", "ACC-0000275", "--export", str(DEMO), "--as-of", "2026-11-01", "--out"]
    plain = runner.invoke(app, [*args, str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    files = sorted(p for p in (tmp_path / "plain").iterdir() if p.name != MARKER)
    assert [p.name for p in files] == ["erasure-plan.csv", "subject.json"]
    for path in files:
        assert scanner.scan_text(path.read_text()) == [], path.name
    assert scanner.scan_text(plain.output) == []
    full = runner.invoke(app, [*args, str(tmp_path / "full"), "--with-values"])
    assert full.exit_code == 0, full.output
    assert scanner.scan_text(full.output) == []
    package = tmp_path / "full" / "package"
    assert package.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in package.iterdir()} == {0o600}
    document = json.loads((package / "package.json").read_text())
    assert scanner.scan_text(json.dumps(document["contacts"]))  # the values are there, for the person
    assert {p.name for p in package.iterdir()} == {"package.json"} | {f"{t}.csv" for t in document}
    for name in ("subject.json", "erasure-plan.csv"):
        assert scanner.scan_text((tmp_path / "full" / name).read_text()) == []
    assert digests(DEMO) == before  # the export itself is never modified


# --- The erasure plan carried out: the test's own code, then a fresh audit of the copy.


def apply_plan(
    export: Path, plans: dict[str, list[dict[str, str]]], contacts: dict[str, tuple[str, ...]]
) -> None:
    """Do what each subject's plan says, as the platform would, and record the deletion requests.

    Erased records get their listed columns NULL and anonymized_at = as_of; every contact of a
    subject gets a completed deletion request received on as_of, and every kept record an
    exception (with the plan's reason and date, notified) under each completed deletion request
    of its contact — the plan completes those requests too.
    """
    as_of = datetime.combine(AS_OF, datetime.min.time())
    requests = pq.read_table(export / "privacy_requests.parquet")
    new = [
        {
            "request_id": f"REQ-T-{c}",
            "contact_id": c,
            "kind": "deletion",
            "received_at": as_of,
            "verified_at": as_of,
            "completed_at": as_of,
            "status": "completed",
        }
        for people in contacts.values()
        for c in people
    ]
    requests = pa.concat_tables([requests, pa.Table.from_pylist(new, schema=requests.schema)])
    pq.write_table(requests, export / "privacy_requests.parquet")
    done = [r for r in requests.to_pylist() if r["kind"] == "deletion" and r["status"] == "completed"]
    erase: dict[str, dict[str, list[str]]] = {}
    exceptions = []
    for subject, steps in plans.items():
        for step in steps:
            if step["action"] == "erase" and step["columns"]:
                erase.setdefault(step["table_name"], {})[step["record_id"]] = step["columns"].split(";")
            elif step["action"] == "keep" and step["table_name"] in (
                "orders",
                "support_tickets",
                "web_events",
                "contacts",
            ):
                owner = step["contact_id"]
                until = date.fromisoformat(step["until"]) if step["until"] else AS_OF
                exceptions += [
                    {
                        "exception_id": f"REX-T-{len(exceptions)}-{r['request_id']}",
                        "request_id": r["request_id"],
                        "table_name": step["table_name"],
                        "record_id": step["record_id"],
                        "reason": step["reason"],
                        "retain_until": until,
                        "notified_at": as_of,
                    }
                    for r in done
                    if r["contact_id"] == owner and owner in contacts[subject]
                ]
    for table, records in erase.items():
        path = export / f"{table}.parquet"
        data = pq.read_table(path)
        key = data[TABLES[table].key]
        marks = {"anonymized_at": list(records)} if "anonymized_at" in data.column_names else {}
        for column in {c for cols in records.values() for c in cols}:
            marks[column] = [r for r, cols in records.items() if column in cols]
        for column, chosen in marks.items():
            hit, values = pc.is_in(key, pa.array(chosen)), data[column]
            if column == "anonymized_at":  # the platform records when it erased
                new = pc.if_else(pc.and_(hit, pc.is_null(values)), pa.scalar(as_of, values.type), values)
            else:
                new = pc.if_else(hit, pa.nulls(len(data), values.type), values)
            data = data.set_column(data.schema.get_field_index(column), column, new)
        pq.write_table(data, path)
    current = pq.read_table(export / "retention_exceptions.parquet")
    added = pa.Table.from_pylist(exceptions, schema=current.schema)
    pq.write_table(pa.concat_tables([current, added]), export / "retention_exceptions.parquet")


AFTER_PLAN_RULES = [
    r
    for r in select_rules(None)
    if r.id.startswith("RET-")
    or r.id in ("ANON-INCOMPLETE", "RIGHTS-ERASURE-INCOMPLETE", "LEGAL-HOLD-BREACH")
]


def findings(export: Path) -> list[dict[str, str]]:
    table = run_audit(export, AS_OF, rules=AFTER_PLAN_RULES).findings()
    return table.select(["rule_id", "table_name", "record_id", "subject_id"]).to_pylist()


def plan_rows(engine, opened, subject_id: str) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    """The subject's plan, each step with the contact its record names (who gets the exception)."""
    held = collect(engine, opened, resolve(engine, subject_id))
    assessed = assess(held, load_policy()[0], AS_OF)
    steps = [a.step for records in assessed.values() for a in records if a.step]
    owner = {
        (table, rid): contact
        for table, rows in held.tables.items()
        if "contact_id" in rows.column_names
        for rid, contact in zip(record_ids(table, rows), rows["contact_id"].to_pylist(), strict=True)
    }
    return held.subject.contact_ids, [
        {
            "contact_id": owner.get((s.table_name, s.record_id)),
            "table_name": s.table_name,
            "record_id": s.record_id,
            "action": s.action,
            "columns": ";".join(s.columns),
            "reason": s.reason,
            "until": s.until.isoformat() if s.until else "",
        }
        for s in steps
    ]


def test_applying_the_plans_leaves_no_erasure_or_retention_finding(tmp_path: Path) -> None:
    before = findings(DEMO)
    engine = make_engine()
    opened = open_export(DEMO, engine)
    people = engine.query("SELECT contact_id, account_id FROM contacts").to_pylist()
    account_of = {p["contact_id"]: p["account_id"] for p in people}
    chosen = set()  # two subjects of every rule's findings, whole accounts where the rule names one
    for rule in {f["rule_id"] for f in before}:
        named = {f["subject_id"] for f in before if f["rule_id"] == rule}
        chosen |= set(sorted(named & (set(account_of) | set(account_of.values())))[:2])
    subjects = sorted({s for s in chosen if account_of.get(s) not in chosen} | {"ACC-0000440"})
    plans, contacts = {}, {}
    for subject_id in subjects:
        contacts[subject_id], plans[subject_id] = plan_rows(engine, opened, subject_id)
    kept = [s for steps in plans.values() for s in steps if s["action"] == "keep"]
    assert all(s["reason"] in KEEP_REASONS for s in kept)
    assert {s["reason"] for s in kept} >= {"tax", "legal_hold", "shared_account"}
    assert {s["reason"] for steps in plans.values() for s in steps} >= {
        "incomplete_erasure",
        "retention_ended",
    }
    copy = shutil.copytree(DEMO, tmp_path / "export")
    apply_plan(copy, plans, contacts)
    after = findings(copy)
    theirs = {c for people in contacts.values() for c in people} | set(subjects)
    planned = {
        (s["table_name"], s["record_id"])
        for steps in plans.values()
        for s in steps
        if s["reason"] != "shared_account"  # the account's other contacts are not the subject
    }
    past_faults = ("RET-ORDER-PREMATURE", "LEGAL-HOLD-BREACH")  # erasures done before as_of
    fixed = [
        f for f in before if (f["table_name"], f["record_id"]) in planned and f["rule_id"] not in past_faults
    ]
    assert len(fixed) >= 10
    assert [
        f for f in after if f["rule_id"] == "RIGHTS-ERASURE-INCOMPLETE" and f["subject_id"] in theirs
    ] == []
    assert [
        f for f in after if (f["table_name"], f["record_id"]) in planned and f["rule_id"] not in past_faults
    ] == []
    for rule in past_faults:  # the plan erased nothing early and nothing under a hold
        assert [f for f in after if f["rule_id"] == rule] == [f for f in before if f["rule_id"] == rule]


@pytest.mark.spark
def test_spark_gives_the_same_subject_json(tmp_path: Path) -> None:
    docs = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / engine
        result = runner.invoke(
            app,
            [
                "subject",
                "CON-00002086",
                "--export",
                str(DEMO),
                "--as-of",
                "2026-11-01",
                "--out",
                str(out),
                "--engine",
                engine,
            ],
        )
        assert result.exit_code == 0, result.output
        docs[engine] = json.loads((out / "subject.json").read_text())
        for key in ("engine", "engine_version"):
            docs[engine]["manifest"].pop(key)
        docs[engine]["plan"] = list(csv.reader((out / "erasure-plan.csv").open()))
    assert docs["spark"] == docs["duckdb"]


def test_a_mapped_native_export_gives_the_same_subject_and_plan(tmp_path: Path) -> None:
    """The demo in a platform's own layout, read through its mapping, holds the same records."""
    native = DEMO.parents[1] / "demo-native"
    docs = {}
    for name, extra in (
        ("contract", [str(DEMO)]),
        ("native", [str(native / "export"), "--mapping", str(native / "mapping.yaml")]),
    ):
        out = tmp_path / name
        args = ["subject", "ACC-0000275", "--as-of", "2026-11-01", "--out", str(out), "--export", *extra]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        document = json.loads((out / "subject.json").read_text())
        manifest = document.pop("manifest")
        assert (manifest["mapping_digest"] is None) == (name == "contract")
        docs[name] = (document, (out / "erasure-plan.csv").read_text())
    assert docs["native"] == docs["contract"]
    assert docs["contract"][0]["counts"]["records"] > 0
