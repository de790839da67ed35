"""The compliance report for auditors: one function per section, each returning a Section.

Every function turns one ``ComplianceRun`` (see ``compliance_run.prepare``) into one part of
the report. Evidence is shown by identifier (table, record_id, subject_id) with the finding's
``detail``, the rule's own sentence of why the record violates (dates, limits, never a value of
the record); every finding of a failing rule is in ``evidence/RULE-ID.csv``, linked. An engine's
error message is left in summary.json, and no value is read from the export beyond counts for
the charts.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from privacy_audit.audit import RuleResult
from privacy_audit.lifecycle import EXPIRING_DAYS, Waiver
from privacy_audit.outputs.findings import SEVERITIES
from privacy_audit.reporting.common.charts import Panel, severity_over_time, stacked_panels
from privacy_audit.reporting.common.html import (
    QUOTE_CLASS,
    Section,
    esc,
    quoted,
    scroll_box,
    severity_badge,
    table,
    tag,
    tiles,
    with_code,
)
from privacy_audit.reporting.compliance import measures
from privacy_audit.reporting.compliance.policy_text import NOT_FOUND, not_found, scope
from privacy_audit.reporting.compliance.promises import promise_of, quote
from privacy_audit.reporting.compliance.rule_evidence import evidence_name
from privacy_audit.reporting.compliance.run import ComplianceRun
from privacy_audit.rules import REGISTRY, Severity

STATUSES = ("pass", "fail", "skipped", "error")
LIFECYCLE = ("open", "waived", "new", "resolved")
AGE_COLOURS = [
    (measures.ERASED, "#bdbdbd"),
    (measures.WITHIN, "#5c8fc7"),
    (measures.HELD, "#9575cd"),
    (measures.PAST, "#c62828"),
]
OVERDUE = (measures.HELD, measures.PAST)  # never to vanish beside thousands of records in time


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _change(now: int, before: int) -> str:
    delta = now - before
    return f"+{delta}" if delta > 0 else ("±0" if delta == 0 else f"−{-delta}")


KEPT, BROKEN, SKIPPED, NOT_EVIDENCED = "kept", "broken", "skipped", "not evidenced by the export"


def _kept(rules: tuple[str, ...], statuses: dict[str, str]) -> str:
    """A section's verdict: broken if a rule failed, kept only if every rule ran and passed."""
    if not rules:
        return NOT_EVIDENCED
    got = [statuses.get(r, "not run") for r in rules]
    if "fail" in got:
        return BROKEN
    return KEPT if all(g == "pass" for g in got) else SKIPPED


def coverage(run: ComplianceRun) -> Section:
    """The report's opening: every section of the policy text, its rules and its verdict.

    An audit is only as honest as its scope: a section no export can evidence says so and why,
    and a rule citing a section the policy text lacks is listed, never quoted from elsewhere.
    """
    policy, statuses = run.result.policy, {r.rule.id: r.status.value for r in run.result.results}
    rows, verdicts = [], []
    for s in scope(run.text, policy, REGISTRY.values()):
        verdicts.append(_kept(s.rules, statuses))
        checked_by = ", ".join(f"{r} ({statuses.get(r, 'not run')})" for r in s.rules) or "—"
        title = Markup(f"§{esc(s.section)} ") + quoted(s.title)
        rows.append((title, checked_by, verdicts[-1], quoted(s.not_evidenced) if s.not_evidenced else ""))
    counts = " · ".join(f"{verdicts.count(v)} {v}" for v in (KEPT, BROKEN, SKIPPED, NOT_EVIDENCED))
    section = Section().add(
        tag("h1", "Privacy compliance report")
        + tag(
            "p",
            f"Audit date (as_of) {esc(run.summary['as_of'])} · policy file {esc(run.summary['policy_file'])}"
            f" · policy text {esc(run.text.source)}",
        )
        + tag("h2", "Scope: every section of the policy")
        + tag("p", esc(f"{len(rows)} sections: {counts}"))
        + table(["section", "checked by (status)", "verdict", "not evidenced by the export"], rows)
    )
    missing = [(r.id, ", ".join(not_found(run.text, policy, r))) for r in REGISTRY.values()]
    missing = [(rule, f"§{sections}: {NOT_FOUND}") for rule, sections in missing if sections]
    if missing:
        section.add(
            tag("h3", "Rules citing a section the policy text lacks") + table(["rule", "section"], missing)
        )
    return section


def _open_rules(run: ComplianceRun) -> int:
    return sum(1 for r in run.summary["rules"] if r["open"])


def verdict(run: ComplianceRun) -> Section:
    """The one-screen verdict: rules, open findings by severity, the change since the last run."""
    totals = run.summary["totals"]
    failed, rules, errors = _open_rules(run), totals["rules"], totals["error"]
    incomplete = f" · {_plural(errors, 'rule')} could not run: this run is incomplete" if errors else ""
    if failed:
        headline = f"{failed} of {rules} rules failed · {totals['open']} open findings{incomplete}"
        cls = "pa-verdict pa-bad"
    elif errors:
        headline, cls = (
            f"No rule failed, but {errors} could not run: this run is incomplete",
            "pa-verdict pa-warn",
        )
    else:
        headline, cls = f"All {rules - totals['skipped']} rules that ran passed", "pa-verdict pa-good"
    section = Section().add(
        tag("h2", "Verdict")
        + tag("div", esc(headline), cls)
        + tag("h3", "Rules")
        + tiles([("failed (open findings)", failed), *((s, totals[s]) for s in ("pass", "skipped", "error"))])
        + tag("h3", "Open findings by severity")
        + tiles([(severity_badge(s), totals["open_by_severity"][s]) for s in SEVERITIES])
        + tag("h3", "Findings")
        + tiles([(key, totals[key]) for key in LIFECYCLE])
    )
    section.add(_since_previous(run))
    not_run = [r for r in run.result.results if r.status in ("skipped", "error")]
    if not_run:
        section.add(
            tag("h3", "Rules that did not run")
            + table(["rule", "status", "reason"], [(r.rule.id, r.status, _reason(r)) for r in not_run])
        )
    return section


def _reason(result: RuleResult) -> str:
    """Why a rule did not run; an engine's message may quote data, so it stays in summary.json."""
    if result.status == "error":
        return "the rule's query failed in the engine (its message is in summary.json)"
    return result.reason or ""


def _what_changed(change: dict) -> str:
    """Data changed or not, policy changed or not: which story the new findings tell."""
    files = [
        f"{_plural(len(change[key]), 'file')} {word} ({', '.join(change[key])})"
        for key, word in (
            ("files_changed", "changed"),
            ("files_added", "added"),
            ("files_removed", "removed"),
        )
        if change[key]
    ]
    data = f"The export changed: {'; '.join(files)}." if files else "No file of the export changed."
    policy = "The policy changed." if change["policy_changed"] else "The policy is the same."
    waivers = "The waivers changed." if change["waivers_changed"] else "The waivers are the same."
    return " ".join((data, policy, waivers))


def _since_previous(run: ComplianceRun) -> str:
    if not run.history:
        return tag("p", "No previous run was given (previous): every finding counts as new.", "pa-muted")
    before = run.history[-1]
    now_t, before_t = run.summary["totals"], before["totals"]
    rows = [(s, now_t[s], before_t.get(s, 0), _change(now_t[s], before_t.get(s, 0))) for s in STATUSES]
    old_sev = before_t.get("by_severity", {})
    rows += [
        (
            f"{s} findings",
            now_t["by_severity"][s],
            old_sev.get(s, 0),
            _change(now_t["by_severity"][s], old_sev.get(s, 0)),
        )
        for s in SEVERITIES
    ]
    was = {r["rule_id"]: r["status"] for r in before["rules"]}
    now = {r["rule_id"]: r["status"] for r in run.summary["rules"]}
    new = sorted(r for r, s in now.items() if s == "fail" and was.get(r) != "fail")
    fixed = sorted(r for r, s in now.items() if s == "pass" and was.get(r) == "fail")
    change = run.summary.get("previous")
    story = ""
    if change:
        story = tag("p", esc(_what_changed(change)))
        if not (change["export_changed"] or change["policy_changed"]) and now_t["new"]:
            aged = f"the new findings ({now_t['new']}) are records that aged past a limit"
            story += tag("p", esc(f"Nothing in the data or the policy changed: {aged}."))
    return (
        tag("h3", f"What changed since the previous run (as_of {esc(before['as_of'])})")
        + story
        + tag("p", esc(f"{_plural(now_t['new'], 'new finding')} · {now_t['resolved']} resolved since then."))
        + table(["", "now", "previous", "change"], rows, numeric=(1, 2, 3))
        + tag(
            "p",
            f"Newly failing: {esc(', '.join(new) or 'none')} · no longer failing: {esc(', '.join(fixed) or 'none')}",
        )
    )


def rule_lifecycle(run: ComplianceRun) -> Section:
    """Per rule: open, waived, new and resolved findings — the rules where anything is to see."""
    rows = [
        (r["rule_id"], r["severity"], r["status"], *(r[k] for k in LIFECYCLE))
        for r in run.summary["rules"]
        if any(r[k] for k in LIFECYCLE)
    ]
    section = Section().add(tag("h2", "Findings per rule: open, waived, new, resolved"))
    if not rows:
        return section.add(tag("p", "No rule has findings, and none were resolved.", "pa-muted"))
    header = ["rule", "severity", "status", *LIFECYCLE]
    return section.add(table(header, rows, numeric=(3, 4, 5, 6)))


def _target(waiver: Waiver) -> str:
    if waiver.records:
        return _plural(len(waiver.records), "record")
    return _plural(len(waiver.subjects), "subject") if waiver.subjects else "the whole rule"


def waivers(run: ComplianceRun) -> Section:
    """The waivers in force (justification, approver, expiry), expiring soon, expired and stale."""
    section = Section().add(tag("h2", "Waivers: findings accepted as known risks"))
    if run.result.waivers is None:
        return section.add(
            tag("p", "No waivers file was given (waivers): every finding is open.", "pa-muted")
        )
    as_of, uses = run.result.as_of, run.result.lifecycle.uses
    section.add(
        tag(
            "p",
            f"{esc(run.result.waivers.file)} · sha256 {esc(run.result.waivers.digest)}",
            "pa-mono",
        )
    )
    in_force = [u for u in uses if u.state in ("in_force", "stale", "not_checked")]
    days = [(u.waiver.expires - as_of).days for u in in_force]
    rows = [
        (
            u.waiver.id,
            u.waiver.rule,
            _target(u.waiver),
            u.matched if u.state != "not_checked" else "rule did not run",
            u.waiver.justification,
            u.waiver.approved_by,
            f"{u.waiver.expires} (in {_plural(d, 'day')})" if d <= EXPIRING_DAYS else str(u.waiver.expires),
            u.waiver.ticket or "",
        )
        for u, d in zip(in_force, days, strict=True)
    ]
    soon = sum(d <= EXPIRING_DAYS for d in days)
    section.add(
        tag("h3", f"In force as of {esc(as_of)} ({len(rows)})")
        + (tag("p", esc(f"{_plural(soon, 'waiver')} expire within {EXPIRING_DAYS} days (highlighted)."), "pa-warn") if soon else "")
        + table(
            ["waiver", "rule", "covers", "findings waived", "justification", "approved by", "expires", "ticket"],
            rows,
            numeric=(3,),
            row_classes=["pa-expiring" if d <= EXPIRING_DAYS else None for d in days],
        )
    )  # fmt: skip
    expired = [
        (u.waiver.id, u.waiver.rule, str(u.waiver.expires), u.matched) for u in uses if u.state == "expired"
    ]
    stale = [(u.waiver.id, u.waiver.rule, str(u.waiver.expires)) for u in uses if u.state == "stale"]
    section.add(
        tag("h3", f"Expired ({len(expired)}): they waive nothing, their findings are open again")
        + (table(["waiver", "rule", "expired after", "findings open again"], expired, numeric=(3,)) if expired else tag("p", "None.", "pa-muted"))
        + tag("h3", f"Stale ({len(stale)}): in force but matching no finding")
        + (table(["waiver", "rule", "expires"], stale) if stale else tag("p", "None.", "pa-muted"))
    )  # fmt: skip
    return section


def _n(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def anchor(rule_id: str) -> str:
    """The id of a rule's section, the target of its row in the rules table."""
    return "rule-" + re.sub(r"[^A-Za-z0-9-]", "-", rule_id)


def _promise(run: ComplianceRun, result: RuleResult) -> str:
    """The bullet or sentence the rule checks, each of its sections whole one click away."""
    sections = result.rule.sections(run.result.policy)
    # The declared phrase quotes the bundled text; a rule mapped to other sections quotes them whole.
    number, phrase = (
        promise_of(result.rule.id, sections) if sections == result.rule.clauses else (sections[0], "")
    )
    shown = ""
    for n in dict.fromkeys((number, *sections)):
        clause = run.text.get(n)
        if clause is None:
            shown += tag("blockquote", f"§{esc(n)}: {NOT_FOUND} ({esc(run.text.source)}).", "pa-quote")
            continue
        words = quote(clause, phrase) if n == number else ""
        heading = f"§{esc(clause.number)} {quoted(clause.title)}"
        full = "".join(tag("p", esc(p), QUOTE_CLASS) for p in clause.paragraphs)
        shown += tag(
            "blockquote",
            tag("p", tag("strong", heading) + (f": {quoted(words)}" if words else "")),
            "pa-quote",
        ) + tag("details", tag("summary", f"The whole of {heading}") + full)
    return shown


def rules_table(run: ComplianceRun) -> Section:
    """Every rule in one table, worst status first, each failing rule linked to its section."""
    order = {"fail": 0, "error": 1, "pass": 2, "skipped": 3}
    results = sorted(
        run.result.results, key=lambda r: (order.get(r.status, 4), -Severity(r.rule.severity).rank, r.rule.id)
    )
    rows = "".join(
        tag(
            "tr",
            tag("td", tag_link(r), "pa-mono")
            + tag("td", esc(r.rule.clause))
            + tag("td", severity_badge(r.rule.severity.value))
            + tag("td", esc(r.status))
            + tag("td", _n(r.violations), "pa-num")
            + tag("td", _n(r.checked), "pa-num"),
        )
        for r in results
    )
    head = "".join(
        tag("th", h, "pa-num" if i > 3 else None)
        for i, h in enumerate(["rule", "clause", "severity", "status", "findings", "records checked"])
    )
    contents = tag(
        "ul",
        "".join(
            tag("li", f'<a href="#{target}">{label}</a>')
            for target, label in [
                ("rules", "Rules"),
                ("ages", "Records by age"),
                ("responses", "Rights requests"),
                ("trend", "Findings over time"),
                ("failing", "Failing rules"),
                ("manifest", "Run manifest"),
            ]
        ),
        "pa-toc",
    )
    return Section().add(
        tag("h2", "Contents")
        + contents
        + '<h2 id="rules">Rules</h2>'
        + scroll_box(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    )


def tag_link(result: RuleResult) -> str:
    """A failing rule's id as a link to its section; the others as plain text."""
    if result.status != "fail":
        return esc(result.rule.id)
    return f'<a href="#{anchor(result.rule.id)}">{esc(result.rule.id)}</a>'


def _rule_section(run: ComplianceRun, result: RuleResult, sample: int) -> str:
    rule, counts = result.rule, run.result.lifecycle.counts_of(result.rule.id)
    columns = ["table_name", "record_id", "subject_id", "change", "first_seen", "detail"]
    evidence: list[dict] = []
    for batch in run.result.finding_batches(columns, rule_id=rule.id, status="open"):
        evidence += batch.slice(0, sample - len(evidence)).to_pylist()
        if len(evidence) >= sample:
            break
    csv = evidence_name(rule.id)
    n = counts.open
    shown = f"the first {len(evidence):,} of {n:,} open" if n > len(evidence) else f"all {n:,} open"
    waived = f" ({counts.waived} more waived)" if counts.waived else ""
    return tag(
        "div",
        f'<h3 id="{anchor(rule.id)}">'
        f"{esc(rule.id)} {severity_badge(rule.severity.value)} · {_plural(n, 'open finding')}{esc(waived)} "
        f"of {_plural(result.checked, 'record')} checked</h3>"
        + tag("p", tag("strong", "The promise"))
        + _promise(run, result)
        + tag(
            "p",
            tag("strong", "What the audit checks: ")
            + tag("span", with_code(rule.docs(run.result.policy).what), QUOTE_CLASS),
        )
        + tag(
            "p",
            tag("strong", f"Evidence, by identifier ({shown})")
            + f' · every finding of the rule: <a href="{csv}">{csv}</a> (identifiers and why)',
        )
        + table(
            ["table", "record id", "subject id", "change", "first seen", "why it violates"],
            [tuple(e.values()) for e in evidence],
            text_class="pa-mono",
        ),
        "pa-rule",
    )


def failing_rules(run: ComplianceRun, sample: int = 10) -> Section:
    """Per rule with open findings, worst first: the policy's words, the rule's meaning, evidence."""
    failing = sorted(
        (r for r in run.result.results if run.result.lifecycle.counts_of(r.rule.id).open),
        key=lambda r: (-Severity(r.rule.severity).rank, r.rule.id),
    )
    section = Section().add(f'<h2 id="failing">Failing rules ({len(failing)})</h2>')
    if not failing:
        return section.add(tag("p", "No rule has open findings.", "pa-muted"))
    for result in failing:
        section.add(_rule_section(run, result, sample))
    return section


def _order_limits(run: ComplianceRun) -> list[tuple[float, str]]:
    retention = run.result.policy.order_retention_years
    by_years: dict[int, list[str]] = {}
    for country, years in retention.by_country.items():
        by_years.setdefault(years, []).append(country)
    limits = [(float(y), f"{y} y: {', '.join(sorted(c))}") for y, c in by_years.items()]
    return sorted([*limits, (float(retention.default), f"{retention.default} y: other countries")])


def retention_ages(run: ComplianceRun) -> Section:
    """Records by age against their retention limit: orders, support tickets, web events."""
    engine, policy, as_of = run.engine, run.result.policy, run.result.as_of
    tickets, still_open = measures.ticket_ages(engine, policy, as_of)
    panels = [
        Panel(
            "Orders",
            "age since order_date (years)",
            measures.order_ages(engine, policy, as_of),
            0.25,
            AGE_COLOURS,
            _order_limits(run),
            flagged=OVERDUE,
        ),
        Panel(
            "Support tickets",
            "age since closed_at (years)",
            tickets,
            0.25,
            AGE_COLOURS,
            [(float(policy.ticket_retention_years), f"{policy.ticket_retention_years} y")],
            note=f"{_plural(still_open, 'open ticket')} not shown: the clock starts when a ticket closes.",
            flagged=OVERDUE,
        ),
        Panel(
            "Web events",
            "age since occurred_at (months)",
            measures.event_ages(engine, policy, as_of),
            1.0,
            AGE_COLOURS,
            [(float(policy.usage_retention_months), f"{policy.usage_retention_months} months")],
            flagged=OVERDUE,
        ),
    ]
    alt = "Stacked bars of orders, support tickets and web events by age, with dashed lines at each retention limit."
    return (
        Section()
        .add(
            '<h2 id="ages">Records by age against their retention limit</h2>'
            + tag(
                "p",
                "Red: records that still hold personal data past their own limit (an order's is its "
                "partner's country's); purple: the same, under a legal hold; grey: erased or deleted. "
                "Each panel's title counts them; a bar of them too low to see carries its count. "
                f"Findings also allow {policy.deletion_grace_days} days of grace for the monthly deletion job.",
            )
        )
        .add(stacked_panels(panels, alt))
    )


def response_times(run: ComplianceRun) -> Section:
    """Rights requests by days to answer, against the response and extended limits."""
    policy = run.result.policy
    days = measures.response_days(run.engine, run.result.as_of)
    limits = [
        (float(policy.request_response_days), f"{policy.request_response_days} days"),
        (float(policy.request_extended_days), f"{policy.request_extended_days} days, if extension notified"),
    ]
    colours = [(measures.ANSWERED, "#5c8fc7"), (measures.EXTENDED, "#9575cd"), (measures.OPEN, "#ffb74d")]
    panel = Panel(
        "Rights requests",
        "days from received_at to completed_at (or to as_of while open)",
        days,
        5.0,
        colours,
        limits,
    )
    return (
        Section()
        .add(
            '<h2 id="responses">Rights requests: response times</h2>'
            + tag(
                "p",
                f"{int(days['n'].sum())} requests; the longer limit applies only when the extension was notified in time.",
            )
        )
        .add(
            stacked_panels(
                [panel], "Stacked bars of rights requests by days to answer, with dashed lines at the limits."
            )
        )
    )


def severity_trend(run: ComplianceRun) -> Section:
    """Findings by severity over the previous runs and this one (only when history exists)."""
    section = Section().add('<h2 id="trend">Findings by severity over time</h2>')
    if not run.history:
        return section.add(tag("p", "No previous runs were given (previous): no trend yet.", "pa-muted"))
    runs = [(s["as_of"], s["totals"].get("by_severity", {})) for s in [*run.history, run.summary]]
    return section.add(
        severity_over_time(runs, f"Stacked bars of findings by severity for {len(runs)} runs.")
    )


def _verify_command(run: ComplianceRun) -> str:
    """The command an auditor runs on this report's folder to check that nothing was edited."""
    key = " --key PUBLIC_KEY.pem" if run.signature else ""
    return f"privacy-audit verify REPORT_FOLDER --export {run.result.export.root}{key}"


def manifest(run: ComplianceRun) -> Section:
    """What was checked, with what: dates, digests, versions, the signature and how to verify it."""
    s = run.summary
    signed = (
        f"yes: attestation.dsse.json, Ed25519 key {run.signature.fingerprint}"
        if run.signature
        else "no (attestation.json is unsigned; --sign-key KEY signs it)"
    )
    rows = [
        ("as_of", s["as_of"]),
        ("policy file", s["policy_file"]),
        ("policy digest (sha256)", s["policy_digest"]),
        ("policy text", run.text.source),
        ("policy text digest (sha256)", run.text.digest),
        ("tool version", f"privacy-audit {s['tool_version']}"),
        ("engine", f"{s['engine']} {s['engine_version']}"),
        ("started / finished (UTC)", f"{s['started_at']} / {s['finished_at']}"),
        ("rules run", s["totals"]["rules"]),
        ("files in the export that are not tables", ", ".join(s["ignored_files"]) or "none"),
        ("signed", signed),
    ]
    return Section().add(
        '<h2 id="manifest">Run manifest</h2>'
        + table(["item", "value"], rows, text_class="pa-mono")
        + tag(
            "p",
            "Verify that no output (and, with --export, no input) changed since the run: "
            + tag("code", esc(_verify_command(run)))
            + (" with the public key of the fingerprint above." if run.signature else "."),
        )
        + tag("h3", "Input files")
        + table(["file", "sha256"], list(s["input_digests"].items()), text_class="pa-mono")
    )
