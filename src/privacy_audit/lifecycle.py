"""From one run to the next: waivers, the previous run, and each finding's place in that story.

A waiver is an auditor's decision ("accepted until the tax audit closes, approved by the DPO"),
validated as strictly as the policy. A finding a waiver in force matches is kept, marked
``waived``; expiry is judged against the audit's ``as_of``, never the wall clock, so the same
inputs always give the same findings. A previous run's output folder tells each finding whether
it is ``new`` or ``persisting`` (and since when), and which earlier findings are resolved.

Everything here works on Arrow tables after the rules ran, so both engines share it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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
    findings: pa.Table  # FINDINGS_SCHEMA; first_seen filled for runs that predate it


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
        table = pq.read_table(findings_file)
    except (OSError, pa.ArrowException):
        raise InputError(str(findings_file), expected="a findings.parquet written by privacy-audit") from None
    for f in FINDINGS_SCHEMA:  # the lifecycle columns may be absent: runs from before waivers
        absent = f.name not in table.column_names
        if (absent and f.name in RECORD_SCHEMA.names) or not (
            absent or table.schema.field(f.name).type == f.type
        ):
            raise InputError(str(findings_file), column=f.name, expected=f"a column of type {f.type}")
    return PreviousRun(
        str(directory),
        prior.as_of,
        prior.input_digests,
        prior.policy_digest,
        prior.policy_effective_digest,
        prior.waivers_digest,
        _with_lifecycle(table, prior.as_of),
    )


def _with_lifecycle(table: pa.Table, as_of: date) -> pa.Table:
    """An earlier run's findings in today's shape: runs before waivers were all open, first seen then."""
    n = table.num_rows

    def column(name: str, fill: object) -> pa.Array:
        kind = FINDINGS_SCHEMA.field(name).type
        if name not in table.column_names:
            return pa.array([fill] * n, kind)
        return pc.fill_null(table.column(name), pa.scalar(fill, kind)) if fill is not None else table[name]

    fills = {"status": "open", "waiver_id": None, "change": None, "first_seen": as_of}
    return pa.table(
        [table.column(f.name) if f.name in RECORD_SCHEMA.names else column(f.name, fills[f.name])
         for f in FINDINGS_SCHEMA],
        schema=FINDINGS_SCHEMA,
    )  # fmt: skip


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
    """Findings with status, waiver_id, change and first_seen; resolved findings; waiver uses."""

    findings: pa.Table
    resolved: pa.Table
    uses: list[WaiverUse] = field(default_factory=list)
    previous: PreviousRun | None = None
    counts: dict[str, RuleCounts] = field(default_factory=dict)

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


def _matches(findings: pa.Table, waivers: Sequence[Waiver], as_of: date) -> pa.Table:
    """Every (pos, rank) pair of a finding and a waiver matching it; rank orders in-force first."""
    n = len(waivers)
    lists: dict[str, tuple[list[str], list[str], list[int]]] = {k: ([], [], []) for k in ("r", "s", "x")}
    for i, w in enumerate(waivers):
        rank = i if w.in_force(as_of) else n + i
        kind, values = ("r", w.records) if w.records else ("s", w.subjects) if w.subjects else ("x", [""])
        rules, vals, ranks = lists[kind]
        rules += [w.rule] * len(values)
        vals += values
        ranks += [rank] * len(values)
    base = findings.select(["pos", "rule_id", "record_id", "subject_id"])
    pairs = [pa.table({"pos": pa.array([], pa.int64()), "rank": pa.array([], pa.int64())})]
    for kind, column in (("r", "record_id"), ("s", "subject_id"), ("x", None)):
        rules, vals, ranks = lists[kind]
        if not rules:
            continue
        right = pa.table({"rule_id": rules, "rank": pa.array(ranks, pa.int64())})
        keys = ["rule_id"]
        if column:
            right = right.append_column(column, pa.array(vals, pa.string()))
            keys.append(column)
        pairs.append(base.join(right, keys=keys, join_type="inner").select(["pos", "rank"]))
    return pa.concat_tables(pairs)


def annotate(
    findings: pa.Table,
    ran: Collection[str],
    as_of: date,
    waivers: Waivers | None = None,
    previous: PreviousRun | None = None,
) -> Lifecycle:
    """Add status, waiver_id, change and first_seen to a run's findings (rows and order kept).

    ``ran`` are the rules that ran to the end (pass or fail): only their earlier findings can be
    resolved, and only their waivers can be stale — a rule that errored proves nothing.
    """
    n = findings.num_rows
    table = findings.append_column("pos", pa.array(np.arange(n, dtype=np.int64)))
    listed = list(waivers.waivers) if waivers else []
    pairs = _matches(table, listed, as_of)
    best = np.full(n, -1, dtype=np.int64)
    if pairs.num_rows:
        chosen = pairs.group_by("pos").aggregate([("rank", "min")])
        best[chosen["pos"].to_numpy()] = chosen["rank_min"].to_numpy()
    index = np.where(best >= len(listed), best - len(listed), best)
    ids = pa.array([w.id for w in listed] + [None], pa.string())
    waiver_id = ids.take(pa.array(np.where(index < 0, len(listed), index)))
    waived = (best >= 0) & (best < len(listed))
    status = pa.array(np.where(waived, "waived", "open"), pa.string())

    first_seen = pa.array([as_of] * n, pa.date32())
    change = pa.array(["new"] * n, pa.string())
    resolved = RESOLVED_SCHEMA.empty_table()
    if previous is not None:
        first_seen, change = _carried_over(table, previous, as_of)
        resolved = _resolved(table, previous, ran, as_of)
    columns = [findings.column(name) for name in RECORD_SCHEMA.names]
    out = pa.table([*columns, status, waiver_id, change, first_seen], schema=FINDINGS_SCHEMA)
    return Lifecycle(
        out,
        resolved,
        _uses(listed, pairs, set(ran), as_of),
        previous,
        _counts(out, resolved),
    )


def _carried_over(table: pa.Table, previous: PreviousRun, as_of: date) -> tuple[pa.Array, pa.Array]:
    """first_seen and change per finding: persisting ones keep the earliest run that found them."""
    before = previous.findings.group_by(KEY).aggregate([("first_seen", "min")])
    joined = table.select(["pos", *KEY]).join(before, keys=KEY, join_type="left outer").sort_by("pos")
    seen = joined["first_seen_min"]
    first_seen = pc.fill_null(seen, pa.scalar(as_of, pa.date32())).combine_chunks()
    change = pc.if_else(pc.is_valid(seen), "persisting", "new").combine_chunks()
    return first_seen, change


def _resolved(table: pa.Table, previous: PreviousRun, ran: Collection[str], as_of: date) -> pa.Table:
    """The previous run's findings of rules that ran now and found them no more, in its order."""
    before = previous.findings
    before = before.append_column("prev_pos", pa.array(np.arange(before.num_rows, dtype=np.int64)))
    before = before.filter(pc.is_in(before["rule_id"], pa.array(sorted(ran), pa.string())))
    gone = before.join(table.select(KEY), keys=KEY, join_type="left anti").sort_by("prev_pos")
    gone = gone.drop_columns(["prev_pos"]).select(FINDINGS_SCHEMA.names)
    stamp = pa.array([as_of] * gone.num_rows, pa.date32())
    return pa.table([*gone.columns, stamp], schema=RESOLVED_SCHEMA)


def _uses(listed: Sequence[Waiver], pairs: pa.Table, ran: set[str], as_of: date) -> list[WaiverUse]:
    n = len(listed)
    matched = np.zeros(n, dtype=np.int64)
    if pairs.num_rows:
        ranks = pairs["rank"].to_numpy()
        np.add.at(matched, np.where(ranks >= n, ranks - n, ranks), 1)
    uses = []
    for w, hits in zip(listed, matched.tolist(), strict=True):
        if not w.in_force(as_of):
            state = "expired"
        elif w.rule not in ran:
            state = "not_checked"
        else:
            state = "in_force" if hits else "stale"
        uses.append(WaiverUse(w, state, hits))
    return uses


def _counts(findings: pa.Table, resolved: pa.Table) -> dict[str, RuleCounts]:
    def per_rule(table: pa.Table, mask: pa.Array | None = None) -> dict[str, int]:
        rules = table["rule_id"] if mask is None else table["rule_id"].filter(mask)
        return {v["values"].as_py(): v["counts"].as_py() for v in pc.value_counts(rules)}

    is_open = pc.equal(findings["status"], "open")
    opened, waived = per_rule(findings, is_open), per_rule(findings, pc.invert(is_open))
    new, gone = per_rule(findings, pc.equal(findings["change"], "new")), per_rule(resolved)
    return {
        rule: RuleCounts(opened.get(rule, 0), waived.get(rule, 0), new.get(rule, 0), gone.get(rule, 0))
        for rule in {*opened, *waived, *gone}
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
