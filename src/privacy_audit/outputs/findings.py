"""Findings and the run summary: their exact shape (export contract, "Audit output") and writing.

Outputs are written into a fresh directory beside OUT_DIR and renamed into place, so a run that
fails leaves either the previous output or nothing — never half of a new one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from privacy_audit import __version__
from privacy_audit.engine.storage import is_uri
from privacy_audit.errors import InputError
from privacy_audit.reporting.compliance.policy_text import NOT_FOUND, not_found
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
OUTPUT_MARKER = "summary.json"


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
        schema=FINDINGS_SCHEMA,
    ).sort_by([("table_name", "ascending"), ("record_id", "ascending")])


def summary(result: AuditResult) -> dict[str, object]:
    """summary.json: per-rule status and counts, plus the run's manifest.

    A rule's ``clause`` is the sections of the policy text in force it cites; ``policy_text``
    says whether the text has them all ("quoted") or names those it lacks.
    """

    def quoted(rule: Rule) -> str:
        missing = not_found(result.text, result.policy, rule)
        return f"{NOT_FOUND}: {', '.join(missing)}" if missing else "quoted"

    rules = [
        {
            "rule_id": r.rule.id,
            "severity": r.rule.severity.value,
            "clause": ", ".join(r.rule.sections(result.policy)),
            "policy_text": quoted(r.rule),
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
        "policy_text": result.text.source,
        "policy_text_digest": result.text.digest,
        "input_digests": dict(sorted(result.export.digests.items())),
        "ignored_files": result.export.ignored,
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
    (directory / OUTPUT_MARKER).write_text(json.dumps(summary(result), indent=2) + "\n", encoding="utf-8")


def check_output_dir(out: Path, export: str | Path) -> None:
    """Refuse an OUT_DIR that would write into the export or replace somebody else's folder.

    Outputs are always written on the local file system; an export on remote storage
    (``hdfs://``…) cannot contain them.
    """
    out = out.resolve()
    export_dir = _local_path(str(export))
    if export_dir is not None and (out == export_dir or export_dir in out.parents):
        raise InputError(
            str(out), expected="an output directory outside the export (the audit never writes there)"
        )
    if export_dir is not None and out in export_dir.parents:
        raise InputError(str(out), expected="an output directory that does not contain the export")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / OUTPUT_MARKER).exists())):
        raise InputError(
            str(out), expected="a new directory or a previous output directory (it holds other files)"
        )


def _local_path(export: str) -> Path | None:
    """The export's directory on this machine, or None when it is on remote storage."""
    if not is_uri(export):
        return Path(export).resolve()
    if export.startswith("file:"):
        return Path(unquote(urlparse(export).path)).resolve()
    return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_directory(out: Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``out``; on success it replaces ``out`` whole."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; outputs get the usual mode
    try:
        yield tmp
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
        tmp.rename(out)
        if old:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
