"""Findings and the run summary: their exact shape (export contract, "Audit output").

``write_outputs`` fills a folder that ``outputs.folder.staged_output`` publishes atomically.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from privacy_audit import __version__
from privacy_audit.reporting.compliance.policy_text import NOT_FOUND, not_found
from privacy_audit.rules import Rule

if TYPE_CHECKING:
    from privacy_audit.audit import AuditResult

RECORD_SCHEMA = pa.schema(
    [
        ("rule_id", pa.string()),
        ("severity", pa.string()),
        ("table_name", pa.string()),
        ("record_id", pa.string()),
        ("subject_id", pa.string()),
        ("clause", pa.string()),
        ("detail", pa.string()),
    ]
)  # what a rule finds; the lifecycle (waivers, previous run) adds the rest
FINDINGS_SCHEMA = pa.schema(
    [
        *RECORD_SCHEMA,
        ("status", pa.string()),  # open | waived
        ("waiver_id", pa.string()),  # the waiver matching it, in force or expired
        ("change", pa.string()),  # new | persisting since the previous run
        ("first_seen", pa.date32()),  # as_of of the earliest run that found it
    ]
)
RESOLVED_SCHEMA = FINDINGS_SCHEMA.append(pa.field("resolved_as_of", pa.date32()))
KEY = ["rule_id", "table_name", "record_id"]  # what identifies a finding from one run to the next
SEVERITIES = ("critical", "high", "medium", "low")
SUMMARY_FILE = "summary.json"


def findings_query(rule: Rule, columns: Collection[str], clause: str | None = None) -> tuple[str, dict]:
    """The SQL (and its parameters) turning a rule query's rows into findings, sorted.

    The rule's rows have record_id, subject_id, detail and, when it spans tables, table_name
    (``columns`` are the ones it has); rule id, severity and ``clause`` (the policy-text sections
    they cite, by default the rule's declared ones) are parameters, so the engine writes the
    findings to a file without them ever being a table in Python. Subject and detail break
    ties of table and record, so that a rule's findings come out in the same order every run.
    """

    def text(name: str) -> str:
        return f"CAST(found.{name} AS VARCHAR)" if name in columns else "CAST(NULL AS VARCHAR)"

    table = text("table_name") if "table_name" in columns else "CAST($finding_table AS VARCHAR)"
    sql = (
        "SELECT CAST($finding_rule AS VARCHAR) AS rule_id, CAST($finding_severity AS VARCHAR) AS severity, "
        f"{table} AS table_name, {text('record_id')} AS record_id, {text('subject_id')} AS subject_id, "
        f"CAST($finding_clause AS VARCHAR) AS clause, {text('detail')} AS detail FROM ({rule.sql}) AS found "
        "ORDER BY table_name NULLS LAST, record_id NULLS LAST, subject_id NULLS LAST, detail NULLS LAST"
    )
    params = {
        "finding_rule": rule.id,
        "finding_severity": rule.severity.value,
        "finding_table": rule.table,
        "finding_clause": clause or rule.clause,
    }
    return sql, params


def summary(result: AuditResult) -> dict[str, object]:
    """summary.json: per-rule status and counts, waivers, the change since the previous run, manifest.

    A rule's ``clause`` is the sections of the policy text in force it cites; ``policy_text``
    says whether the text has them all ("quoted") or names those it lacks.
    """

    def quoted(rule: Rule) -> str:
        missing = not_found(result.text, result.policy, rule)
        return f"{NOT_FOUND}: {', '.join(missing)}" if missing else "quoted"

    life = result.lifecycle
    mapping = result.export.mapping
    rules = []
    for r in result.results:
        counts = life.counts_of(r.rule.id)
        rules.append(
            {
                "rule_id": r.rule.id,
                "severity": r.rule.severity.value,
                "clause": ", ".join(r.rule.sections(result.policy)),
                "policy_text": quoted(r.rule),
                "status": r.status,
                "checked": r.checked,
                "violations": r.violations,
                "open": counts.open,
                "waived": counts.waived,
                "new": counts.new,
                "resolved": counts.resolved,
                "reason": r.reason,
                "seconds": round(r.seconds, 4),
            }
        )
    by_status = {s: sum(r["status"] == s for r in rules) for s in ("pass", "fail", "skipped", "error")}

    def by_severity(key: str) -> dict[str, int]:
        return {s: sum(r[key] for r in rules if r["severity"] == s) for s in SEVERITIES}

    digests = dict(sorted(result.export.digests.items()))
    waivers = result.waivers
    return {
        "as_of": result.as_of.isoformat(),
        "tool_version": __version__,
        "policy_file": result.policy_file,
        "policy_digest": result.policy_digest,  # the file's bytes, as `verify` recomputes them
        "policy_effective_digest": result.policy.effective_digest,  # the promises checked
        "policy_effective": result.policy.effective(),  # the file merged over the defaults
        "policy_text": result.text.source,
        "policy_text_digest": result.text.digest,
        "waivers_file": waivers.file if waivers else None,
        "waivers_digest": waivers.digest if waivers else None,
        "input_digests": digests,
        "ignored_files": result.export.ignored,
        "mapping_file": mapping.file if mapping else None,
        "mapping_digest": mapping.sha256 if mapping else None,
        "tables": result.export.manifest(),
        "engine": result.engine,
        "engine_version": result.engine_version,
        "started_at": result.started_at.isoformat(timespec="seconds"),
        "finished_at": result.finished_at.isoformat(timespec="seconds"),
        "totals": {
            "rules": len(rules),
            **by_status,
            "findings": sum(r["violations"] for r in rules),
            "by_severity": by_severity("violations"),
            **{k: sum(r[k] for r in rules) for k in ("open", "waived", "new", "resolved")},
            "open_by_severity": by_severity("open"),
        },
        "rules": rules,
        "waivers": [
            {
                "waiver_id": u.waiver.id,
                "rule_id": u.waiver.rule,
                "expires": u.waiver.expires.isoformat(),
                "state": u.state,
                "matched": u.matched,
            }
            for u in life.uses
        ],
        "expired_waivers": [u.waiver.id for u in life.uses if u.state == "expired"],
        "stale_waivers": [u.waiver.id for u in life.uses if u.state == "stale"],
        "previous": life.changes(
            digests,
            (result.policy_digest, result.policy.effective_digest),
            waivers.digest if waivers else None,
        ),
    }


def write_outputs(result: AuditResult, directory: Path) -> None:
    """Write findings.parquet, resolved.parquet and summary.json into ``directory`` (not atomic by itself).

    The lifecycle already wrote both Parquet files; they are linked (or copied) into place, and
    stay where they were for whoever reads the result afterwards.
    """
    for source in (result.lifecycle.findings_file, result.lifecycle.resolved_file):
        target = directory / source.name
        try:
            os.link(source, target)
        except OSError:  # another file system, or one without hard links
            shutil.copyfile(source, target)
    (directory / SUMMARY_FILE).write_text(json.dumps(summary(result), indent=2) + "\n", encoding="utf-8")
