"""Run the rule catalogue over one export: the audit itself, free of files and terminals."""

from __future__ import annotations

import functools
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from privacy_audit.engine import Engine, make_engine
from privacy_audit.engine.base import INPUT, EngineError
from privacy_audit.engine.duckdb import DuckDBEngine
from privacy_audit.errors import InputError, closest
from privacy_audit.export import Export, open_export, unreadable
from privacy_audit.lifecycle import Lifecycle, Waivers, annotate, load_previous, load_waivers
from privacy_audit.outputs.findings import RECORD_SCHEMA, findings_query
from privacy_audit.policy import Policy, load_policy
from privacy_audit.reporting.compliance.policy_text import PolicyText, load_policy_text
from privacy_audit.rules import REGISTRY, Rule, Status
from privacy_audit.rules.params import bind
from privacy_audit.sources.mapping import Mapping


@dataclass
class RuleResult:
    """What one rule found: how many findings, and the Parquet file (RECORD_SCHEMA) holding them.

    ``keep`` is whatever keeps the file's folder alive (a temporary directory), or None.
    """

    rule: Rule
    status: Status
    checked: int = 0
    violations: int = 0
    file: Path | None = None  # before the lifecycle; None when the rule did not run to the end
    reason: str | None = None
    seconds: float = 0.0
    keep: object = None

    @property
    def findings(self) -> pa.Table:
        """The rule's findings as one table: for small runs and tests (the outputs read the file)."""
        return pq.read_table(self.file) if self.file else RECORD_SCHEMA.empty_table()


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
        """Every finding with its status, waiver_id, change and first_seen, in rule order.

        One table in memory: for library callers and small runs. The outputs read
        ``finding_batches`` instead, so that millions of findings never are one table.
        """
        return self.lifecycle.findings

    def finding_batches(
        self, columns: Sequence[str] | None = None, *, rule_id: str | None = None, status: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        """The findings in rule order, a record batch at a time; of one rule and status if given.

        findings.parquet is read one row group at a time, and is sorted by rule: row groups whose
        statistics exclude ``rule_id`` are skipped unread.
        """
        file = pq.ParquetFile(self.lifecycle.findings_file)
        names = list(columns or file.schema_arrow.names)
        wanted = {k: v for k, v in (("rule_id", rule_id), ("status", status)) if v is not None}
        groups = [i for i in range(file.num_row_groups) if rule_id is None or _may_hold(file, i, rule_id)]
        read = list(dict.fromkeys([*names, *wanted]))
        for batch in file.iter_batches(BATCH_ROWS, row_groups=groups, columns=read):
            masks = [pc.equal(batch.column(k), v) for k, v in wanted.items()]
            if masks:
                batch = batch.filter(functools.reduce(pc.and_, masks))
            if batch.num_rows:
                yield batch.select(names)

    def close(self) -> None:
        """Remove the findings files of a result that owns them (``run_audit`` without ``folder``)."""
        if isinstance(self.lifecycle.keep, tempfile.TemporaryDirectory):
            self.lifecycle.keep.cleanup()

    def __enter__(self) -> AuditResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


BATCH_ROWS = 65_536
"""Findings per record batch a consumer reads: a few MiB of Python objects at most."""


def _may_hold(file: pq.ParquetFile, group: int, rule_id: str) -> bool:
    """Whether row group ``group`` may hold findings of ``rule_id``, by its rule_id statistics."""
    column = file.metadata.row_group(group).column(file.schema_arrow.get_field_index("rule_id"))
    stats = column.statistics
    return stats is None or not stats.has_min_max or stats.min <= rule_id <= stats.max


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
    folder: Path | None = None,
) -> AuditResult:
    """Validate every input, run each rule, then apply waivers and the previous run.

    Each rule's findings, then the run's findings.parquet and resolved.parquet, are written to
    ``folder`` (the CLI's staging scratch). Without one they go to a temporary directory the
    result owns: it lives as long as the result (or any of its rule results) and is removed by
    ``close``, ``with``, or when the result is garbage — never by ``run_audit`` itself, since
    callers read the findings after it returns.

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
    keep = None if folder else tempfile.TemporaryDirectory(prefix="privacy-audit-findings-")
    folder = folder or Path(keep.name)
    registered: set[str] = set()
    results = []
    for rule in rules or list(REGISTRY.values()):
        if progress:
            progress(rule, None)
        bound = bind(rule.params, policy, as_of)
        for name in bound.tables.keys() - registered:
            engine.register(name, bound.tables[name])
            registered.add(name)
        result = run_rule(
            engine,
            export,
            rule,
            bound.values,
            clause=", ".join(rule.sections(policy)),
            folder=folder,
            keep=keep,
        )
        results.append(result)
        if progress:
            progress(rule, result)
    ran = [r.rule.id for r in results if r.status in ("pass", "fail")]
    files = [r.file for r in results if r.file]
    duck = engine if isinstance(engine, DuckDBEngine) else None  # its memory limit holds for the lifecycle
    lifecycle = annotate(files, ran, as_of, waivers, prior, folder=folder, engine=duck)
    lifecycle.keep = keep
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
    engine: Engine,
    export: Export,
    rule: Rule,
    params: dict[str, object],
    clause: str | None = None,
    folder: Path | None = None,
    keep: object = None,
) -> RuleResult:
    """One rule: skipped when a table it needs is absent, error when its query fails.

    ``clause`` is the sections its findings cite (by default the rule's declared ones). The
    engine writes the findings to ``folder`` (kept alive by ``keep``); without a folder, to a
    temporary directory the rule result owns.
    """
    reason = skip_reason(rule, export)
    if reason:
        return RuleResult(rule, Status.skipped, reason=reason)
    if folder is None:
        keep = tempfile.TemporaryDirectory(prefix="privacy-audit-findings-")
        folder = Path(keep.name)
    path = folder / f"rule-{re.sub(r'[^A-Za-z0-9-]', '-', rule.id)}.parquet"
    start = time.perf_counter()
    try:
        columns = engine.query(f"SELECT * FROM ({rule.sql}) AS found LIMIT 0", params).column_names
        sql, bound = findings_query(rule, columns, clause)
        found = engine.write_parquet(sql, {**params, **bound}, path)
        checked = int(engine.query(rule.checked_sql, params).column(0)[0].as_py() or 0)
    except EngineError as exc:
        if exc.kind == INPUT:  # the export, not the rule, is at fault: the run cannot stand
            raise unreadable(engine, export, rule.tables, exc) from None
        return RuleResult(rule, Status.error, reason=str(exc), seconds=time.perf_counter() - start)
    return RuleResult(
        rule,
        Status.failed if found else Status.passed,
        checked=checked,
        violations=found,
        file=path,
        seconds=time.perf_counter() - start,
        keep=keep,
    )
