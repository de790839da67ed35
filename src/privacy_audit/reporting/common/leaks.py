"""Scan every artifact, before it is written, for the export's own identifiers and personal values.

A regex finds *an* email address; only the export knows which company names, account ids or
street lines are real. So the scanner first collects the export's identifiers and personal
values — as 64-bit hashes of their normalized form (lower case, runs of anything but a-z and
0-9 as one space), one sorted array per kind, 8 bytes a value whatever the export's size — and
then looks for them, by whole token, in what an artifact *says*. Regexes for email addresses,
IP addresses and international phone numbers are a second net.

What a report says: an HTML page's text nodes, table cells and the attributes a reader sees
(``alt``, ``title``, ``aria-label``, ``href``…), never its ``<style>``, ``<script>``, tag and class
names — the template's own CSS says ``parent`` and ``action``, which are also ordinary company
names; a notebook's outputs (streams, text, HTML, JSON), never its source; every string of a
Parquet, CSV or JSON file; a PNG's text chunks (``charts.py`` writes every word of a chart
there: its title, labels and legend).

Which values count:
- personal values (names, emails, phones, street lines, tax ids, company names): any run of
  their words, anywhere said; skipped when trivially short (under ``MIN_CHARS`` letters and
  digits) or digits-only under ``MIN_DIGITS`` (they collide with published numbers);
- identifiers (account, contact, order ids): platforms use plain numbers or short codes (``C1``,
  ``10234``) that occur in any page, so in running text only an id of at least
  ``ID_TEXT_MIN_CHARS`` letters and digits that mixes both counts (``ORD-000900``); every id with
  a letter, and a plain-number id of at least ``MIN_DIGITS`` digits, counts where the report
  puts identifiers: a whole table cell, attribute value, CSV/Parquet cell or JSON string;
- any value that is also catalog vocabulary (a product's name, sku, category or collection,
  which the trend report publishes on purpose) never counts.

Texts a report quotes on purpose — the policy text in force, the catalogue's rule descriptions
— are words the company or the project wrote, like the template's: ``parent`` of a policy
bullet or ``action`` of a rule description is no company's name there. An element of class
``QUOTE_CLASS`` is exempt when its whole text is, word for word, a run of one of the
``KnownTexts`` the scanner was given; the class alone exempts nothing (an element whose text is
not such a run is scanned like any other), and a phrase reaching past the quote still counts.

Descriptions say what kind of value leaked and where, never the value.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from html.parser import HTMLParser
from itertools import islice, pairwise
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from PIL import Image

from privacy_audit.engine import Engine, make_engine
from privacy_audit.export import open_export
from privacy_audit.reporting.common.html import QUOTE_CLASS

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
# The findings' and evidence's key columns hold the export's identifiers by design: there a
# personal value is the whole key (a platform keyed by email address), so only the whole cell is
# matched, and an id whose digits equal some account's 9-digit tax id is not a leak.
KEY_COLUMNS = frozenset({"record_id", "subject_id"})
CATALOG = (("products", "name"), ("products", "sku"), ("products", "category"), ("products", "collection"))
MIN_CHARS = 6
MIN_DIGITS = 9
ID_TEXT_MIN_CHARS = 8
MAX_WORDS = 12
# Attributes whose value a reader sees or follows; the others (class, id, style, d, …) are template.
SPOKEN_ATTRIBUTES = frozenset(
    {"alt", "title", "aria-label", "aria-description", "aria-valuetext", "placeholder", "value"}
    | {"label", "summary", "href", "download", "datetime", "abbr"}
)
_CELLS = frozenset({"td", "th", "caption", "li", "dt", "dd", "summary", "figcaption"})
# Read whole too (a name split by inline markup), but not where identifiers stand alone.
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
_SILENT = frozenset({"style", "script", "template"})
_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
_CHUNK = 20_000  # pieces scanned at once: a findings file of millions of rows streams through
_SHOWN = 10  # line or row numbers a leak description shows (then "…")

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
_WORD = re.compile(r"[a-z0-9]+")
_SPACES = re.compile(r"\s+")
_JSON_ESCAPE = re.compile(r"\\[nrt]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NORMALIZE_SQL = "trim(regexp_replace(lower(CAST({c} AS VARCHAR)), '[^a-z0-9]+', ' ', 'g'))"
_CHARS_SQL = "length(replace(n, ' ', ''))"
_WORDS_SQL = "length(n) - length(replace(n, ' ', ''))"
_PERSONAL_KEEP = (
    f"{_CHARS_SQL} >= {MIN_CHARS} AND NOT (regexp_matches(n, '^[0-9 ]+$') AND {_CHARS_SQL} < {MIN_DIGITS})"
)
_ID_TEXT_KEEP = (
    f"{_CHARS_SQL} >= {ID_TEXT_MIN_CHARS} AND regexp_matches(n, '[a-z]') AND regexp_matches(n, '[0-9]')"
)
_ID_CELL_KEEP = f"(regexp_matches(n, '[a-z]') OR {_CHARS_SQL} >= {MIN_DIGITS})"
_PROBE = "ord 000900 dubois paris"  # hashed by the saving and the loading engine: the same hash?


class Said(NamedTuple):
    """One thing an artifact says: where (a line, row or cell number), its text, whether it is
    a whole cell (table cell, attribute value, JSON string) where identifiers stand, the
    (start, end) character spans of ``text`` that are verified quotes of a known text, and
    whether it is a key cell (``KEY_COLUMNS``), matched whole only."""

    at: int
    text: str
    cell: bool
    quoted: tuple[tuple[int, int], ...] = ()
    key: bool = False

    def words(self) -> list[tuple[str, bool]]:
        """The normalized words of ``text``, each with whether it lies wholly inside a quote."""
        if not self.quoted:
            return [(w, False) for w in _normalize(self.text).split()]
        lowered, inside = [], []
        cuts = sorted({0, len(self.text), *(i for span in self.quoted for i in span)})
        for start, end in pairwise(cuts):
            part = self.text[start:end].lower()  # lowered by part: a part's length may change
            lowered.append(part)
            inside.extend([any(a <= start and end <= b for a, b in self.quoted)] * len(part))
        text = "".join(lowered)
        return [(m.group(), all(inside[m.start() : m.end()])) for m in _WORD.finditer(text)]

    def unquoted(self) -> str:
        """``text`` with its quoted spans blanked: what the patterns (emails, phones…) read."""
        text = self.text
        for start, end in self.quoted:
            text = text[:start] + " " * (end - start) + text[end:]
        return text


def _normalize(text: str) -> str:
    return _NOT_WORD.sub(" ", text.lower()).strip()


class KnownTexts:
    """Texts a report quotes on purpose; ``quotes(text)`` says whether ``text`` is one's words.

    Compared with runs of whitespace as one space, from word boundary to word boundary, and
    otherwise character for character: a quote is the text's own words, never a paraphrase.
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = [" " + _SPACES.sub(" ", t).strip() + " " for t in texts]

    def quotes(self, text: str) -> bool:
        words = _SPACES.sub(" ", text).strip()
        if not words:
            return False
        for known in self._texts:
            at = known.find(words)
            while at != -1:
                before, after = known[at - 1], known[at + len(words) : at + len(words) + 1]
                if not (before.isalnum() and words[0].isalnum()) and not (
                    after.isalnum() and words[-1].isalnum()
                ):
                    return True
                at = known.find(words, at + 1)
        return False


class LeakScanner:
    """Finds the export's identifiers and personal values (and their look-alikes) in artifacts."""

    def __init__(
        self,
        engine: Engine,
        hashes: dict[str, np.ndarray],
        lengths: set[int],
        cells: dict[str, np.ndarray] | None = None,
        known: KnownTexts | None = None,
    ) -> None:
        self._engine = engine
        self._hashes = hashes  # matched anywhere said
        self._cells = cells or {}  # matched as a whole cell only (identifiers)
        self._lengths = sorted(lengths) or [1]
        self._known = known

    @classmethod
    def from_export(
        cls,
        export_dir: Path,
        *,
        kinds: Collection[str] | None = None,
        known: Iterable[str] = (),
        engine: Engine | None = None,
    ) -> LeakScanner:
        """Open the export at ``export_dir`` (in ``engine``, default a new DuckDB one) and
        collect its values of ``kinds`` (default: all).

        The compliance report, whose evidence is identifiers by design, passes
        ``kinds=PERSONAL_KINDS`` to look for personal values only, and as ``known`` the texts
        it quotes (the policy text, the rule descriptions).
        """
        engine = engine or make_engine("duckdb")
        open_export(Path(export_dir), engine)
        return cls.from_engine(engine, kinds=kinds, known=known)

    @classmethod
    def from_engine(
        cls, engine: Engine, *, kinds: Collection[str] | None = None, known: Iterable[str] = ()
    ) -> LeakScanner:
        """Like ``from_export``, over an engine where the export's views are already registered.

        The scanner keeps the engine: it hashes an artifact's phrases with the same SQL ``hash``
        that hashed the export's values."""
        tables = set(engine.query("SELECT DISTINCT table_name FROM export_columns").column(0).to_pylist())
        (catalog,) = _distinct_hashes(engine, [s for s in CATALOG if s[0] in tables], ["true"])
        hashes, cells, lengths = {}, {}, set()
        for kind in kinds if kinds is not None else KINDS:
            sources = [s for s in KINDS[kind] if s[0] in tables]
            if kind in IDENTIFIER_KINDS:
                found, whole = _distinct_hashes(engine, sources, [_ID_TEXT_KEEP, _ID_CELL_KEEP], lengths)
                cells[kind] = np.setdiff1d(whole, catalog, assume_unique=True)
            else:
                (found,) = _distinct_hashes(engine, sources, [_PERSONAL_KEEP], lengths)
            hashes[kind] = np.setdiff1d(found, catalog, assume_unique=True)
        return cls(engine, hashes, lengths, cells, KnownTexts(known))

    def save(self, path: Path) -> Path:
        """Write the collected values to ``path`` (an ``.npz``) for ``load`` in another process.

        Collecting them reads every identifier and personal value of the export; a report's
        kernel scans what it publishes with the very values the CLI then scans the whole
        publication with, so the CLI collects them once and hands the kernel this file. The
        known texts are not saved (each report passes its own)."""
        arrays = {f"hashes/{k}": v for k, v in self._hashes.items()}
        arrays |= {f"cells/{k}": v for k, v in self._cells.items()}
        probe = _hash_of(self._engine, _PROBE)
        np.savez(
            path, lengths=np.array(self._lengths, np.int64), probe=np.array([probe], np.uint64), **arrays
        )
        return path

    @classmethod
    def load(cls, path: Path, engine: Engine, *, known: Iterable[str] = ()) -> LeakScanner:
        """The scanner ``save`` wrote, hashing phrases with ``engine``: ``ValueError`` unless
        ``engine`` hashes as the saving one did (the values would silently match nothing)."""
        with np.load(path) as saved:
            if int(saved["probe"][0]) != _hash_of(engine, _PROBE):
                raise ValueError(f"{path.name} was saved by an engine whose hash differs from this one's")
            hashes = {n.split("/", 1)[1]: saved[n] for n in saved.files if n.startswith("hashes/")}
            cells = {n.split("/", 1)[1]: saved[n] for n in saved.files if n.startswith("cells/")}
            lengths = set(saved["lengths"].tolist())
        return cls(engine, hashes, lengths, cells, KnownTexts(known))

    def scan_file(self, path: Path) -> list[str]:
        """What leaked into the artifact at ``path``, by what its format says (images skipped)."""
        suffix = path.suffix.lower()
        if suffix == ".png":
            return self._scan(_png_said(path.read_bytes(), 0), "line")
        if suffix in _IMAGE_SUFFIXES:
            return []
        if suffix == ".parquet":
            with pq.ParquetFile(path) as file:
                names = file.schema_arrow.names
                return self._scan_columns(names, file.iter_batches(batch_size=_CHUNK))
        if suffix == ".csv":
            names = _csv_header(path)
            try:
                return self._scan_columns(names, _csv_batches(path, len(names)))
            except pa.ArrowInvalid:  # ragged or not UTF-8: every word of it is said
                pass
        text = path.read_text(encoding="utf-8", errors="replace")
        if suffix in (".html", ".htm"):
            return self.scan_html(text)
        if suffix == ".ipynb":
            return self.scan_notebook(json.loads(text))
        if suffix == ".json":
            return self._scan(_json_said(text), "line")
        return self.scan_text(text)

    def scan_text(self, text: str) -> list[str]:
        """What leaked into plain ``text`` (every word of it is said): kinds and line numbers."""
        text = _BLOB.sub(lambda m: "\n" * m.group().count("\n"), text)  # keeps line numbers
        text = html.unescape(_JSON_ESCAPE.sub(" ", text))  # "Smith &amp; Sons", "Dubois\\nParis"
        return self._scan((Said(n, line, False) for n, line in enumerate(text.splitlines(), 1)), "line")

    def scan_html(self, page: str) -> list[str]:
        """What leaked into what an HTML page says (not its CSS or markup), by line."""
        return self._scan(_html_said(page, self._known), "line")

    def scan_notebook(self, notebook: dict) -> list[str]:
        """What leaked into a notebook's outputs (its source is the project's), by cell index."""
        return self._scan(_notebook_said(notebook, self._known), "cell")

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
            matched: dict[str, set[str]] = defaultdict(set)
            for value, kinds in self._kinds_in([Said(0, v, True) for v in values]):
                for kind in kinds:
                    matched[kind].add(value.text)
            for kind in sorted(matched, key=list(KINDS).index):
                found.append(
                    f"column {name} holds {self._names(kind)} in {len(matched[kind])} distinct values"
                )
        names = {
            k for said, kinds in self._kinds_in([Said(0, n, True) for n in table.column_names]) for k in kinds
        }
        for kind in sorted(names, key=list(KINDS).index):
            found.append(f"a column name holds {self._names(kind)}")
        return found

    def _scan(self, said: Iterable[Said], unit: str) -> list[str]:
        """Leak descriptions for ``said``: each kind with the ``unit`` numbers where it stands.

        ``said`` is read ``_CHUNK`` pieces at a time and each distinct piece of a chunk is
        scanned once: an artifact listing a million findings repeats its rule ids and statuses
        on every row, and is never held whole."""
        said = iter(said)
        places = _Places()
        while chunk := list(islice(said, _CHUNK)):
            where: dict[Said, list[int]] = defaultdict(list)
            for piece in chunk:
                where[piece._replace(at=0)].append(piece.at)
            for piece, what in self._found(list(where)):
                places.add(what, where[piece])
        return places.described(unit)

    def _scan_columns(self, names: list[str], batches: Iterable[pa.RecordBatch]) -> list[str]:
        """Leak descriptions for a table (Parquet, CSV) read a batch at a time: its column names
        said at row 0, then per batch each string column's distinct values scanned once and the
        rows of those that hold a value found afterwards, by row (the first is 1). Cells of
        ``KEY_COLUMNS`` are matched whole."""
        places = _Places()
        for _, what in self._found([Said(0, name, True) for name in names]):
            places.add(what, [0])
        first = 1
        for batch in batches:
            for name, column in zip(names, batch.columns, strict=True):
                if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                    continue
                key = name in KEY_COLUMNS
                pieces = [Said(0, v, True, key=key) for v in pc.unique(column).to_pylist() if v]
                held: dict[str, list[str]] = defaultdict(list)
                for piece, what in self._found(pieces):
                    held[what].append(piece.text)
                for what, texts in held.items():
                    rows = pc.is_in(column, value_set=pa.array(texts, column.type))
                    places.add(what, (np.flatnonzero(rows.to_numpy(zero_copy_only=False)) + first).tolist())
            first += batch.num_rows
        return places.described("row")

    def _found(self, pieces: list[Said]) -> Iterator[tuple[Said, str]]:
        """Each of the distinct ``pieces`` that holds something, with what it holds."""
        for piece in pieces:
            for what, pattern in PATTERNS.items():
                if pattern.search(piece.unquoted()):
                    yield piece, f"text holds {what}"
        for piece, kinds in self._kinds_in(pieces):
            for kind in kinds:
                yield piece, f"text holds {self._names(kind)}"

    def _kinds_in(self, said: list[Said]) -> Iterator[tuple[Said, set[str]]]:
        """Each piece of ``said`` holding a value, with the kinds it holds."""
        owner: list[int] = []
        phrases: list[str] = []
        cell_owner: list[int] = []
        cells: list[str] = []
        for index, piece in enumerate(said):
            words = piece.words()
            whole = " ".join(w for w, _ in words)
            for phrase in [whole] if piece.key else self._phrases(words):
                owner.append(index)
                phrases.append(phrase)
            said_by_us = all(q for _, q in words)
            if piece.cell and self._cells and whole and not said_by_us and len(words) <= MAX_WORDS:
                cell_owner.append(index)
                cells.append(whole)
        kinds: dict[int, set[str]] = defaultdict(set)
        for table, candidates, owners in ((self._hashes, phrases, owner), (self._cells, cells, cell_owner)):
            for kind, rows in self._matches(candidates, table).items():
                kinds_of = {owners[i] for i in rows}
                for i in kinds_of:
                    kinds[i].add(kind)
        for index in sorted(kinds):
            yield said[index], kinds[index]

    def _phrases(self, words: list[tuple[str, bool]]) -> list[str]:
        """Every run of ``n`` consecutive ``words`` for each value length ``n`` held, but for
        the runs wholly inside a verified quote."""
        texts = [w for w, _ in words]
        inside = [q for _, q in words]
        quoted = any(inside)
        return [
            " ".join(texts[i : i + n])
            for n in self._lengths
            for i in range(len(texts) - n + 1)
            if not quoted or not all(inside[i : i + n])
        ]

    def _matches(self, phrases: list[str], table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Kind -> the indexes of ``phrases`` whose hash is one of that kind's values in ``table``."""
        if not phrases or not table:
            return {}
        distinct = list(dict.fromkeys(phrases))
        self._engine.register("leak_phrases", pa.table({"p": pa.array(distinct, pa.string())}))
        hashed = self._engine.query("SELECT hash(p) AS h FROM leak_phrases").column("h").to_numpy()
        by_phrase = dict(zip(distinct, hashed, strict=True))
        every = np.array([by_phrase[p] for p in phrases], dtype=np.uint64)
        found = {}
        for kind, values in table.items():
            hit = _member(every, values)
            if hit.any():
                found[kind] = np.flatnonzero(hit)
        return found

    @staticmethod
    def _names(kind: str) -> str:
        table, column = KINDS[kind][0]
        return f"{kind} values of {table}.{column}"


class _Places:
    """Where each leak stands, as its description shows it: the ``_SHOWN`` + 1 smallest
    numbers tell the first ``_SHOWN`` and whether there are more, however many there are."""

    def __init__(self) -> None:
        self._at: dict[str, set[int]] = defaultdict(set)

    def add(self, what: str, at: Iterable[int]) -> None:
        held = self._at[what]
        held.update(at)
        if len(held) > 4 * _SHOWN:
            self._at[what] = set(sorted(held)[: _SHOWN + 1])

    def described(self, unit: str) -> list[str]:
        return [f"{what} at {unit} {_numbers(at)}" for what, at in sorted(self._at.items())]


class _Quote:
    """An element marked as a quote: its text so far, and (once closed) whether it verified."""

    def __init__(self, tag: str) -> None:
        self.tag, self.open, self.parts, self.verified = tag, 1, [], False


# A piece of text being read: its line, its parts (each with the quote it was said in), a cell?
_Pending = tuple[int, list[tuple[str, "_Quote | None"]], bool]


class _PageReader(HTMLParser):
    """Collects what a page says: text outside style/script, whole cells, spoken attributes;
    the text of a marked quote is kept with its quote, verified against ``known`` on closing."""

    def __init__(self, known: KnownTexts | None) -> None:
        super().__init__(convert_charrefs=True)
        self._known = known
        self._pieces: list[Said | _Pending] = []
        self._silent = 0
        self._cells: list[tuple[str, int, list[tuple[str, _Quote | None]]]] = []
        self._quote: _Quote | None = None

    @property
    def said(self) -> list[Said]:
        return [p if isinstance(p, Said) else _joined(*p) for p in self._pieces]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        if tag in _SILENT:
            self._silent += 1
        if tag in _CELLS or tag in _PARAGRAPHS:
            self._cells.append((tag, line, []))
        if self._quote is not None and tag == self._quote.tag:
            self._quote.open += 1
        elif self._quote is None and any(n == "class" and QUOTE_CLASS in (v or "").split() for n, v in attrs):
            self._quote = _Quote(tag)
        for name, value in attrs:
            if name == "src" and value and value.startswith("data:image/png;base64,"):
                self._pieces.extend(_png_said(base64.b64decode(value.split(",", 1)[1]), line))
            if value and (name in SPOKEN_ATTRIBUTES or name.startswith("aria-")):
                self._pieces.append(Said(line, _BLOB.sub(" ", value), True))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SILENT:
            self._silent = max(0, self._silent - 1)
        if any(open_tag == tag for open_tag, _, _ in self._cells):  # closes what it leaves open
            while True:
                open_tag, line, parts = self._cells.pop()
                self._pieces.append((line, parts, open_tag in _CELLS))
                if open_tag == tag:
                    break
        quote = self._quote
        if quote is not None and tag == quote.tag:
            quote.open -= 1
            if not quote.open:
                quote.verified = self._known is not None and self._known.quotes("".join(quote.parts))
                self._quote = None

    def handle_data(self, data: str) -> None:
        if self._silent:
            return
        line = self.getpos()[0]
        for offset, text in enumerate(data.split("\n")):
            if text.strip():
                self._pieces.append((line + offset, [(text, self._quote)], False))
        for _, _, parts in self._cells:
            parts.append((data, self._quote))
        if self._quote is not None:
            self._quote.parts.append(data)


def _joined(at: int, parts: list[tuple[str, _Quote | None]], cell: bool) -> Said:
    """One piece of text from its parts, the parts of verified quotes as its quoted spans."""
    text, quoted = "", []
    for part, quote in parts:
        if quote is not None and quote.verified:
            quoted.append((len(text), len(text) + len(part)))
        text += part
    return Said(at, text, cell, tuple(quoted))


def _html_said(page: str, known: KnownTexts | None = None) -> list[Said]:
    reader = _PageReader(known)
    reader.feed(page)
    reader.close()
    return reader.said


def _notebook_said(notebook: dict, known: KnownTexts | None = None) -> Iterator[Said]:
    """Every output of every cell, numbered by the cell's index; images left out."""
    for index, cell in enumerate(notebook.get("cells", [])):
        for output in cell.get("outputs", []):
            texts = [output.get("text", "")] if output.get("output_type") == "stream" else []
            texts += [output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])]
            for mime, data in output.get("data", {}).items():
                value = "".join(data) if isinstance(data, list) else data
                if mime == "image/png":
                    yield from _png_said(base64.b64decode(value), index)
                elif mime == "text/html" or mime == "image/svg+xml":
                    yield from (s._replace(at=index) for s in _html_said(value, known))
                elif not mime.startswith("image/"):
                    texts.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            for text in texts:
                joined = "".join(text) if isinstance(text, list) else text
                yield from (Said(index, line, False) for line in joined.splitlines() if line.strip())


def _png_said(png: bytes, at: int) -> list[Said]:
    """The text chunks of a PNG (a chart's words), each line said at ``at``."""
    try:
        with Image.open(io.BytesIO(png)) as image:
            chunks = getattr(image, "text", {})
    except (OSError, ValueError):
        return []
    return [Said(at, line, False) for text in chunks.values() for line in text.splitlines() if line.strip()]


def _csv_header(path: Path) -> list[str]:
    """The first row of a CSV file: its column names."""
    with path.open(encoding="utf-8", errors="replace", newline="") as lines:
        return next(csv.reader(lines), [])


def _csv_batches(path: Path, columns: int) -> Iterator[pa.RecordBatch]:
    """The rows after a CSV file's header, every cell as text, a block at a time."""
    names = [f"c{i}" for i in range(columns)]
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=1 << 22),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
    )
    with reader:
        yield from reader


def _json_said(text: str) -> Iterator[Said]:
    """Each string of a JSON document (keys too), numbered by line."""
    for match in _JSON_STRING.finditer(text):
        value = json.loads(match.group())
        if value and not _BLOB.fullmatch(value):
            yield Said(text.count("\n", 0, match.start()) + 1, value, True)


def _distinct_hashes(
    engine: Engine, sources: list[tuple[str, str]], keeps: list[str], lengths: set[int] | None = None
) -> list[np.ndarray]:
    """For each filter of ``keeps``, the sorted distinct hashes of the normalized values of
    ``sources`` that satisfy it; ``lengths`` gets the word counts of the first filter's values.

    Values are deduplicated before they are normalized, and normalized values before they are
    hashed: an order id stands on every line of its order, a contact id on each of its events,
    and normalizing is a regular expression a value. Every filter reads the one distinct set."""
    if not sources:
        return [np.array([], np.uint64) for _ in keeps]
    norm = _NORMALIZE_SQL.format(c="v")
    union = " UNION ".join(
        f'SELECT CAST("{c}" AS VARCHAR) AS v FROM "{t}" WHERE "{c}" IS NOT NULL' for t, c in sources
    )
    flags = ", ".join(f"({keep}) AS keep{i}" for i, keep in enumerate(keeps))
    # Materialized: else the optimizer pushes the filters below the DISTINCT, into the scans,
    # and every row of order_items is normalized again.
    rows = engine.query(
        f"WITH normalized AS MATERIALIZED (SELECT DISTINCT {norm} AS n FROM ({union})) "
        f"SELECT hash(n) AS h, {_WORDS_SQL} + 1 AS words, {flags} "
        f"FROM normalized WHERE n <> '' AND {_WORDS_SQL} < {MAX_WORDS}"
    )
    kept = [rows.column(f"keep{i}").to_numpy(zero_copy_only=False) for i in range(len(keeps))]
    if lengths is not None:
        lengths.update(np.unique(rows.column("words").to_numpy()[kept[0]]).tolist())
    hashed = rows.column("h").to_numpy()
    return [np.unique(hashed[keep]) for keep in kept]


def _hash_of(engine: Engine, text: str) -> int:
    """The engine's SQL ``hash`` of ``text``, as ``_matches`` hashes a phrase."""
    engine.register("leak_probe", pa.table({"p": pa.array([text], pa.string())}))
    return int(engine.query("SELECT hash(p) AS h FROM leak_probe").column("h")[0].as_py())


def _member(hashes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which ``hashes`` are among ``values`` (sorted, as ``_distinct_hashes`` returns them): a
    binary search, where ``np.isin`` would sort the export's values again for every artifact."""
    if not len(values):
        return np.zeros(len(hashes), dtype=bool)
    at = np.minimum(np.searchsorted(values, hashes), len(values) - 1)
    return values[at] == hashes


def _texts(column: pa.ChunkedArray) -> list[str]:
    """The column's distinct non-null values as text (floats hold no identifiers: skipped)."""
    kind = column.type
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind) or pa.types.is_boolean(kind):
        return []
    unique = pc.unique(column.combine_chunks() if column.num_chunks != 1 else column.chunk(0))
    return [str(v) for v in unique.to_pylist() if v is not None]


def _numbers(lines: set[int]) -> str:
    ordered = sorted(lines)
    return ", ".join(str(n) for n in ordered[:_SHOWN]) + (", …" if len(ordered) > _SHOWN else "")
