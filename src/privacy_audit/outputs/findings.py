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
from privacy_audit.rules import Rule

if TYPE_CHECKING:
    from privacy_audit.audit import AuditResult

FINDINGS_SCHEMA = pa.schema(
    [
        ("rule_id", pa.string()),
        ("severity", pa.string()),
        ("table_name", pa.string()),
        ("record_id", pa.string()),
        ("subject_id", pa.string()),
        ("clause", pa.string()),
        ("detail", pa.string()),
    ]
)
SEVERITIES = ("critical", "high", "medium", "low")


def findings_table(rule: Rule, rows: pa.Table) -> pa.Table:
    """Turn a rule query's rows (record_id, subject_id, detail[, table_name]) into findings."""
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
            pa.array([rule.clause] * n, pa.string()),
            text("detail"),
        ],
        schema=FINDINGS_SCHEMA,
    ).sort_by([("table_name", "ascending"), ("record_id", "ascending")])


def summary(result: AuditResult) -> dict[str, object]:
    """summary.json: per-rule status and counts, plus the run's manifest."""
    mapping = result.export.mapping
    rules = [
        {
            "rule_id": r.rule.id,
            "severity": r.rule.severity.value,
            "clause": r.rule.clause,
            "status": r.status,
            "checked": r.checked,
            "violations": r.violations,
            "reason": r.reason,
            "seconds": round(r.seconds, 4),
        }
        for r in result.results
    ]
    by_status = {s: sum(r["status"] == s for r in rules) for s in ("pass", "fail", "skipped", "error")}
    by_severity = {
        s: sum(r.violations for r in result.results if r.rule.severity.value == s) for s in SEVERITIES
    }
    return {
        "as_of": result.as_of.isoformat(),
        "tool_version": __version__,
        "policy_file": result.policy_file,
        "policy_digest": result.policy_digest,
        "input_digests": dict(sorted(result.export.digests.items())),
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
            "findings": sum(by_severity.values()),
            "by_severity": by_severity,
        },
        "rules": rules,
    }


def write_outputs(result: AuditResult, directory: Path) -> None:
    """Write findings.parquet and summary.json into ``directory`` (not atomic by itself)."""
    pq.write_table(result.findings(), directory / "findings.parquet")
    (directory / "summary.json").write_text(json.dumps(summary(result), indent=2) + "\n", encoding="utf-8")
