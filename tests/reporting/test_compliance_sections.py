"""Each compliance report section, tested without a kernel on tiny hand-made exports."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
from datetime import date
from pathlib import Path

import pytest
from compliance_exports import FREE_TEXT, IMG, SCRIPT, hostile_export
from PIL import Image

from handmade import make_export
from privacy_audit.errors import InputError
from privacy_audit.reporting.compliance import measures
from privacy_audit.reporting.compliance import run as compliance_run
from privacy_audit.reporting.compliance import sections as compliance
from privacy_audit.reporting.compliance.policy_text import load_policy_text, parse_policy_text
from privacy_audit.reporting.compliance.run import ComplianceRun

AS_OF = "2026-11-01"
TABLES = {
    "accounts": [{"account_id": "A-GB", "country": "GB"}, {"account_id": "A-DE", "country": "DE"}],
    "orders": [
        {"order_id": "O-old", "account_id": "A-GB", "order_date": "2015-01-01", "contact_id": "C1"},
        {"order_id": "O-de", "account_id": "A-DE", "order_date": "2020-01-01", "contact_id": "C1"},
        {"order_id": "O-new", "account_id": "A-GB", "order_date": "2025-01-01", "contact_id": "C1"},
        {"order_id": "O-erased", "account_id": "A-GB", "order_date": "2010-01-01"},
    ],
    "support_tickets": [
        {"ticket_id": "T-old", "account_id": "A-GB", "closed_at": "2020-01-01", "subject": "my card"},
        {"ticket_id": "T-open", "account_id": "A-GB"},
    ],
    "web_events": [
        {"event_id": "E-old", "occurred_at": "2024-01-01", "ip_address": "10.0.0.1"},
        {"event_id": "E-new", "occurred_at": "2026-10-01", "ip_address": "10.0.0.2"},
    ],
    "privacy_requests": [
        {
            "request_id": "R-late",
            "contact_id": "C1",
            "received_at": "2026-01-01",
            "completed_at": "2026-03-15",
        },
        {"request_id": "R-ok", "contact_id": "C1", "received_at": "2026-01-01", "completed_at": "2026-01-11"},
        {"request_id": "R-open", "contact_id": "C1", "received_at": "2026-09-01"},
    ],
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sections")


@pytest.fixture(scope="module")
def run(root: Path) -> ComplianceRun:
    export = make_export(root / "export", TABLES)
    return compliance_run.prepare(str(export), AS_OF, "", str(root / "out"))


def _rows(frame) -> set[tuple]:
    return {tuple(r) for r in frame[["x", "category", "n"]].itertuples(index=False)}


def test_policy_text_sections_come_from_the_text() -> None:
    title, clauses = parse_policy_text(
        "Policy\n6. Data Retention\nIntro.\n6.1 Retention Period\nWe keep data.\n- Orders: 7 years.\n"
        "2026. A sentence that looks numbered.\n7.1 Access\nWithin 30 days."
    )
    assert title == "Policy"
    assert list(clauses) == ["6", "6.1", "7.1"]
    assert clauses["6"].words == "Intro."
    assert clauses["6.1"].title == "Retention Period"
    assert clauses["6.1"].paragraphs == [
        "We keep data.",
        "- Orders: 7 years.",
        "2026. A sentence that looks numbered.",
    ]


def test_bundled_policy_text_has_every_cited_clause() -> None:
    text = load_policy_text()
    from privacy_audit.rules import REGISTRY

    assert {c for r in REGISTRY.values() for c in r.clauses} <= set(text.clauses)
    assert text.get("6.1").title == "Retention Period"
    assert "30 days" in text.get("7.1").words


def test_another_policy_text_and_bad_ones(tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("Other\n6.1 Keeping\nWe keep nothing.\n", encoding="utf-8")
    assert load_policy_text(other).get("6.1").words == "We keep nothing."
    (tmp_path / "flat.txt").write_text("no sections here\n", encoding="utf-8")
    with pytest.raises(InputError, match="numbered sections"):
        load_policy_text(tmp_path / "flat.txt")
    with pytest.raises(InputError, match="readable policy text"):
        load_policy_text(tmp_path / "missing.txt")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"as_of": "2026-13-01"}, "parameter as_of"),
        ({"export_dir": "/no/such/export"}, "parameter export_dir"),
        ({"previous": "/no/such/run"}, "parameter previous"),
        ({"waivers": "/no/such/waivers.yaml"}, "parameter waivers"),
        ({"exprot_dir": "x"}, "parameter exprot_dir: expected no such parameter"),
        ({"out_dir": ""}, "parameter out_dir: expected a valid value \\(an output directory is required"),
    ],
)
def test_parameters_are_validated(tmp_path: Path, change: dict, message: str) -> None:
    values = {"export_dir": str(tmp_path), "as_of": AS_OF, "out_dir": "out", **change}
    with pytest.raises(InputError, match=message):
        compliance_run.parameters(**values)


def test_parameters_resolve_paths_and_treat_empty_as_absent(tmp_path: Path) -> None:
    params = compliance_run.parameters(export_dir=str(tmp_path), as_of=AS_OF, out_dir="out", policy="")
    assert params.policy is None and params.out_dir.is_absolute()
    assert params.notebook_parameters()["policy"] == ""


def test_prepare_writes_findings_summary_and_attestation(run: ComplianceRun, root: Path) -> None:
    out = root / "out"
    assert {p.name for p in out.iterdir()} == {
        "findings.parquet",
        "resolved.parquet",
        "summary.json",
        "attestation.json",
        "evidence",  # a CSV per failing rule
    }
    assert json.loads((out / "summary.json").read_text())["as_of"] == AS_OF


def test_prepare_writes_every_finding_of_each_failing_rule_as_csv(run: ComplianceRun, root: Path) -> None:
    evidence = root / "out" / "evidence"
    failing = {r.rule.id for r in run.result.results if run.result.lifecycle.counts_of(r.rule.id).open}
    assert failing and {p.name for p in evidence.iterdir()} == {f"{rule}.csv" for rule in failing}
    findings = run.result.findings().to_pylist()
    for rule in failing:
        with (evidence / f"{rule}.csv").open(encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file))
        assert list(rows[0]) == ["table_name", "record_id", "subject_id", "status", "waiver_id", "detail"]
        assert sorted(r["record_id"] for r in rows) == sorted(
            f["record_id"] for f in findings if f["rule_id"] == rule
        )
        assert all(r["detail"] for r in rows)  # why each record violates


def test_verdict_counts_rules_and_findings(run: ComplianceRun) -> None:
    totals = run.summary["totals"]
    text = compliance.verdict(run).html
    assert f"{totals['fail']} of {totals['rules']} rules failed" in text
    assert f"<strong>{totals['by_severity']['high']}</strong>" in text
    assert "No previous run was given" in text
    assert "Rules that did not run" in text and "data_shares" in text


def test_verdict_shows_the_change_since_the_previous_run(run: ComplianceRun) -> None:
    before = json.loads(json.dumps(run.summary))
    before["as_of"] = "2026-10-01"
    before["totals"]["fail"] -= 1
    before["totals"]["by_severity"]["high"] += 3
    for rule in before["rules"]:
        if rule["rule_id"] == "RIGHTS-LATE":
            rule["status"] = "pass"
    text = compliance.verdict(dataclasses.replace(run, history=[before])).html
    assert "What changed since the previous run (as_of 2026-10-01)" in text
    assert "+1" in text and "−3" in text
    assert "Newly failing: RIGHTS-LATE" in text


def test_failing_rules_quote_the_policy_and_show_identifiers_only(run: ComplianceRun) -> None:
    text = compliance.failing_rules(run, sample=1).html
    failing = [r for r in run.result.results if r.status == "fail"]
    assert text.count('class="pa-rule"') == len(failing)
    assert '§6.1 <span class="pa-quoted">Retention Period</span>' in text  # a quote the scan verifies
    assert html.escape(run.text.get("6.1").paragraphs[0]) in text
    assert "<code>accounts.country</code>" in text  # the rule's meaning, from the registry
    assert "the first 1 of 2" in text  # RIGHTS-LATE (R-late, R-open), bounded to one
    orders = next(r for r in failing if r.rule.id == "RET-ORDER-OVERDUE")
    assert html.escape(orders.findings.column("detail")[0].as_py()) in text  # why it violates
    assert '<a href="evidence/RET-ORDER-OVERDUE.csv">' in text


def test_failing_rules_name_a_clause_missing_from_the_policy_text(run: ComplianceRun, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("Other\n1.1 Something\nWords.\n", encoding="utf-8")
    text = compliance.failing_rules(dataclasses.replace(run, text=load_policy_text(other))).html
    assert f"§6.1: section not found in the policy text ({other})" in text


def test_measures_count_ages_against_limits(run: ComplianceRun) -> None:
    engine, policy, as_of = run.engine, run.result.policy, run.result.as_of
    orders = _rows(measures.order_ages(engine, policy, as_of))
    # GB 6 years: O-old is past; DE 10 years: O-de is within; O-erased is erased.
    assert orders == {
        (11.75, measures.PAST, 1),
        (6.75, measures.WITHIN, 1),
        (1.75, measures.WITHIN, 1),
        (16.75, measures.ERASED, 1),
    }
    tickets, still_open = measures.ticket_ages(engine, policy, as_of)
    assert _rows(tickets) == {(6.75, measures.PAST, 1)} and still_open == 1
    assert _rows(measures.event_ages(engine, policy, as_of)) == {
        (34, measures.PAST, 1),
        (1, measures.WITHIN, 1),
    }
    assert _rows(measures.response_days(engine, as_of)) == {
        (70.0, measures.ANSWERED, 1),
        (10.0, measures.ANSWERED, 1),
        (60.0, measures.OPEN, 1),
    }


@pytest.mark.parametrize(
    ("section", "drawn", "absent"),
    [
        # orders, tickets and events past their limit (red), within it (blue) and erased (grey); no holds
        (compliance.retention_ages, ["#c62828", "#5c8fc7", "#bdbdbd"], ["#9575cd"]),
        # requests answered (blue) and still open (orange); no extension was notified
        (compliance.response_times, ["#5c8fc7", "#ffb74d"], ["#9575cd"]),
    ],
)
def test_chart_sections_render_png(run: ComplianceRun, section, drawn: list[str], absent: list[str]) -> None:
    (chart,) = section(run).charts
    image = Image.open(io.BytesIO(chart.png))
    assert image.format == "PNG" and image.width >= 800
    pixels = {colour: n for n, colour in image.convert("RGB").getcolors(1 << 24) or []}

    def count(hex_colour: str) -> int:
        return pixels.get(tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)), 0)

    # Bars, not just their legend swatches (those alone make a few hundred pixels per colour).
    assert {c: count(c) >= 1000 for c in drawn} == dict.fromkeys(drawn, True)
    assert {c: count(c) for c in absent} == dict.fromkeys(absent, 0)
    assert chart.alt.startswith("Stacked bars")


def test_severity_trend_needs_history(run: ComplianceRun) -> None:
    assert not compliance.severity_trend(run).charts
    earlier = {**run.summary, "as_of": "2026-10-01"}
    assert len(compliance.severity_trend(dataclasses.replace(run, history=[earlier])).charts) == 1


def test_manifest_lists_digests_and_versions(run: ComplianceRun) -> None:
    text = compliance.manifest(run).html
    for name, digest in run.summary["input_digests"].items():
        assert name in text and digest in text
    assert run.summary["policy_digest"] in text and run.text.digest in text
    assert f"privacy-audit {run.summary['tool_version']}" in text
    assert f"duckdb {run.summary['engine_version']}" in text


def test_history_from_a_folder_of_runs(tmp_path: Path) -> None:
    for day in ("2026-09-01", "2026-10-01", "2026-11-01"):
        (tmp_path / day).mkdir()
        summary = {"as_of": day, "totals": {"by_severity": {}}, "rules": []}
        (tmp_path / day / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    history = compliance_run.load_history(tmp_path, date(2026, 11, 1))
    assert [(Path(d).name, h["as_of"]) for d, h in history] == [
        ("2026-09-01", "2026-09-01"),
        ("2026-10-01", "2026-10-01"),
    ]  # earlier runs only
    (tmp_path / "2026-10-01" / "summary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"summary\.json written by privacy-audit"):
        compliance_run.load_history(tmp_path, date(2026, 11, 1))


def test_sections_escape_the_export_and_omit_free_text(tmp_path: Path) -> None:
    export = hostile_export(tmp_path / "export")
    run = compliance_run.prepare(str(export), AS_OF, "", str(tmp_path / "out"))
    sections = [compliance.verdict, compliance.failing_rules, compliance.manifest]
    text = "".join(section(run).html for section in sections)
    assert html.escape(IMG) in text  # identifiers and the undeclared column's name, escaped
    assert SCRIPT not in text and IMG not in text
    assert FREE_TEXT not in text


AGED = {
    "accounts": [{"account_id": "A-GB", "country": "GB"}],
    "orders": [
        {"order_id": "O-old", "account_id": "A-GB", "order_date": "2015-01-01", "contact_id": "C1"},
        {"order_id": "O-aged", "account_id": "A-GB", "order_date": "2020-09-15", "contact_id": "C1"},
    ],
}


def _waivers(path: Path) -> Path:
    def entry(wid: str, expires: str, **target: object) -> dict:
        return {"id": wid, "rule": "RET-ORDER-OVERDUE", **target, "justification": f"{SCRIPT} kept for the tax audit",
                "approved_by": "Data protection officer", "expires": expires}  # fmt: skip

    waivers = [
        entry("W-SOON", "2026-11-20", records=["O-old"]),
        entry("W-STALE", "2027-06-30", records=["O-none"]),
        entry("W-EXPIRED", "2026-10-15", records=["O-aged"]),
    ]
    path.write_text(json.dumps({"version": 1, "waivers": waivers}), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def aged(root: Path) -> ComplianceRun:
    """October: O-old overdue. November, same files: O-aged has aged past GB's 6 years."""
    export = make_export(root / "aged", AGED)
    compliance_run.prepare(str(export), "2026-10-01", "", str(root / "runs" / "october"))
    waivers = _waivers(root / "waivers.yaml")
    return compliance_run.prepare(
        str(export), AS_OF, "", str(root / "runs" / "november"), str(root / "runs"), str(waivers)
    )


def test_verdict_tells_what_changed_since_the_previous_run(aged: ComplianceRun) -> None:
    text = compliance.verdict(aged).html
    assert "What changed since the previous run (as_of 2026-10-01)" in text
    assert "No file of the export changed. The policy is the same. The waivers changed." in text
    assert "Nothing in the data or the policy changed: the new findings (1) are records that aged" in text
    assert "1 new finding · 0 resolved since then" in text


def test_rule_lifecycle_counts_open_waived_new_resolved(aged: ComplianceRun) -> None:
    text = compliance.rule_lifecycle(aged).html
    cells = ["<td>RET-ORDER-OVERDUE</td><td>high</td><td>fail</td>"]
    cells += [f'<td class="pa-num">{n}</td>' for n in (1, 1, 1, 0)]  # open, waived, new, resolved
    assert "".join(cells) in text


def test_waivers_section_shows_who_approved_what_until_when(aged: ComplianceRun) -> None:
    text = compliance.waivers(aged).html
    assert html.escape(f"{SCRIPT} kept for the tax audit") in text and SCRIPT not in text
    assert "Data protection officer" in text
    assert '<tr class="pa-expiring"><td>W-SOON</td>' in text and "2026-11-20 (in 19 days)" in text
    assert "<td>W-STALE</td>" in text.split("Stale (1)")[1]
    assert "<td>W-EXPIRED</td>" in text.split("Expired (1)")[1].split("Stale")[0]
    assert "1 waiver expire within 30 days" in text


def test_failing_rules_show_open_findings_only(aged: ComplianceRun) -> None:
    text = compliance.failing_rules(aged).html
    assert "1 open finding (1 more waived) of 2 records checked" in text
    assert "O-aged" in text and "O-old" not in text  # O-old is waived
    assert '<td class="pa-mono">new</td><td class="pa-mono">2026-11-01</td>' in text


def test_severity_trend_charts_the_folder_of_runs(aged: ComplianceRun) -> None:
    (chart,) = compliance.severity_trend(aged).charts
    assert chart.alt == "Stacked bars of findings by severity for 2 runs."


def test_a_folder_that_is_not_runs_is_unusable(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a run", encoding="utf-8")
    with pytest.raises(InputError, match="a run folder, or a folder of run folders"):
        compliance_run.load_history(tmp_path, date(2026, 11, 1))
    (tmp_path / "first").mkdir()  # the first scheduled run: a folder of runs, none yet
    assert compliance_run.load_history(tmp_path / "first", date(2026, 11, 1)) == []


def test_rules_table_lists_every_rule_and_links_the_failing_ones(run: ComplianceRun) -> None:
    text = compliance.rules_table(run).html
    assert text.count("<tr>") == len(run.result.results) + 1  # the header row, then one per rule
    for result in run.result.results:
        link = f'<a href="#{compliance.anchor(result.rule.id)}">'
        assert (link in text) == (result.status == "fail"), result.rule.id
    failing = compliance.failing_rules(run).html
    assert all(
        f'id="{compliance.anchor(r.rule.id)}"' in failing for r in run.result.results if r.status == "fail"
    )
    assert '<a href="#manifest">' in text


def test_a_rule_quotes_its_bullet_and_keeps_the_section_one_click_away(run: ComplianceRun) -> None:
    text = compliance.failing_rules(run).html
    orders = text.split(f'id="{compliance.anchor("RET-ORDER-OVERDUE")}"')[1].split('class="pa-rule"')[0]
    bullet = next(p for p in run.text.get("6.1").paragraphs if "Order and Transaction Records" in p)
    quoted, details = orders.split("<details>")
    assert html.escape(bullet.lstrip("- ")) in quoted
    assert html.escape(run.text.get("6.1").paragraphs[0]) not in quoted  # not the whole section
    assert html.escape(run.text.get("6.1").paragraphs[0]) in details


def test_every_rule_declares_a_promise_found_in_the_bundled_text() -> None:
    from privacy_audit.reporting.compliance.promises import PROMISES, quote
    from privacy_audit.rules import REGISTRY

    text = load_policy_text()
    assert set(PROMISES) == set(REGISTRY)
    for rule_id, (number, phrase) in PROMISES.items():
        assert number in REGISTRY[rule_id].clauses, rule_id
        assert quote(text.get(number), phrase), rule_id


def test_age_charts_say_how_many_records_are_past_their_limit(run: ComplianceRun) -> None:
    (chart,) = compliance.retention_ages(run).charts
    assert "Orders · 1 past its limit" in chart.alt  # O-old: GB keeps orders 6 years
