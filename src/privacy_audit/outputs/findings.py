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
OUTPUT_MARKER = "summary.json"


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
        schema=RECORD_SCHEMA,
    ).sort_by([("table_name", "ascending"), ("record_id", "ascending")])


def summary(result: AuditResult) -> dict[str, object]:
    """summary.json: per-rule status and counts, waivers, the change since the previous run, manifest."""
    life = result.lifecycle
    rules = []
    for r in result.results:
        counts = life.counts_of(r.rule.id)
        rules.append(
            {
                "rule_id": r.rule.id,
                "severity": r.rule.severity.value,
                "clause": r.rule.clause,
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
        "policy_digest": result.policy_digest,
        "waivers_file": waivers.file if waivers else None,
        "waivers_digest": waivers.digest if waivers else None,
        "input_digests": digests,
        "ignored_files": result.export.ignored,
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
        "previous": life.changes(digests, result.policy_digest, waivers.digest if waivers else None),
    }


def write_outputs(result: AuditResult, directory: Path) -> None:
    """Write findings.parquet, resolved.parquet and summary.json into ``directory`` (not atomic by itself)."""
    pq.write_table(result.findings(), directory / "findings.parquet")
    pq.write_table(result.lifecycle.resolved, directory / "resolved.parquet")
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
