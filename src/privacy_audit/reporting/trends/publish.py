"""Build and write the anonymized trend publication: aggregate → disclose → verify → scan → write.

Each step must pass before the next runs, and ``trends.parquet`` is written only after all of
them, into a temporary file renamed into place: a failed verification or a leak aborts with
``PublicationError`` and leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    ValidationError,
    field_validator,
    model_validator,
)

from privacy_audit.engine import make_engine
from privacy_audit.errors import invalid
from privacy_audit.export import open_export
from privacy_audit.outputs.folder import overlaps, write_atomically
from privacy_audit.policy import load_policy
from privacy_audit.reporting.common.leaks import LeakScanner
from privacy_audit.reporting.common.notebook_defaults import MEMORY_LIMIT
from privacy_audit.reporting.compliance.policy_text import PolicyText, load_policy_text
from privacy_audit.reporting.trends.aggregates import BREAKDOWNS, LINKED_TOTALS, aggregate
from privacy_audit.reporting.trends.disclosure import Disclosed, DisclosureRules, Layout, protect
from privacy_audit.reporting.trends.verifier import VerificationError, verify

OUTPUT = "trends.parquet"
LAYOUT = Layout({b.name: b.partition for b in BREAKDOWNS if b.partition}, LINKED_TOTALS)


class PublicationError(Exception):
    """The publication broke a promise (verification or identifier scan); nothing was written."""


class TrendParameters(BaseModel):
    """The trend report's parameters, checked before any kernel starts (papermill checks nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    export_dir: Path
    period_start: date
    period_end: date
    k: Annotated[int, Field(ge=2, strict=True)] = 10
    out_dir: Path
    policy: FilePath | None = None
    policy_text: FilePath | None = None  # recorded with its digest; the report cites no section
    # The CLI's scanner's values (LeakScanner.save, passed by the runner): collected once a run.
    leak_values: FilePath | None = None
    memory_limit: str = MEMORY_LIMIT  # the kernel's DuckDB spills beyond it, as the audit's does

    @field_validator("period_start", "period_end", mode="before")
    @classmethod
    def _iso_day(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValueError("expected a date YYYY-MM-DD") from None
        return value

    @field_validator("policy", "policy_text", "leak_values", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("export_dir", "out_dir", "policy", "policy_text", "leak_values")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        """Resolved here, because the kernel runs in the notebook's folder, not the caller's."""
        return value.resolve() if value is not None else None

    @field_validator("export_dir")
    @classmethod
    def _existing(cls, value: Path) -> Path:
        """Named resolved: a relative path means another folder in a kernel than in a shell."""
        if not value.is_dir():
            raise ValueError(f"an existing directory, resolved here to {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrendParameters:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        if overlaps(self.out_dir, self.export_dir):
            raise ValueError("out_dir and export_dir must not contain one another (an export is read only)")
        return self

    def notebook_parameters(self) -> dict[str, object]:
        """The parameters as the notebook declares them (paths as strings, "" for no policy)."""
        values = self.model_dump()
        return {
            name: value if isinstance(value, int) else "" if value is None else str(value)
            for name, value in values.items()
        }


def parameters(**values: object) -> TrendParameters:
    """Validate the report's parameters; an invalid or unknown one is an ``InputError`` naming it."""
    try:
        return TrendParameters(**values)
    except ValidationError as exc:
        raise invalid(exc, noun="parameter", known=TrendParameters.model_fields) from None


@dataclass
class TrendPublication:
    """The verified publication and what the report says about it."""

    parameters: TrendParameters
    rules: DisclosureRules
    disclosed: Disclosed
    policy_digest: str
    policy_effective_digest: str
    text: PolicyText
    input_digests: dict[str, str]

    @property
    def table(self) -> pa.Table:
        return self.disclosed.table

    @property
    def counts(self) -> dict[str, int]:
        return self.disclosed.counts


def build_publication(params: TrendParameters) -> TrendPublication:
    """Aggregate, apply disclosure control, verify independently and scan for identifiers."""
    policy, digest = load_policy(params.policy)
    text = load_policy_text(params.policy_text)
    engine = make_engine("duckdb", memory_limit=params.memory_limit)
    try:
        export = open_export(params.export_dir, engine)
        cells = aggregate(engine, params.period_start, params.period_end, policy.region_of())
        rules = DisclosureRules(params.k, policy.disclosure.dominance_share, policy.disclosure.protection_pct)
        disclosed = protect(cells, rules, LAYOUT)
        try:
            verify(disclosed.table, rules.k, rules.protection_pct)
        except VerificationError as exc:
            raise PublicationError(str(exc)) from None
        if params.leak_values:
            scanner = LeakScanner.load(params.leak_values, engine)
        else:
            scanner = LeakScanner.from_engine(engine)
        leaks = scanner.scan_table(disclosed.table)
        if leaks:
            raise PublicationError("identifier scan of trends.parquet failed: " + "; ".join(leaks))
    finally:
        engine.close()
    return TrendPublication(
        params, rules, disclosed, digest, policy.effective_digest, text, dict(sorted(export.digests.items()))
    )


def write_publication(publication: TrendPublication, out_dir: Path) -> Path:
    """Write ``trends.parquet`` into ``out_dir`` through a temporary file renamed into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_atomically(out_dir / OUTPUT, lambda tmp: pq.write_table(publication.table, tmp))


def publish_trends(params: TrendParameters) -> TrendPublication:
    """The whole publication: build it (every check passing) and only then write it."""
    publication = build_publication(params)
    write_publication(publication, params.out_dir)
    return publication
