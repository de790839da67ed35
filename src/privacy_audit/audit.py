"""Run the rule catalogue over one export: the audit itself, free of files and terminals."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa

from privacy_audit.engine import Engine, make_engine
from privacy_audit.engine.base import INPUT, EngineError
from privacy_audit.errors import InputError, closest
from privacy_audit.export import Export, open_export, unreadable
from privacy_audit.lifecycle import Lifecycle, Waivers, annotate, load_previous, load_waivers
from privacy_audit.outputs.findings import RECORD_SCHEMA, findings_table
from privacy_audit.policy import Policy, load_policy
from privacy_audit.reporting.compliance.policy_text import PolicyText, load_policy_text
from privacy_audit.rules import REGISTRY, Rule, Status
from privacy_audit.rules.params import bind
from privacy_audit.sources.mapping import Mapping


@dataclass
class RuleResult:
    """What one rule found."""

    rule: Rule
    status: Status
    checked: int = 0
    findings: pa.Table = field(default_factory=RECORD_SCHEMA.empty_table)  # before the lifecycle
    reason: str | None = None
    seconds: float = 0.0

    @property
    def violations(self) -> int:
        return self.findings.num_rows


@dataclass
class AuditResult:
    """Every rule's result, the findings' lifecycle, and what the manifest records about the run."""

    as_of: date
    policy: Policy
    policy_digest: str
    policy_file: str
    export: Export
    engine: str
    engine_version: str
    started_at: datetime
    finished_at: datetime
    results: list[RuleResult]
    text: PolicyText  # the policy text whose sections the findings cite
    waivers: Waivers | None
    lifecycle: Lifecycle

    def findings(self) -> pa.Table:
        """Every finding with its status, waiver_id, change and first_seen, in rule order."""
        return self.lifecycle.findings


Progress = Callable[[Rule, RuleResult | None], None]


def select_rules(ids: Iterable[str] | None) -> list[Rule]:
    """The rules to run, in catalogue order; an unknown id is a ``ValueError``."""
    if not ids:
        return list(REGISTRY.values())
    wanted = [i.strip() for i in ids if i.strip()]
    unknown = [i for i in wanted if i not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown rule id {', '.join(unknown)} (see `privacy-audit rules`)")
    return [r for r in REGISTRY.values() if r.id in wanted]


def run_audit(
    export_dir: str | Path,
    as_of: date,
    *,
    policy_file: Path | None = None,
    policy_text: Path | None = None,
    rules: list[Rule] | None = None,
    engine: Engine | None = None,
    progress: Progress | None = None,
    mapping: Mapping | None = None,
    waivers_file: Path | None = None,
    previous: Path | None = None,
) -> AuditResult:
    """Validate every input, run each rule, then apply waivers and the previous run.

    Raises ``InputError`` for unusable input, before any rule runs.
    """
    started = datetime.now(UTC)
    policy, digest = load_policy(policy_file)
    _check_clauses(policy, policy_file)
    text = load_policy_text(policy_text)
    waivers = load_waivers(waivers_file) if waivers_file else None
    prior = load_previous(previous, as_of) if previous else None
    engine = engine or make_engine()
    export = open_export(export_dir, engine, mapping)
    registered: set[str] = set()
    results = []
    for rule in rules or list(REGISTRY.values()):
        if progress:
            progress(rule, None)
        bound = bind(rule.params, policy, as_of)
        for name in bound.tables.keys() - registered:
            engine.register(name, bound.tables[name])
            registered.add(name)
        result = run_rule(engine, export, rule, bound.values, clause=", ".join(rule.sections(policy)))
        results.append(result)
        if progress:
            progress(rule, result)
    records = pa.concat_tables([RECORD_SCHEMA.empty_table()] + [r.findings for r in results])
    ran = [r.rule.id for r in results if r.status in ("pass", "fail")]
    lifecycle = annotate(records, ran, as_of, waivers, prior)
    return AuditResult(
        as_of=as_of,
        policy=policy,
        policy_digest=digest,
        policy_file=str(policy_file) if policy_file else "default_policy.yaml",
        export=export,
        engine=engine.name,
        engine_version=engine.version,
        started_at=started,
        finished_at=datetime.now(UTC),
        results=results,
        waivers=waivers,
        lifecycle=lifecycle,
        text=text,
    )


def load_scope(policy_file: Path | None, policy_text: Path | None) -> tuple[Policy, PolicyText]:
    """The policy in force and the policy text whose sections its rules cite, both validated."""
    policy, _ = load_policy(policy_file)
    _check_clauses(policy, policy_file)
    return policy, load_policy_text(policy_text)


def _check_clauses(policy: Policy, policy_file: Path | None) -> None:
    """The policy file's ``clauses`` name rules of the catalogue only."""
    unknown = sorted(set(policy.clauses) - set(REGISTRY))
    if unknown:
        close = closest(unknown[0], REGISTRY)
        raise InputError(
            str(policy_file or "default_policy.yaml"),
            key=f"clauses.{unknown[0]}",
            expected="a rule id of the catalogue" + (f" (did you mean {close}?)" if close else ""),
        )


def skip_reason(rule: Rule, export: Export) -> str | None:
    """Why ``rule`` cannot run on ``export`` (a table it needs is absent), or None."""
    missing = [t for t in rule.tables if not export.has(t)]
    return f"table {', '.join(missing)} is absent from the export" if missing else None


def run_rule(
    engine: Engine, export: Export, rule: Rule, params: dict[str, object], clause: str | None = None
) -> RuleResult:
    """One rule: skipped when a table it needs is absent, error when its query fails.

    ``clause`` is the sections its findings cite (by default the rule's declared ones).
    """
    reason = skip_reason(rule, export)
    if reason:
        return RuleResult(rule, Status.skipped, reason=reason)
    start = time.perf_counter()
    try:
        rows = engine.query(rule.sql, params)
        checked = int(engine.query(rule.checked_sql, params).column(0)[0].as_py() or 0)
    except EngineError as exc:
        if exc.kind == INPUT:  # the export, not the rule, is at fault: the run cannot stand
            raise unreadable(engine, export, rule.tables, exc) from None
        return RuleResult(rule, Status.error, reason=str(exc), seconds=time.perf_counter() - start)
    found = findings_table(rule, rows, clause)
    return RuleResult(
        rule,
        Status.failed if found.num_rows else Status.passed,
        checked=checked,
        findings=found,
        seconds=time.perf_counter() - start,
    )
