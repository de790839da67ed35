"""From one run to the next: waivers, the previous run, and each finding's place in that story.

A waiver is an auditor's decision ("accepted until the tax audit closes, approved by the DPO"),
validated as strictly as the policy. A finding a waiver in force matches is kept, marked
``waived``; expiry is judged against the audit's ``as_of``, never the wall clock, so the same
inputs always give the same findings. A previous run's output folder tells each finding whether
it is ``new`` or ``persisting`` (and since when), and which earlier findings are resolved.

Everything here runs after the rules, as DuckDB SQL over the rules' findings files and the
previous run's findings.parquet (whichever engine ran the rules), written a record batch at a
time: millions of findings are never one table, in Python or in a sort.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

import pyarrow as pa
import pyarrow.parquet as pq
import yaml_rs
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from privacy_audit.engine.duckdb import DuckDBEngine
from privacy_audit.errors import InputError, invalid
from privacy_audit.outputs.findings import FINDINGS_SCHEMA, KEY, RECORD_SCHEMA, RESOLVED_SCHEMA, SUMMARY_FILE
from privacy_audit.outputs.waived import WaiverNote
from privacy_audit.rules import REGISTRY, Severity
from privacy_audit.safe_yaml import read_bounded

EXPIRING_DAYS = 30  # a waiver expiring within this many days of as_of is highlighted in the report


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("a non-blank text")
    return value


def _one_line(value: str) -> str:
    if not value or any(c.isspace() for c in value) or len(value) > 100:
        raise ValueError("an id of up to 100 characters without spaces")
    return value


def _known_rule(value: str) -> str:
    if value not in REGISTRY:
        raise ValueError("a rule id of the catalogue (see `privacy-audit rules`)")
    return value


def _a_day(value: object) -> date:
    """A YAML date, or YYYY-MM-DD quoted; a timestamp or anything else is malformed."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("a date YYYY-MM-DD")


Text = Annotated[str, AfterValidator(_non_blank)]
Day = Annotated[date, BeforeValidator(_a_day)]


class Waiver(BaseModel):
    """One accepted finding (or set of findings) of one rule, until ``expires`` (included)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: Annotated[str, AfterValidator(_one_line)]
    rule: Annotated[str, AfterValidator(_known_rule)]
    records: Annotated[list[Text], Field(min_length=1)] | None = None
    subjects: Annotated[list[Text], Field(min_length=1)] | None = None
    scope: Literal["rule"] | None = None
    justification: Text
    approved_by: Text
    expires: Day
    ticket: Text | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Waiver:
        given = [k for k in ("records", "subjects", "scope") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("exactly one of records, subjects or scope: rule")
        return self

    def in_force(self, as_of: date) -> bool:
        return as_of <= self.expires


class WaiversFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    version: Literal[1]
    waivers: list[Waiver]


@dataclass(frozen=True)
class Waivers:
    """A validated waivers file: its name as given, its sha256, the waivers in file order."""

    file: str
    digest: str
    waivers: tuple[Waiver, ...]


_EXPECTED = {
    "missing": "this key (required)",
    "extra_forbidden": "no such key (a waiver has id, rule, records | subjects | scope, "
    "justification, approved_by, expires, ticket)",
    "string_type": "a text (quote it)",
    "list_type": "a list of identifiers",
    "too_short": "a non-empty list of identifiers",
    "literal_error": "the value the format allows (version: 1, scope: rule)",
}


def _key(data: object, loc: Sequence[int | str]) -> str:
    """``waivers[W-2026-014].justification``: the waiver by id when it has one, else ``#n``."""
    if len(loc) < 2 or loc[0] != "waivers" or not isinstance(loc[1], int):
        return ".".join(str(p) for p in loc) or "(top level)"
    raw = data.get("waivers")[loc[1]] if isinstance(data, dict) else None
    wid = raw.get("id") if isinstance(raw, dict) else None
    label = wid if isinstance(wid, str) and wid.strip() and not any(c.isspace() for c in wid) else None
    rest = ".".join(str(p) for p in loc[2:]) or "records | subjects | scope"  # the one model check
    return f"waivers[{label or f'#{loc[1] + 1}'}].{rest}"


def _parse_yaml(raw: bytes, name: str) -> object:
    """The file's YAML, parsed by yaml-rs (Rust): 10,000 waivers in 0.15 s where PyYAML takes 2-3 s.

    It also rejects a key given twice in one mapping, which PyYAML silently lets the last win.
    """
    try:
        return yaml_rs.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(name, expected="UTF-8 text") from None
    except yaml_rs.YAMLDecodeError as exc:
        line = re.search(r"\bline (\d+)", str(exc))
        where = f" at line {line.group(1)}" if line else " (no key twice in one mapping)"
        raise InputError(name, expected=f"valid YAML{where}") from None


WAIVERS_MAX_BYTES = 64 << 20
"""Room for about 300,000 waivers; a file that is larger is not a waivers file."""


def load_waivers(path: Path) -> Waivers:
    """Read and validate a waivers file; any problem is an ``InputError`` naming waiver and key."""
    name = str(path)
    raw = read_bounded(path, "waivers file", WAIVERS_MAX_BYTES)
    data = _parse_yaml(raw, name)
    if not isinstance(data, dict):
        raise InputError(name, expected="a YAML mapping with version: 1 and waivers: [...]")
    try:
        parsed = WaiversFile.model_validate(data)
    except ValidationError as exc:
        raise invalid(
            exc, file=name, key_of=lambda loc: _key(data, loc), expected=_EXPECTED, other="{msg}"
        ) from None
    seen: set[str] = set()
    for waiver in parsed.waivers:
        if waiver.id in seen:
            raise InputError(name, key=f"waivers[{waiver.id}].id", expected="an id used once in the file")
        seen.add(waiver.id)
    return Waivers(name, hashlib.sha256(raw).hexdigest(), tuple(parsed.waivers))


@dataclass(frozen=True)
class PreviousRun:
    """What a comparison needs from an earlier run's output folder."""

    directory: str
    as_of: date
    input_digests: dict[str, str]
    policy_digest: str
    policy_effective_digest: str | None  # None for runs from before partial policy files
    waivers_digest: str | None
    findings: Path  # its findings.parquet, checked against FINDINGS_SCHEMA (lifecycle columns may be absent)


class _PriorSummary(BaseModel):
    as_of: date
    policy_digest: str
    policy_effective_digest: str | None = None
    input_digests: dict[str, str]
    waivers_digest: str | None = None


def load_previous(directory: Path, as_of: date) -> PreviousRun:
    """An earlier run's folder; not a run folder, or findings off the contract, is an ``InputError``."""
    summary_file, findings_file = directory / SUMMARY_FILE, directory / "findings.parquet"
    if not (directory.is_dir() and summary_file.is_file() and findings_file.is_file()):
        raise InputError(
            str(directory), expected="a previous run's output folder (with findings.parquet and summary.json)"
        )
    try:
        prior = _PriorSummary.model_validate(json.loads(summary_file.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        raise InputError(str(summary_file), expected="a summary.json written by privacy-audit") from None
    if prior.as_of > as_of:
        raise InputError(str(summary_file), key="as_of", expected="a run on or before --as-of")
    try:
        schema = pq.read_schema(findings_file)
    except (OSError, pa.ArrowException):
        raise InputError(str(findings_file), expected="a findings.parquet written by privacy-audit") from None
    for f in FINDINGS_SCHEMA:  # the lifecycle columns may be absent: runs from before waivers
        absent = f.name not in schema.names
        if (absent and f.name in RECORD_SCHEMA.names) or not (absent or schema.field(f.name).type == f.type):
            raise InputError(str(findings_file), column=f.name, expected=f"a column of type {f.type}")
    return PreviousRun(
        str(directory),
        prior.as_of,
        prior.input_digests,
        prior.policy_digest,
        prior.policy_effective_digest,
        prior.waivers_digest,
        findings_file,
    )


@dataclass(frozen=True)
class WaiverUse:
    """A waiver and what it did in this run: in_force, expired, stale, or not_checked."""

    waiver: Waiver
    state: str
    matched: int


@dataclass(frozen=True)
class RuleCounts:
    open: int = 0
    waived: int = 0
    new: int = 0
    resolved: int = 0


@dataclass
class Lifecycle:
    """The run's findings and resolved findings (two Parquet files), waiver uses, per-rule counts.

    ``findings_file`` has FINDINGS_SCHEMA, ``resolved_file`` RESOLVED_SCHEMA. ``keep`` is whatever
    keeps their folder alive (a temporary directory the result owns), or None.
    """

    findings_file: Path
    resolved_file: Path
    uses: list[WaiverUse] = field(default_factory=list)
    previous: PreviousRun | None = None
    counts: dict[str, RuleCounts] = field(default_factory=dict)
    keep: object = None

    @property
    def findings(self) -> pa.Table:
        """Every finding as one table: for small runs and tests (the outputs read the file)."""
        return pq.read_table(self.findings_file)

    @property
    def resolved(self) -> pa.Table:
        """Every resolved finding as one table: for small runs and tests."""
        return pq.read_table(self.resolved_file)

    def counts_of(self, rule_id: str) -> RuleCounts:
        return self.counts.get(rule_id, RuleCounts())

    def changes(
        self, input_digests: dict[str, str], policy: tuple[str, str], waivers_digest: str | None
    ) -> dict[str, object] | None:
        """What changed since the previous run, by digest (None without a previous run).

        "Nothing in the data changed; 12 records aged past a limit" is a different story from
        "the export changed": new findings on an unchanged export and policy are records that aged.
        ``policy`` is (file digest, effective digest): the policy changed when the promises checked
        did, so a partial file and a full file of the same values are the same policy; a previous
        run from before effective digests is compared by its file.
        """
        prior = self.previous
        if prior is None:
            return None
        before, now = prior.input_digests, input_digests
        changed = sorted(name for name in now.keys() & before.keys() if now[name] != before[name])
        added, removed = sorted(now.keys() - before.keys()), sorted(before.keys() - now.keys())
        return {
            "dir": prior.directory,
            "as_of": prior.as_of.isoformat(),
            "export_changed": bool(changed or added or removed),
            "files_changed": changed,
            "files_added": added,
            "files_removed": removed,
            "policy_changed": policy[1] != prior.policy_effective_digest
            if prior.policy_effective_digest
            else policy[0] != prior.policy_digest,
            "waivers_changed": waivers_digest != prior.waivers_digest,
        }


FINDINGS_FILE, RESOLVED_FILE = "findings.parquet", "resolved.parquet"


def annotate(
    records: Sequence[Path],
    ran: Collection[str],
    as_of: date,
    waivers: Waivers | None = None,
    previous: PreviousRun | None = None,
    *,
    folder: Path,
    engine: DuckDBEngine | None = None,
) -> Lifecycle:
    """Add status, waiver_id, change and first_seen to a run's findings (rows and order kept).

    ``records`` are the rules' findings files (RECORD_SCHEMA) in rule order; the annotated
    findings and the resolved ones are written to ``folder`` as findings.parquet and
    resolved.parquet. The matching (waivers, previous run) is DuckDB SQL over the files, joining
    and spilling inside DuckDB's memory limit; DuckDB sorts only the narrow columns it computes
    back into file order, and they are pieced to the wide columns streamed from the files a
    batch at a time (a sort of whole findings needs about their size in memory: 250 MB per
    million). ``engine`` is the audit's DuckDB engine when it has one, else a private one
    spilling into ``folder``.
    ``ran`` are the rules that ran to the end (pass or fail): only their earlier findings can be
    resolved, and only their waivers can be stale — a rule that errored proves nothing.
    """
    duck = engine or DuckDBEngine(temp_directory=folder)
    try:
        listed = list(waivers.waivers) if waivers else []
        _register(duck, records, listed, ran, as_of, previous)
        findings_file, resolved_file = folder / FINDINGS_FILE, folder / RESOLVED_FILE
        with pq.ParquetWriter(findings_file, FINDINGS_SCHEMA) as writer:
            for part, path in enumerate(records):
                sql = _marks_sql(part, len(listed), as_of, previous is not None)
                with duck.batches(sql, _ROWS) as marks:  # closed before the next query on the connection
                    for found, marked in _aligned(pq.ParquetFile(path).iter_batches(_ROWS), marks):
                        writer.write_table(
                            pa.table([*found.columns, *marked.columns], schema=FINDINGS_SCHEMA)
                        )
        with pq.ParquetWriter(resolved_file, RESOLVED_SCHEMA) as writer:
            if previous is not None:
                _write_resolved(duck, previous, as_of, writer)
        matched = _matched(duck, len(listed))
        counts = _counts(duck, findings_file, resolved_file)
    finally:
        if engine is None:
            duck.close()
    return Lifecycle(findings_file, resolved_file, _uses(listed, matched, set(ran), as_of), previous, counts)


def _day(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _files(paths: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _same_key() -> str:
    """The previous run's finding ``p`` is this run's ``f``: the same KEY (a null never matches)."""
    return " AND ".join(f"p.{k} = f.{k}" for k in KEY)


_ROWS = 65_536
"""Findings per record batch the lifecycle streams: memory is a few batches, never the run's."""


def _aligned(
    left: Iterator[pa.RecordBatch], right: pa.RecordBatchReader
) -> Iterator[tuple[pa.RecordBatch, pa.Table]]:
    """Two streams of the same rows in the same order, cut into pieces of equal length.

    The wide columns stream from the files in their own order; only the narrow columns the
    lifecycle computes are sorted (by DuckDB, spilling), so no sort ever holds whole findings.
    """
    rest = right.schema.empty_table()
    for batch in left:
        pieces = [rest]
        have = rest.num_rows
        while have < batch.num_rows:
            more = right.read_next_batch()
            pieces.append(pa.Table.from_batches([more]))
            have += more.num_rows
        joined = pa.concat_tables(pieces)
        yield batch, joined.slice(0, batch.num_rows)
        rest = joined.slice(batch.num_rows)


def _write_resolved(duck: DuckDBEngine, previous: PreviousRun, as_of: date, writer: pq.ParquetWriter) -> None:
    """The previous run's findings of rules that ran now and found them no more, in its order.

    The record columns stream from the previous file; DuckDB gives, row for row, whether each is
    gone and its lifecycle columns as ``lifecycle_before`` fills them for runs that predate them.
    """
    added = [f.name for f in FINDINGS_SCHEMA if f.name not in RECORD_SCHEMA.names]
    sql = (  # a left join on the distinct keys (it spills), not NOT EXISTS (a mark join, which does not)
        f"SELECT p.rule_id IN (SELECT rule_id FROM lifecycle_ran) AND f.seen IS NULL AS gone, "
        f"{', '.join(f'p.{name}' for name in added)}, {_day(as_of)} AS resolved_as_of "
        f"FROM lifecycle_before p LEFT JOIN (SELECT DISTINCT {', '.join(KEY)}, true AS seen FROM lifecycle_found) f "
        f"ON {_same_key()} ORDER BY p.row"
    )
    with duck.batches(sql, _ROWS) as marks:
        for before, marked in _aligned(pq.ParquetFile(previous.findings).iter_batches(_ROWS), marks):
            records = pa.Table.from_batches([before])
            columns = [
                records.column(f.name)
                if f.name in RECORD_SCHEMA.names
                else marked.column(f.name).cast(f.type)
                for f in RESOLVED_SCHEMA
            ]
            kept = pa.table(columns, schema=RESOLVED_SCHEMA).filter(marked.column("gone"))
            if kept.num_rows:  # no empty row groups
                writer.write_table(kept)


def _register(
    duck: DuckDBEngine,
    records: Sequence[Path],
    listed: Sequence[Waiver],
    ran: Collection[str],
    as_of: date,
    previous: PreviousRun | None,
) -> None:
    """The views and small tables the lifecycle's SQL reads.

    ``lifecycle_found``: this run's findings with (part, row), their rule's place and their row
    in its file, which is the order kept. ``lifecycle_targets``: one row per value a waiver
    lists, with the waiver's rank (file order; expired ones after all in force, so the lowest
    rank is the waiver in force first listed). ``lifecycle_before``: the previous run's findings
    in today's shape — runs from before waivers were all open, first seen then.
    """
    columns = ", ".join(RECORD_SCHEMA.names)
    parts = [
        f"SELECT {i} AS part, file_row_number AS row, {columns} FROM read_parquet({_files([path])}, "
        "file_row_number = true)"
        for i, path in enumerate(records)
    ]
    empty = ", ".join(f"CAST(NULL AS VARCHAR) AS {n}" for n in RECORD_SCHEMA.names)
    parts.append(f"SELECT CAST(NULL AS BIGINT) AS part, CAST(NULL AS BIGINT) AS row, {empty} WHERE false")
    duck.create_view("lifecycle_found", " UNION ALL ".join(parts))

    n = len(listed)
    ranks, rules, kinds, values = [], [], [], []
    for i, w in enumerate(listed):
        kind, targets = ("r", w.records) if w.records else ("s", w.subjects) if w.subjects else ("x", [""])
        ranks += [i if w.in_force(as_of) else n + i] * len(targets)
        rules += [w.rule] * len(targets)
        kinds += [kind] * len(targets)
        values += targets
    duck.register(
        "lifecycle_targets",
        pa.table(
            {"rank": pa.array(ranks, pa.int64()), "rule_id": pa.array(rules, pa.string()),
             "kind": pa.array(kinds, pa.string()), "value": pa.array(values, pa.string())}
        ),
    )  # fmt: skip
    duck.register(
        "lifecycle_waivers",
        pa.table({"i": pa.array(range(n), pa.int64()), "id": pa.array([w.id for w in listed], pa.string())}),
    )
    duck.register("lifecycle_ran", pa.table({"rule_id": pa.array(sorted(ran), pa.string())}))
    duck.create_view(
        "lifecycle_matches",
        " UNION ALL ".join(
            f"SELECT f.part, f.row, t.rank FROM lifecycle_found f JOIN lifecycle_targets t "
            f"ON t.kind = '{kind}' AND f.rule_id = t.rule_id{match}"
            for kind, match in (("r", " AND f.record_id = t.value"), ("s", " AND f.subject_id = t.value"),
                                ("x", ""))
        ),
    )  # fmt: skip
    if previous is not None:
        have = set(pq.read_schema(previous.findings).names)
        fills = {
            "status": "coalesce(status, 'open')" if "status" in have else "'open'",
            "waiver_id": "waiver_id" if "waiver_id" in have else "CAST(NULL AS VARCHAR)",
            "change": "change" if "change" in have else "CAST(NULL AS VARCHAR)",
            "first_seen": f"coalesce(first_seen, {_day(previous.as_of)})"
            if "first_seen" in have
            else _day(previous.as_of),
        }
        kept = ", ".join(RECORD_SCHEMA.names)
        filled = ", ".join(f"{sql} AS {name}" for name, sql in fills.items())
        duck.create_view(
            "lifecycle_before",
            f"SELECT file_row_number AS row, {kept}, {filled} "
            f"FROM read_parquet({_files([previous.findings])}, file_row_number = true)",
        )


def _marks_sql(part: int, n: int, as_of: date, previous: bool) -> str:
    """status, waiver_id, change and first_seen of rule ``part``'s findings, in their file's order.

    The waiver is the lowest rank matching (in force first, then file order); ``n`` waivers.
    """
    if previous:
        change = "CASE WHEN p.first_seen IS NULL THEN 'new' ELSE 'persisting' END"
        first_seen = f"coalesce(p.first_seen, {_day(as_of)})"
        join = (
            f"LEFT JOIN (SELECT {', '.join(KEY)}, min(first_seen) AS first_seen "
            f"FROM lifecycle_before GROUP BY ALL) p ON {_same_key()}"
        )
    else:
        change, first_seen, join = "'new'", _day(as_of), ""
    return (
        f"SELECT CASE WHEN b.rank < {n} THEN 'waived' ELSE 'open' END AS status, w.id AS waiver_id, "
        f"{change} AS change, {first_seen} AS first_seen "
        f"FROM (SELECT * FROM lifecycle_found WHERE part = {part}) f "
        f"LEFT JOIN (SELECT row, min(rank) AS rank FROM lifecycle_matches WHERE part = {part} GROUP BY ALL) b "
        "ON b.row = f.row "
        f"LEFT JOIN lifecycle_waivers w ON w.i = b.rank - CASE WHEN b.rank >= {n} THEN {n} ELSE 0 END "
        f"{join} ORDER BY f.row"
    )


def _matched(duck: DuckDBEngine, n: int) -> dict[int, int]:
    """Per waiver (its index in the file), how many findings it matched, in force or expired."""
    rows = duck.query(
        f"SELECT rank - CASE WHEN rank >= {n} THEN {n} ELSE 0 END AS i, count(*) AS n "
        "FROM lifecycle_matches GROUP BY ALL"
    )
    return dict(zip(rows["i"].to_pylist(), rows["n"].to_pylist(), strict=True))


def _uses(listed: Sequence[Waiver], matched: dict[int, int], ran: set[str], as_of: date) -> list[WaiverUse]:
    uses = []
    for i, w in enumerate(listed):
        hits = matched.get(i, 0)
        if not w.in_force(as_of):
            state = "expired"
        elif w.rule not in ran:
            state = "not_checked"
        else:
            state = "in_force" if hits else "stale"
        uses.append(WaiverUse(w, state, hits))
    return uses


def _counts(duck: DuckDBEngine, findings_file: Path, resolved_file: Path) -> dict[str, RuleCounts]:
    """Per rule: open, waived and new findings, and resolved ones, counted by DuckDB."""
    rows = duck.query(
        "SELECT rule_id, sum(opened) AS opened, sum(waived) AS waived, sum(new) AS new, sum(gone) AS gone "
        "FROM (SELECT rule_id, (status = 'open')::BIGINT AS opened, (status <> 'open')::BIGINT AS waived, "
        f"(change = 'new')::BIGINT AS new, 0 AS gone FROM read_parquet({_files([findings_file])}) "
        f"UNION ALL SELECT rule_id, 0, 0, 0, 1 FROM read_parquet({_files([resolved_file])})) GROUP BY rule_id"
    )
    return {
        r["rule_id"]: RuleCounts(int(r["opened"]), int(r["waived"]), int(r["new"]), int(r["gone"]))
        for r in rows.to_pylist()
    }


def waiver_notes(waivers: Waivers | None) -> list[WaiverNote]:
    """The waivers as the evidence formats (SARIF suppressions, OSCAL risks) quote them."""
    listed = waivers.waivers if waivers else ()
    return [WaiverNote(w.id, w.rule, w.justification, w.approved_by, w.expires) for w in listed]


def exit_status(summary: dict, fail_on: Severity | None) -> int:
    """The spec's exit codes from a run's summary: 3 when a rule errored, 1 on open findings.

    Waived findings never count; a run with an errored rule is never 0, whatever ``fail_on``.
    """
    if summary["totals"]["error"]:
        return 3
    if fail_on and any(Severity(r["severity"]).rank >= fail_on.rank and r["open"] for r in summary["rules"]):
        return 1
    return 0
