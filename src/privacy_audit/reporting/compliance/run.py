"""One run of the compliance report: validated parameters, the audit, and earlier runs.

``prepare`` is the notebook's first call: it runs the audit once, writes findings.parquet and
summary.json into ``out_dir`` (the runner's staging folder, under the CLI) and returns what
every section of ``compliance`` reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, DirectoryPath, FilePath, ValidationError, field_validator

from privacy_audit.audit import AuditResult, run_audit
from privacy_audit.engine import Engine, make_engine
from privacy_audit.errors import InputError
from privacy_audit.outputs.attestation import Signature, load_signer
from privacy_audit.outputs.evidence import write_evidence
from privacy_audit.outputs.findings import check_output_dir, summary, write_outputs
from privacy_audit.reporting.compliance.policy_text import PolicyText


class ComplianceParameters(BaseModel):
    """The notebook's parameters, checked before any kernel starts (papermill checks nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    export_dir: DirectoryPath
    as_of: date
    policy: FilePath | None = None
    policy_text: FilePath | None = None
    out_dir: Path
    previous_summary: Path | None = None
    sign_key: FilePath | None = None

    @field_validator("policy", "policy_text", "previous_summary", "sign_key", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("out_dir", mode="before")
    @classmethod
    def _given(cls, value: object) -> object:
        if value == "":
            raise ValueError("an output directory is required")
        return value

    @field_validator("previous_summary")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.exists():
            raise ValueError("path does not point to a summary.json file or a directory of runs")
        return value

    @field_validator("export_dir", "policy", "policy_text", "out_dir", "previous_summary", "sign_key")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        """Resolved here, because the kernel runs in the notebook's folder, not the caller's."""
        return value.resolve() if value is not None else None

    def notebook_parameters(self) -> dict[str, str]:
        """The parameters as the notebook declares them: strings, empty for 'not given'."""
        return {k: "" if v is None else str(v) for k, v in self.model_dump().items()}


class _PriorSummary(BaseModel):
    """The part of a previous summary.json the report compares against."""

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
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "parameters"
        if err["type"] == "extra_forbidden":
            expected = f"no such parameter: the report takes {', '.join(ComplianceParameters.model_fields)}"
        else:
            expected = f"a valid value ({err['msg'].removeprefix('Value error, ')})"
        raise InputError(f"parameter {name}", expected=expected) from None


def prepare(
    export_dir: str,
    as_of: str,
    policy: str,
    out_dir: str,
    previous_summary: str = "",
    sign_key: str = "",
    policy_text: str = "",
) -> ComplianceRun:
    """Run the audit, write findings, summary and attestation into ``out_dir``, load history."""
    params = parameters(
        export_dir=export_dir,
        as_of=as_of,
        policy=policy,
        policy_text=policy_text,
        out_dir=out_dir,
        previous_summary=previous_summary,
        sign_key=sign_key,
    )
    check_output_dir(params.out_dir, params.export_dir)
    signer = load_signer(params.sign_key) if params.sign_key else None
    engine = make_engine()
    result = run_audit(
        params.export_dir,
        params.as_of,
        policy_file=params.policy,
        policy_text=params.policy_text,
        engine=engine,
    )
    params.out_dir.mkdir(parents=True, exist_ok=True)
    write_outputs(result, params.out_dir)
    signature = write_evidence(result, params.out_dir, signer=signer)
    return ComplianceRun(
        result,
        summary(result),
        load_history(params.previous_summary, params.as_of),
        result.text,
        engine,
        signature,
    )


def load_history(previous: Path | None, as_of: date) -> list[dict]:
    """Previous summaries, oldest first: one file, or every ``*/summary.json`` of a directory.

    From a directory (e.g. one output folder per scheduled run) only runs before ``as_of`` are
    kept, so that re-running a date never compares a run with itself.
    """
    if previous is None:
        return []
    if previous.is_file():
        files = [previous]
    else:
        files = [p for p in previous.glob("*/summary.json") if not p.parent.name.startswith(".")]
    runs = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            _PriorSummary.model_validate(data)
        except (OSError, ValueError):
            raise InputError(str(path), expected="a summary.json written by privacy-audit") from None
        runs.append(data)
    if not previous.is_file():
        runs = [r for r in runs if date.fromisoformat(r["as_of"]) < as_of]
    return sorted(runs, key=lambda r: r["as_of"])
