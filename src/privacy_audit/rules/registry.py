"""The Rule declaration and the registry every rule family adds itself to.

A rule is data plus SQL. Its SQL, in DuckDB's dialect, returns one row per violating record
with the columns ``record_id``, ``subject_id`` and ``detail`` (and ``table_name`` when a rule
spans several tables). It names the policy values it uses (``params``, see ``params.py``): the
audit binds exactly those, and a declaration whose SQL uses a value it does not name (or names
one it does not use) fails at import. Its documentation quotes policy numbers as ``{key}``
placeholders, rendered from the policy in force. No rule knows about files, command lines or
notebooks.
"""

from __future__ import annotations

import string
import textwrap
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache

from privacy_audit.policy import OrderRetention, Policy, load_policy
from privacy_audit.rules.params import LOOKUPS, PARAMETERS, bind, used_names


class Severity(StrEnum):
    """How bad a finding is; ``rank`` orders them for ``--fail-on``."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"

    @property
    def rank(self) -> int:
        return ("low", "medium", "high", "critical").index(self.value)


class Status(StrEnum):
    """What one audit made of one rule; the values are those summary.json records."""

    passed = "pass"
    failed = "fail"
    skipped = "skipped"
    error = "error"


@dataclass(frozen=True)
class Docs:
    """A rule's documentation with the numbers of one policy filled in."""

    what: str
    why: str
    example: str


@dataclass(frozen=True)
class Rule:
    """One promise of the policy, checked by one query.

    ``what``/``why``/``example`` are documentation templates (read them through ``docs``);
    ``checked`` is a query counting the records the rule examined (by default every row of
    ``table``); ``params`` names every parameter and lookup table its queries use.
    """

    id: str
    severity: Severity
    clauses: tuple[str, ...]
    key: str
    table: str
    tables: tuple[str, ...]
    params: tuple[str, ...]
    what: str
    why: str
    example: str
    sql: str
    checked: str = ""

    @property
    def clause(self) -> str:
        return ", ".join(self.clauses)

    def sections(self, policy: Policy) -> tuple[str, ...]:
        """The sections of the policy text in force this rule evidences (``clauses`` by default)."""
        return policy.sections_of(self.id, self.clauses)

    @property
    def checked_sql(self) -> str:
        return self.checked or f"SELECT count(*) AS n FROM {self.table}"

    def docs(self, policy: Policy) -> Docs:
        """What, why and example, quoting ``policy``'s numbers."""
        values = _DocValues(policy)
        return Docs(*(_para(t).format_map(values) for t in (self.what, self.why, self.example)))

    def doc(self, policy: Policy) -> str:
        """The rule's documentation as Markdown, in the shape of ruff's rule pages.

        The example is worked with the default policy's numbers; when the policy in force
        binds this rule differently, the heading says so rather than showing wrong dates.
        """
        docs = self.docs(policy)
        example = (
            "Example" if self._binds_like_default(policy) else "Example (with the default policy's numbers)"
        )
        return (
            f"# {self.id} ({self.severity.value})\n\n"
            f"Policy section {self.clause} · record id: `{self.key}` · tables: "
            f"{', '.join(self.tables)}\n\n"
            f"## What it checks\n{docs.what}\n\n"
            f"## Why it matters\n{docs.why}\n\n"
            f"## {example}\n{docs.example}\n"
        )

    def _binds_like_default(self, policy: Policy) -> bool:
        default, _ = _default_policy()
        mine, theirs = bind(self.params, policy, _PROBE_AS_OF), bind(self.params, default, _PROBE_AS_OF)
        return mine.values == theirs.values and all(
            t.equals(theirs.tables[n]) for n, t in mine.tables.items()
        )


def _para(text: str) -> str:
    return textwrap.dedent(text).strip()


# Cut-offs depend on as_of as well as on the policy; any fixed day compares two policies.
_PROBE_AS_OF = date(2026, 1, 1)


@cache
def _default_policy() -> tuple[Policy, str]:
    return load_policy()


class _DocValues(dict[str, str]):
    """``{key}`` in a rule's documentation → that policy key's value, as prose quotes it."""

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.policy = policy

    def __missing__(self, key: str) -> str:
        return _quote(getattr(self.policy, key))


def _quote(value: object) -> str:
    if isinstance(value, OrderRetention):
        return value.describe()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} `{' '.join(map(str, v))}`" for k, v in value.items())
    return str(value)


REGISTRY: dict[str, Rule] = {}


def rule(
    *,
    id: str,
    severity: Severity,
    clauses: tuple[str, ...],
    key: str,
    tables: tuple[str, ...],
    params: tuple[str, ...] = (),
    what: str,
    why: str,
    example: str,
    sql: str,
    table: str | None = None,
    checked: str = "",
) -> Rule:
    """Declare a rule and add it to the registry (``table`` defaults to the first of ``tables``)."""
    if id in REGISTRY:
        raise ValueError(f"rule {id} is declared twice")
    declared = Rule(
        id=id,
        severity=severity,
        clauses=clauses,
        key=key,
        table=table or tables[0],
        tables=tables,
        params=params,
        what=what,
        why=why,
        example=example,
        sql=textwrap.dedent(sql).strip(),
        checked=textwrap.dedent(checked).strip(),
    )
    _check_params(declared)
    _check_placeholders(declared)
    REGISTRY[id] = declared
    return declared


def _check_params(r: Rule) -> None:
    """The rule names exactly the parameters and lookup tables its queries use."""
    unknown = [n for n in r.params if n not in PARAMETERS and n not in LOOKUPS]
    used = used_names(f"{r.sql}\n{r.checked}")
    missing, unused = sorted(used - set(r.params)), sorted(set(r.params) - used)
    for problem, names in (("names unknown", unknown), ("uses undeclared", missing), ("never uses", unused)):
        if names:
            raise ValueError(f"rule {r.id} {problem} parameter(s) {', '.join(names)}")


def _check_placeholders(r: Rule) -> None:
    """Every ``{key}`` of the documentation is a policy key."""
    fields = [f for t in (r.what, r.why, r.example) for _, f, _, _ in string.Formatter().parse(t) if f]
    unknown = sorted(set(fields) - set(Policy.model_fields))
    if unknown:
        raise ValueError(f"rule {r.id} documents unknown policy key(s) {', '.join(unknown)}")
