"""`privacy-audit map EXPORT`: a starting mapping file guessed from names and types only.

A platform team writing its first mapping needs to know which of its files is which contract
table and which column is which. This guesses both from what the export's files declare —
file and directory names, column names, column types — and never prints a value: Parquet
schemas come from the footers; CSV types come from DuckDB's sniffer, which reads a sample to
infer them, but only the inferred type leaves this module. Every guess carries a ``# review:``
comment and every contract column it could not place is listed, so the result is a draft to
check, never a mapping to trust.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import duckdb
import numpy as np
from scipy.optimize import linear_sum_assignment

from privacy_audit.contract import BOOLEAN, DATE, DECIMAL, INTEGER, TABLES, TEXT, TIMESTAMP, Table
from privacy_audit.contract_doc import TYPE_NAMES
from privacy_audit.errors import InputError

SUFFIXES = (".parquet", ".csv.gz", ".csv.zst", ".csv")
MIN_TABLE_SCORE = 0.35
MIN_COLUMN_SCORE = 0.55
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER")
# Source types each contract type can be read from (DuckDB's names; a CSV column may be
# sniffed as anything, and text is what the contract's CSV form is anyway).
COMPATIBLE = {
    TEXT: ("VARCHAR",),
    DATE: ("DATE",),
    TIMESTAMP: ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"),
    BOOLEAN: ("BOOLEAN",),
    INTEGER: _INTEGERS,
    DECIMAL: ("DECIMAL", "DOUBLE", "FLOAT", *_INTEGERS),
}
# Words platforms use for the same thing: a partner business is a company, a person's login
# a person, an instant's "_at" is often dropped.
SYNONYMS = {
    "account": "company",
    "accounts": "companies",
    "contact": "person",
    "contacts": "people",
    "full_name": "name",
}


@dataclass(frozen=True)
class Candidate:
    """One table-shaped thing in the export: a data file or a directory of part files."""

    path: str
    format: str
    columns: dict[str, str]
    delimiter: str = ","

    @property
    def stem(self) -> str:
        name = self.path.rstrip("/").rsplit("/", 1)[-1]
        return next((name[: -len(s)] for s in SUFFIXES if name.endswith(s)), name)


def _is_data(name: str) -> bool:
    return name.endswith(SUFFIXES) and not name.startswith(("_", "."))


def _data_files(directory: Path) -> list[Path]:
    """Part files under ``directory`` (hive partitions included), bookkeeping files skipped."""
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file()
        and _is_data(p.name)
        and not any(part.startswith(("_", ".")) for part in p.relative_to(directory).parts)
    )


def _is_part_directory(directory: Path) -> bool:
    """A directory Spark or dbt wrote one table into: part files, maybe under ``key=value/``.

    A folder that merely groups named tables (``crm/companies.csv``) is not one: part files
    are named ``part-…``, or sit in hive partitions, or beside a ``_SUCCESS`` marker.
    """
    everything = list(directory.iterdir())
    entries = [e for e in everything if not e.name.startswith(("_", "."))]
    if not entries or not all(
        (e.is_file() and _is_data(e.name)) or (e.is_dir() and "=" in e.name) for e in entries
    ):
        return False
    return any(e.name == "_SUCCESS" or e.name.startswith("part-") or "=" in e.name for e in everything)


def candidates(root: Path) -> list[Candidate]:
    """Every data file and part-file directory under ``root``, with its column names and types."""
    if not root.is_dir():
        raise InputError(str(root), expected="an export directory")
    found = []
    con = duckdb.connect()
    try:
        stack = [root]
        while stack:
            directory = stack.pop()
            for entry in sorted(directory.iterdir(), reverse=True):
                if entry.name.startswith(("_", ".")):
                    continue
                if entry.is_dir() and _is_part_directory(entry):
                    found.append(_describe(con, root, entry, _data_files(entry)))
                elif entry.is_dir():
                    stack.append(entry)
                elif _is_data(entry.name):
                    found.append(_describe(con, root, entry, [entry]))
    finally:
        con.close()
    return sorted(found, key=lambda c: c.path)


def _describe(con: duckdb.DuckDBPyConnection, root: Path, entry: Path, files: list[Path]) -> Candidate:
    """Column names and types of one candidate, from Parquet footers or the CSV sniffer."""
    path = entry.relative_to(root).as_posix() + ("/" if entry.is_dir() else "")
    names = [str(f) for f in files]
    try:
        if names[0].endswith(".parquet"):
            relation = con.sql(f"SELECT * FROM read_parquet({names!r}, hive_partitioning = false)")
            return Candidate(
                path, "parquet", dict(zip(relation.columns, map(str, relation.types), strict=True))
            )
        sniffed = con.execute(f"SELECT Delimiter FROM sniff_csv({names[0]!r})").fetchone()
        relation = con.sql(f"SELECT * FROM read_csv({names!r}, header = true, hive_partitioning = false)")
    except duckdb.Error as exc:
        raise InputError(
            str(entry), expected=f"a readable Parquet or CSV table ({type(exc).__name__})"
        ) from None
    delimiter = sniffed[0] if sniffed else ","
    return Candidate(
        path, "csv", dict(zip(relation.columns, map(str, relation.types), strict=True)), delimiter
    )


def _words(name: str) -> str:
    lowered = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return SYNONYMS.get(lowered, lowered)


def _similar(a: str, b: str) -> float:
    a, b = _words(a), _words(b)
    if a == b:
        return 1.0
    if a.endswith("_" + b) or b.endswith("_" + a) or a.startswith(b + "_") or b.startswith(a + "_"):
        return 0.85  # web_events ~ events, order_items ~ order
    return SequenceMatcher(None, a, b).ratio()


def _compatible(column_type: str, source_type: str, fmt: str) -> bool:
    if fmt == "csv" and column_type == TEXT:
        return True
    base = source_type.split("(")[0]
    return base in COMPATIBLE[column_type]


def _column_score(
    table: Table, column: str, column_type: str, source: str, source_type: str, fmt: str
) -> float:
    if not _compatible(column_type, source_type, fmt):
        return 0.0
    if column == table.key and source.lower() in ("id", "entity_id", "uuid", "pk"):
        return 0.9  # the platform's own primary key is the contract's record id
    stripped = re.sub(r"_(at|id|code|ts)$", "", column)
    return max(_similar(column, source), 0.9 * _similar(stripped, re.sub(r"_(at|id|code|ts)$", "", source)))


def match_columns(table: Table, candidate: Candidate) -> dict[str, tuple[str, float]]:
    """Contract column → (source column, score): the best one-to-one placement above the threshold."""
    columns, sources = list(table.columns), list(candidate.columns)
    if not sources:
        return {}
    scores = np.array(
        [
            [_column_score(table, c.name, c.type, s, candidate.columns[s], candidate.format) for s in sources]
            for c in columns
        ]
    )
    rows, cols = linear_sum_assignment(scores, maximize=True)
    return {
        columns[r].name: (sources[c], float(scores[r, c]))
        for r, c in zip(rows, cols, strict=True)
        if scores[r, c] >= MIN_COLUMN_SCORE
    }


def _table_score(table: Table, candidate: Candidate) -> float:
    placed = match_columns(table, candidate)
    coverage = sum(score for _, score in placed.values()) / len(table.columns)
    return 0.5 * _similar(table.name, candidate.stem) + 0.5 * coverage


def match_tables(found: list[Candidate]) -> dict[str, tuple[Candidate, float]]:
    """Contract table → (candidate, score), one-to-one, for the placements above the threshold."""
    tables = list(TABLES.values())
    if not found:
        return {}
    scores = np.array([[_table_score(t, c) for c in found] for t in tables])
    rows, cols = linear_sum_assignment(scores, maximize=True)
    return {
        tables[r].name: (found[c], float(scores[r, c]))
        for r, c in zip(rows, cols, strict=True)
        if scores[r, c] >= MIN_TABLE_SCORE
    }


def _quoted(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_./=-]*", text) else '"' + text.replace('"', '\\"') + '"'


def suggest(root: Path) -> str:
    """The suggested mapping file's text for the export at ``root``."""
    found = candidates(root)
    placed = match_tables(found)
    lines = [
        f"# Suggested by `privacy-audit map {root}` from file names, column names and types only.",
        "# Every guess says `# review:`. Check each, then audit with --mapping this file.",
        "version: 1",
        "tables:",
    ]
    by_name, unplaced, used = [], [], set()
    for table in TABLES.values():
        if table.name not in placed:
            unplaced += [f"{table.name} (the whole table{', optional' if table.optional else ''})"]
            continue
        candidate, score = placed[table.name]
        used.add(candidate.path)
        columns = match_columns(table, candidate)
        renamed = {c: s for c, (s, _) in columns.items() if s != c}
        missing = [c for c in table.column_names if c not in columns]
        types = {c.name: TYPE_NAMES[c.type] for c in table.columns}
        unplaced += [f"{table.name}.{c} ({types[c]})" for c in missing]
        if candidate.path in (f"{table.name}{s}" for s in SUFFIXES) and not renamed:
            by_name.append(table.name)
            continue
        same = len(columns) - len(renamed)
        lines += [
            f"  {table.name}:",
            f"    source: {_quoted(candidate.path)}"
            f"  # review: file name {candidate.stem!r}, {len(columns)} of {len(table.columns)} columns"
            f" placed ({same} by the same name), score {score:.2f}",
        ]
        extra = [s for s in candidate.columns if s not in {source for source, _ in columns.values()}]
        if extra:
            lines.append(
                "    # review: not placed, so undeclared unless read by an expr or filter or in inventory: "
                + ", ".join(extra)
            )
        if candidate.delimiter != ",":
            lines.append(f'    csv: {{delimiter: "{candidate.delimiter}", header: true}}  # review: sniffed')
        if renamed:
            lines.append("    columns:")
            for column, source in renamed.items():
                lines.append(
                    f"      {column}: {_quoted(source)}  # review: {candidate.columns[source]} for"
                    f" {types[column]}, name score {columns[column][1]:.2f}"
                )
    if len(lines) == 4:
        lines[-1] = "tables: {}"
    lines.append("inventory: {}  # review: extra source columns the company declares, per table")
    if by_name:
        lines.append("# Found by their contract names (no entry needed): " + ", ".join(by_name))
    lines.append("# Contract columns and tables not placed (map each, or the audit cannot read it):")
    lines += [f"#   {item}" for item in unplaced] or ["#   none"]
    left = [c.path for c in found if c.path not in used]
    if left:
        lines.append("# Files not placed: " + ", ".join(left))
    return "\n".join(lines) + "\n"
