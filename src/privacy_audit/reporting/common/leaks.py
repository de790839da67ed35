"""Scan every artifact, before it is written, for the export's own identifiers and personal values.

A regex finds *an* email address; only the export knows which company names, account ids or
street lines are real. So the scanner first collects the export's identifiers and personal
values — as 64-bit hashes of their normalized form (lower case, runs of anything but a-z and
0-9 as one space), one sorted array per kind, 8 bytes a value whatever the export's size — and
then looks for every run of one to a dozen words of an artifact in those arrays. Regexes for
email addresses, IP addresses and international phone numbers are a second net.

False positives are kept down by skipping values that are trivially short (under
``MIN_CHARS`` letters and digits), digits-only values under ``MIN_DIGITS`` (they collide with
published numbers), and any value that is also catalog vocabulary (a product's name, sku,
category or collection, which the trend report publishes on purpose).

Descriptions say what kind of value leaked and where, never the value.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from privacy_audit.engine import Engine, make_engine
from privacy_audit.export import open_export

# kind -> the (table, column) pairs holding it; the first names the kind in descriptions.
IDENTIFIER_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "account id": (("accounts", "account_id"), ("orders", "account_id"), ("contacts", "account_id")),
    "contact id": (("contacts", "contact_id"), ("orders", "contact_id"), ("web_events", "contact_id")),
    "order id": (("orders", "order_id"), ("order_items", "order_id")),
}
PERSONAL_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "company name": (("accounts", "company_name"),),
    "tax id": (("accounts", "tax_id"),),
    "resale certificate": (("accounts", "resale_certificate"),),
    "full name": (("contacts", "full_name"),),
    "email": (("contacts", "email"),),
    "phone": (("contacts", "phone"),),
    "street line": (("addresses", "line1"),),
    "IP address": (("web_events", "ip_address"),),
}
KINDS = {**IDENTIFIER_KINDS, **PERSONAL_KINDS}
# Column names that hold one of the kinds above, whatever their values.
PERSONAL_COLUMN_NAMES = frozenset(
    {"account_id", "contact_id", "order_id", "company_name", "tax_id", "resale_certificate"}
    | {"full_name", "email", "phone", "line1", "ip_address"}
)
CATALOG = (("products", "name"), ("products", "sku"), ("products", "category"), ("products", "collection"))
MIN_CHARS = 6
MIN_DIGITS = 9
MAX_WORDS = 12

PATTERNS = {
    "an email address": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    "an IPv4 address": re.compile(
        r"(?<![\w.])(?!0\.0\.0\.0|127\.)(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\w|\.\w)"
    ),
    "an IPv6 address": re.compile(
        r"(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})(?![\w:])"
    ),
    "an international phone number": re.compile(
        r"(?<![\w+])\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}(?!\w)"
    ),
}
_BLOB = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s\\n]+|[A-Za-z0-9+/=]{200,}")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_JSON_ESCAPE = re.compile(r"\\[nrt]")
_NORMALIZE_SQL = "trim(regexp_replace(lower(CAST({c} AS VARCHAR)), '[^a-z0-9]+', ' ', 'g'))"


def _normalize(text: str) -> str:
    return _NOT_WORD.sub(" ", text.lower()).strip()


class LeakScanner:
    """Finds the export's identifiers and personal values (and their look-alikes) in artifacts."""

    def __init__(self, engine: Engine, hashes: dict[str, np.ndarray], lengths: set[int]) -> None:
        self._engine = engine
        self._hashes = hashes
        self._lengths = sorted(lengths) or [1]

    @classmethod
    def from_export(cls, export_dir: Path, *, kinds: Collection[str] | None = None) -> LeakScanner:
        """Open the export at ``export_dir`` and collect its values of ``kinds`` (default: all).

        The compliance report, whose evidence is identifiers by design, passes
        ``kinds=PERSONAL_KINDS`` to look for personal values only.
        """
        engine = make_engine("duckdb")
        open_export(Path(export_dir), engine)
        return cls.from_engine(engine, kinds=kinds)

    @classmethod
    def from_engine(cls, engine: Engine, *, kinds: Collection[str] | None = None) -> LeakScanner:
        """Like ``from_export``, over an engine where the export's views are already registered.

        The scanner keeps the engine: it hashes an artifact's phrases with the same SQL ``hash``
        that hashed the export's values."""
        tables = set(engine.query("SELECT DISTINCT table_name FROM export_columns").column(0).to_pylist())
        catalog = _distinct_hashes(engine, [s for s in CATALOG if s[0] in tables])
        hashes, lengths = {}, set()
        for kind in kinds if kinds is not None else KINDS:
            sources = [s for s in KINDS[kind] if s[0] in tables]
            found = _distinct_hashes(engine, sources, lengths)
            hashes[kind] = np.setdiff1d(found, catalog, assume_unique=True)
        return cls(engine, hashes, lengths)

    def scan_text(self, text: str) -> list[str]:
        """What leaked into ``text`` (a notebook, an HTML page): kinds and line numbers."""
        text = _BLOB.sub(lambda m: "\n" * m.group().count("\n"), text)  # keeps line numbers
        text = html.unescape(_JSON_ESCAPE.sub(" ", text))  # "Smith &amp; Sons", "Dubois\\nParis"
        hits: dict[str, list[int]] = defaultdict(list)
        for what, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                hits[f"text holds {what}"].append(text.count("\n", 0, match.start()) + 1)
        lines: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            for phrase in self._phrases(line):
                lines.setdefault(phrase, number)
        for kind, phrases in self._matches(lines).items():
            hits[f"text holds {self._names(kind)}"] += sorted(lines[p] for p in phrases)
        return [f"{what} at line {_numbers(at)}" for what, at in sorted(hits.items())]

    def scan_table(self, table: pa.Table) -> list[str]:
        """What leaked into ``table``: columns named or filled like identifiers, never values."""
        found = [
            f"column {name} is named like a personal or identifier column"
            for name in table.column_names
            if _normalize(name).replace(" ", "_") in PERSONAL_COLUMN_NAMES
        ]
        for name in table.column_names:
            values = _texts(table.column(name))
            for what, pattern in PATTERNS.items():
                count = sum(1 for v in values if pattern.search(v))
                if count:
                    found.append(f"column {name} holds {what} in {count} distinct values")
            phrases = {p: v for v in values for p in self._phrases(v)}
            for kind, matched in self._matches(phrases).items():
                count = len({phrases[p] for p in matched})
                found.append(f"column {name} holds {self._names(kind)} in {count} distinct values")
        for kind, matched in self._matches(
            {p: 0 for n in table.column_names for p in self._phrases(n)}
        ).items():
            found.append(f"a column name holds {self._names(kind)} ({len(matched)} phrases)")
        return found

    def _phrases(self, text: str) -> Iterable[str]:
        """Every run of ``n`` consecutive words of ``text`` for each value length ``n`` held."""
        words = _normalize(text).split()
        for n in self._lengths:
            for i in range(len(words) - n + 1):
                yield " ".join(words[i : i + n])

    def _matches(self, phrases: Collection[str]) -> dict[str, list[str]]:
        """Kind -> the phrases whose hash is one of that kind's values."""
        if not phrases or not self._hashes:
            return {}
        ordered = list(phrases)
        self._engine.register("leak_phrases", pa.table({"p": pa.array(ordered, pa.string())}))
        hashed = self._engine.query("SELECT hash(p) AS h FROM leak_phrases").column("h").to_numpy()
        found = {}
        for kind, values in self._hashes.items():
            hit = np.isin(hashed, values, assume_unique=False)
            if hit.any():
                found[kind] = [ordered[i] for i in np.flatnonzero(hit)]
        return found

    @staticmethod
    def _names(kind: str) -> str:
        table, column = KINDS[kind][0]
        return f"{kind} values of {table}.{column}"


def _distinct_hashes(
    engine: Engine, sources: list[tuple[str, str]], lengths: set[int] | None = None
) -> np.ndarray:
    """Sorted distinct hashes of the normalized, long-enough values of ``sources``."""
    if not sources:
        return np.array([], np.uint64)
    norm = _NORMALIZE_SQL.format(c="v")
    union = " UNION ALL ".join(f'SELECT "{c}" AS v FROM "{t}" WHERE "{c}" IS NOT NULL' for t, c in sources)
    keep = (
        f"length(replace(n, ' ', '')) >= {MIN_CHARS} "
        f"AND NOT (regexp_matches(n, '^[0-9 ]+$') AND length(replace(n, ' ', '')) < {MIN_DIGITS}) "
        f"AND length(n) - length(replace(n, ' ', '')) < {MAX_WORDS}"
    )
    rows = engine.query(
        f"SELECT DISTINCT hash(n) AS h, length(n) - length(replace(n, ' ', '')) + 1 AS words "
        f"FROM (SELECT {norm} AS n FROM ({union})) WHERE {keep}"
    )
    if lengths is not None:
        lengths.update(pc.unique(rows.column("words")).to_pylist())
    return np.unique(rows.column("h").to_numpy())


def _texts(column: pa.ChunkedArray) -> list[str]:
    """The column's distinct non-null values as text (floats hold no identifiers: skipped)."""
    kind = column.type
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind) or pa.types.is_boolean(kind):
        return []
    unique = pc.unique(column.combine_chunks() if column.num_chunks != 1 else column.chunk(0))
    return [str(v) for v in unique.to_pylist() if v is not None]


def _numbers(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in sorted(set(lines))[:10])
    return shown + (", …" if len(set(lines)) > 10 else "")
