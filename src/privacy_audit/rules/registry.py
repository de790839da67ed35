"""The Rule declaration and the registry every rule family adds itself to.

A rule is data plus SQL. Its SQL, in DuckDB's dialect, returns one row per violating record
with the columns ``record_id``, ``subject_id`` and ``detail`` (and ``table_name`` when a rule
spans several tables). Policy values arrive as ``$name`` parameters and ``policy_*`` lookup
tables (see ``binding.py``); no rule knows about files, command lines or notebooks.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is; ``rank`` orders them for ``--fail-on``."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"

    @property
    def rank(self) -> int:
        return ("low", "medium", "high", "critical").index(self.value)


@dataclass(frozen=True)
class Rule:
    """One promise of the policy, checked by one query.

    ``what``/``why``/``example`` are the rule's documentation, read by ``privacy-audit rules``
    and the compliance report. ``checked`` is a query counting the records the rule examined
    (by default every row of ``table``). ``spark_sql`` is a hand-written Spark variant, set only
    where automatic translation of ``sql`` cannot be exact.
    """

    id: str
    severity: Severity
    clauses: tuple[str, ...]
    key: str
    table: str
    tables: tuple[str, ...]
    what: str
    why: str
    example: str
    sql: str
    checked: str = ""
    spark_sql: str | None = None

    @property
    def clause(self) -> str:
        return ", ".join(self.clauses)

    def sql_for(self, engine: str) -> str:
        """The query to run on ``engine``: the hand-written Spark variant there, if any."""
        return self.spark_sql if engine == "spark" and self.spark_sql else self.sql

    @property
    def checked_sql(self) -> str:
        return self.checked or f"SELECT count(*) AS n FROM {self.table}"

    def doc(self) -> str:
        """The rule's documentation as Markdown, in the shape of ruff's rule pages."""
        spark = (
            "\n\n## Spark\nRuns a hand-written Spark SQL variant (translation cannot be exact)."
            if self.spark_sql
            else ""
        )
        return (
            f"# {self.id} ({self.severity.value})\n\n"
            f"Policy section {self.clause} · record id: `{self.key}` · tables: "
            f"{', '.join(self.tables)}\n\n"
            f"## What it checks\n{_para(self.what)}\n\n"
            f"## Why it matters\n{_para(self.why)}\n\n"
            f"## Example\n{_para(self.example)}{spark}\n"
        )


def _para(text: str) -> str:
    return textwrap.dedent(text).strip()


REGISTRY: dict[str, Rule] = {}


def rule(
    id: str,
    severity: str,
    clauses: str,
    key: str,
    tables: str,
    *,
    what: str,
    why: str,
    example: str,
    sql: str,
    table: str | None = None,
    checked: str = "",
    spark_sql: str | None = None,
) -> Rule:
    """Declare a rule and add it to the registry (``tables`` is space-separated)."""
    if id in REGISTRY:
        raise ValueError(f"rule {id} is declared twice")
    needed = tuple(tables.split())
    declared = Rule(
        id=id,
        severity=Severity(severity),
        clauses=tuple(c.strip() for c in clauses.split(",")),
        key=key,
        table=table or needed[0],
        tables=needed,
        what=what,
        why=why,
        example=example,
        sql=textwrap.dedent(sql).strip(),
        checked=textwrap.dedent(checked).strip(),
        spark_sql=textwrap.dedent(spark_sql).strip() if spark_sql else None,
    )
    REGISTRY[id] = declared
    return declared
