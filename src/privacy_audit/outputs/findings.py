"""Findings and the run summary: their exact shape (export contract, "Audit output").

``write_outputs`` fills a folder that ``outputs.folder.staged_output`` publishes atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

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


def findings_table(rule: Rule, rows: pa.Table, clause: str | None = None) -> pa.Table:
    """Turn a rule query's rows (record_id, subject_id, detail[, table_name]) into findings.

    ``clause`` is the policy-text sections they cite, by default the rule's declared ones.
    """
    n = rows.num_rows

    def text(name: str, default: str | None = None) -> pa.Array:
        if name in rows.column_names:
            return pc.cast(rows.column(name), pa.string()).combine_chunks()
        return pa.array([default] * n, pa.string())

    return pa.table(
        [
            pa.array([rule.id] * n, pa.string()),
            pa.array([rule.severity.value] * n, pa.string()),
            text("table_name", rule.table),
            text("record_id"),
            text("subject_id"),
            pa.array([clause or rule.clause] * n, pa.string()),
            text("detail"),
        ],
        schema=RECORD_SCHEMA,
    ).sort_by([("table_name", "ascending"), ("record_id", "ascending")])


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
    """Write findings.parquet, resolved.parquet and summary.json into ``directory`` (not atomic by itself)."""
    pq.write_table(result.findings(), directory / "findings.parquet")
    pq.write_table(result.lifecycle.resolved, directory / "resolved.parquet")
    (directory / SUMMARY_FILE).write_text(json.dumps(summary(result), indent=2) + "\n", encoding="utf-8")
