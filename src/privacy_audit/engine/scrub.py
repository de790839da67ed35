"""What an engine's error may say once it leaves the engine: the place and the expectation.

Engines quote the data they choke on (DuckDB: "Could not convert string 'jane@…'", Spark:
"1000000000000000000000 cannot be represented as Decimal(18, 2)", a CSV record, a string's
bytes in hex). Each engine recognizes its own errors — DuckDB by exception class and a
phrase, Spark by error condition and Java exception class — and retells them in these words,
so that both engines say the same thing about the same problem and only these sentences (and
the first line of an error about the query itself) ever reach stderr, ``summary.json`` or a
report.
"""

from __future__ import annotations

UTF8 = "UTF-8 text (found bytes that are not)"
QUOTES = "a closing quote for every quoted field"
FIELDS = "as many fields as the header on every line"
CORRUPT_PARQUET = "a Parquet file that is not corrupt"
READABLE = "a file that stays readable"
BYTES = "data the engine can read (it rejected the file's bytes)"
CONVERSION = "values the contract's types can hold (a conversion failed)"


def out_of_memory(advice: str) -> str:
    """Running out of memory, with the engine's own way to give it more."""
    return f"the engine ran out of memory ({advice})"


def query_failed(kind: str) -> str:
    """Any other failure, named only by its kind (an exception class or error condition)."""
    return f"a query the engine can run ({kind})"


def first_line(text: str, fallback: str) -> str:
    """The first line of an error about the query itself (a binder or analysis error).

    Such errors describe the SQL (a column that does not resolve, a syntax error), not the
    data; their further lines are the query plan or a stack trace.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else fallback
