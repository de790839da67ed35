"""Per failing rule, every finding as a CSV beside the report: ``evidence/RULE-ID.csv``.

The report shows a bounded sample of each failing rule's evidence; an auditor who has to act on
all of it (hand it to the team that deletes, attach it to a ticket) needs every record, in a
file a spreadsheet opens. Identifiers and the rule's ``detail`` (why the record violates) only,
never a value of the record. The files are written into the report's staging folder, so the
runner scans them with everything else and publishes them with the report or not at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from privacy_audit.audit import AuditResult
from privacy_audit.outputs.findings import FINDINGS_SCHEMA

FOLDER = "evidence"
COLUMNS = ("table_name", "record_id", "subject_id", "status", "waiver_id", "detail")


def failing(result: AuditResult) -> list[str]:
    """The rules with open findings: those the report has a section (and a CSV) for."""
    return [r.rule.id for r in result.results if result.lifecycle.counts_of(r.rule.id).open]


def evidence_name(rule_id: str) -> str:
    """The CSV's path relative to the report: what its section links to."""
    return f"{FOLDER}/{re.sub(r'[^A-Za-z0-9-]', '-', rule_id)}.csv"


def write_rule_evidence(result: AuditResult, out_dir: Path) -> list[Path]:
    """Write one CSV per failing rule with every finding of it (open and waived); their paths.

    Each CSV is written a record batch at a time: a rule with millions of findings is never one
    table in memory.
    """
    schema = FINDINGS_SCHEMA
    written = []
    for rule_id in failing(result):
        path = out_dir / evidence_name(rule_id)
        path.parent.mkdir(exist_ok=True)
        with pacsv.CSVWriter(path, pa.schema([schema.field(c) for c in COLUMNS])) as writer:
            for batch in result.finding_batches(COLUMNS, rule_id=rule_id):
                writer.write_batch(batch)
        written.append(path)
    return written
