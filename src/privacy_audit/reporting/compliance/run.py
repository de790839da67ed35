"""One run of the compliance report: validated parameters, the audit, and earlier runs.

``prepare`` is the notebook's first call: it runs the audit once (with the waivers and the
previous run), writes findings.parquet, resolved.parquet, summary.json and evidence/RULE-ID.csv
per failing rule into ``out_dir`` (the runner's staging folder, under the CLI) and returns what every section of ``compliance`` reads.

``previous`` is an earlier run's output folder, or a folder of such folders (one per scheduled
run): then the latest run before ``as_of`` is the one compared with, and every earlier run is
charted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, DirectoryPath, FilePath, ValidationError, field_validator

from privacy_audit.audit import AuditResult, run_audit
from privacy_audit.engine import Engine, make_engine
from privacy_audit.errors import InputError, invalid
from privacy_audit.lifecycle import load_waivers, waiver_notes
from privacy_audit.outputs.attestation import Signature, load_signer
from privacy_audit.outputs.evidence import write_evidence
from privacy_audit.outputs.findings import SUMMARY_FILE, summary, write_outputs
from privacy_audit.outputs.folder import check_target
from privacy_audit.reporting.common.notebook_defaults import MEMORY_LIMIT
from privacy_audit.reporting.compliance.policy_text import PolicyText
from privacy_audit.reporting.compliance.rule_evidence import write_rule_evidence


class ComplianceParameters(BaseModel):
    """The notebook's parameters, checked before any kernel starts (papermill checks nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    export_dir: DirectoryPath
    as_of: date
    policy: FilePath | None = None
    policy_text: FilePath | None = None
    out_dir: Path
    previous: DirectoryPath | None = None
    waivers: FilePath | None = None
    sign_key: FilePath | None = None
    memory_limit: str = MEMORY_LIMIT  # the kernel's DuckDB spills beyond it, as the audit's does

    @field_validator("policy", "policy_text", "previous", "waivers", "sign_key", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("out_dir", mode="before")
    @classmethod
    def _given(cls, value: object) -> object:
        if value == "":
            raise ValueError("an output directory is required")
        return value

    @field_validator("export_dir", "policy", "policy_text", "out_dir", "previous", "waivers", "sign_key")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        """Resolved here, because the kernel runs in the notebook's folder, not the caller's."""
        return value.resolve() if value is not None else None

    def notebook_parameters(self) -> dict[str, str]:
        """The parameters as the notebook declares them: strings, empty for 'not given'."""
        return {k: "" if v is None else str(v) for k, v in self.model_dump().items()}


class _PriorSummary(BaseModel):
    """The part of an earlier summary.json the trend chart reads."""

    as_of: date
    totals: dict[str, object]
    rules: list[dict[str, object]]


@dataclass
class ComplianceRun:
    """One audit run and what the sections need besides it."""

    result: AuditResult
    summary: dict
    history: list[dict]  # previous runs' summaries, oldest first
    text: PolicyText
    engine: Engine
    signature: Signature | None = None  # who signed attestation.json, when a key was given


def parameters(**values: object) -> ComplianceParameters:
    """Validate notebook parameters; an invalid one is an ``InputError`` naming it."""
    try:
        return ComplianceParameters(**values)
    except ValidationError as exc:
        raise invalid(exc, noun="parameter", known=ComplianceParameters.model_fields) from None


def prepare(
    export_dir: str,
    as_of: str,
    policy: str,
    out_dir: str,
    previous: str = "",
    waivers: str = "",
    sign_key: str = "",
    policy_text: str = "",
    memory_limit: str = MEMORY_LIMIT,
) -> ComplianceRun:
    """Run the audit, write findings, resolved, summary and attestation into ``out_dir``, load history."""
    params = parameters(
        export_dir=export_dir,
        as_of=as_of,
        policy=policy,
        policy_text=policy_text,
        out_dir=out_dir,
        previous=previous,
        waivers=waivers,
        sign_key=sign_key,
        memory_limit=memory_limit,
    )
    check_target(params.out_dir, params.export_dir)
    history = load_history(params.previous, params.as_of)
    signer = load_signer(params.sign_key) if params.sign_key else None
    engine = make_engine(memory_limit=params.memory_limit)
    result = run_audit(
        params.export_dir,
        params.as_of,
        policy_file=params.policy,
        policy_text=params.policy_text,
        engine=engine,
        waivers_file=params.waivers,
        previous=Path(history[-1][0]) if history else None,
    )
    params.out_dir.mkdir(parents=True, exist_ok=True)
    write_outputs(result, params.out_dir)
    signature = write_evidence(result, params.out_dir, signer=signer, waivers=waiver_notes(result.waivers))
    write_rule_evidence(result, params.out_dir)  # after attestation.json, which digests the top folder only
    return ComplianceRun(result, summary(result), [s for _, s in history], result.text, engine, signature)


def check_earlier_runs(params: ComplianceParameters) -> None:
    """Reject a bad waivers file or folder of earlier runs before any kernel starts.

    The compared run's findings.parquet is read (and checked) once, by the audit in the kernel.
    """
    if params.waivers:
        load_waivers(params.waivers)
    load_history(params.previous, params.as_of)


def load_history(previous: Path | None, as_of: date) -> list[tuple[str, dict]]:
    """Earlier runs as (folder, summary), oldest first: one run folder, or each of a folder's.

    From a folder of runs only those before ``as_of`` are kept, so that re-running a date never
    compares a run with itself; a folder of runs holding none yet (the first scheduled run) is
    no history. A folder that is neither is unusable input, never a silently empty comparison.
    """
    if previous is None:
        return []
    one_run = (previous / SUMMARY_FILE).exists()
    if one_run:
        files = [previous / SUMMARY_FILE]
    else:
        files = [p for p in previous.glob(f"*/{SUMMARY_FILE}") if not p.parent.name.startswith(".")]
        if not files and any(not p.name.startswith(".") for p in previous.iterdir()):
            raise InputError(str(previous), expected="a run folder, or a folder of run folders")
    runs = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            _PriorSummary.model_validate(data)
        except (OSError, ValueError):
            raise InputError(str(path), expected="a summary.json written by privacy-audit") from None
        runs.append((str(path.parent), data))
    if not one_run:
        runs = [r for r in runs if date.fromisoformat(r[1]["as_of"]) < as_of]
    return sorted(runs, key=lambda r: r[1]["as_of"])
