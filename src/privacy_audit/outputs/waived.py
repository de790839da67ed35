"""Open and waived findings, and the waivers behind them, as every evidence format reads them.

Waivers (recurring-audits.md, "Waivers") mark a finding ``status = waived`` with its
``waiver_id``; a findings table without a ``status`` column has open findings only. The
evidence writers (SARIF suppressions, JUnit failures, OSCAL risks, the attestation's verdict)
read waivers only through this module, so they need not know how waivers are matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from privacy_audit.audit import RuleResult


@dataclass(frozen=True)
class WaiverNote:
    """What evidence says about one waiver: the auditor's words, never the export's."""

    id: str
    rule: str
    justification: str
    approved_by: str
    expires: date


def waived_mask(findings: pa.Table) -> pa.Array:
    """True for each finding a waiver in force covers."""
    if "status" not in findings.column_names:
        return pa.array([False] * findings.num_rows, pa.bool_())
    return pc.fill_null(pc.equal(findings.column("status"), "waived"), False).combine_chunks()


def outcome(result: RuleResult, open_findings: int) -> str:
    """A rule's status for evidence: ``fail`` only with open findings, ``waived`` when all are waived.

    ``open_findings`` is the rule's count of them (the lifecycle's, counted over findings.parquet).
    """
    if result.status != "fail":
        return result.status
    return "fail" if open_findings else "waived"
