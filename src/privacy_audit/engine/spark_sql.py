"""Translate the catalogue's DuckDB SQL into Spark SQL that gives the same answers.

sqlglot does the bulk (``read="duckdb", write="spark"``); what it cannot know, because the two
engines disagree on meaning rather than on spelling, is rewritten here on the syntax tree:

- ``$name`` parameters become typed literals (timestamps as ``TIMESTAMP_NTZ`` text, exact to
  the microsecond), so a rule's SQL and its values travel as one string, views included.
- ``printf`` becomes ``format_string``, NULL when any argument is NULL (Java prints "null").
- ``to_years``/``to_months``/``to_days``… and ``INTERVAL (expr) unit`` become
  ``make_ym_interval``/``make_dt_interval``; the other operand of ``+``/``-`` is cast to a
  timestamp, since DuckDB's date + interval is a timestamp and Spark's a date.
- ``CAST(x AS TIMESTAMPTZ)`` (text with a UTC offset) becomes ``TIMESTAMP_LTZ``: with
  ``timestampType=TIMESTAMP_NTZ`` Spark's plain ``TIMESTAMP`` would drop the offset.
- ``CAST(a - b AS VARCHAR)`` spells the interval between two timestamps as DuckDB does
  ("30 days 14:00:00"); both operands must be timestamps.
- ``list_sum`` (integers) becomes ``aggregate``; ``list[i:j]`` becomes ``slice`` (1-based,
  positive bounds).
- Regular expressions given as literals are rewritten from RE2 (DuckDB) to Java semantics:
  ``$`` is the end of the text (``\\z``), ``\\s`` is ``[\\t\\n\\f\\r ]`` (Java's adds \\x0B), ``.`` stops
  only at ``\\n`` (``(?d)``), ``[`` and ``&`` inside a class are literal, and replacements use
  ``$1`` for DuckDB's ``\\1``. Patterns held in columns are passed as they are.

What cannot be translated exactly raises ``TranslationError`` (the rule then reports status
``error``) rather than giving a different answer — ASOF joins among them: Spark has none, and
the catalogue writes "the row in force" as a join on each row's span ``[t, lead(t))``, which
both engines run as it is (see ``rules/consent.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlglot
from sqlglot import exp

_SPARK = "spark"
_NTZ = exp.DataType.build("TIMESTAMP_NTZ", dialect=_SPARK)
_TEXT = (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR)
_RE2_SPACE = r"\t\n\f\r "

# DuckDB interval constructors: name → Spark call template on the argument x.
_INTERVAL_CALLS = {
    "to_years": "make_ym_interval(x, 0)",
    "to_months": "make_ym_interval(0, x)",
    "to_days": "make_dt_interval(x, 0, 0, 0)",
    "to_hours": "make_dt_interval(0, x, 0, 0)",
    "to_minutes": "make_dt_interval(0, 0, x, 0)",
    "to_seconds": "make_dt_interval(0, 0, 0, x)",
}
_INTERVAL_UNITS = {
    "YEAR": "to_years",
    "MONTH": "to_months",
    "DAY": "to_days",
    "HOUR": "to_hours",
    "MINUTE": "to_minutes",
    "SECOND": "to_seconds",
}
_DAY_US = 86_400_000_000
# DuckDB's text for an interval of us microseconds (days, then [-]HH:MM:SS[.ffffff]).
_INTERVAL_TEXT = f"""concat(
  CASE WHEN us DIV {_DAY_US} = 0 THEN ''
       WHEN abs(us DIV {_DAY_US}) = 1 THEN concat(CAST(us DIV {_DAY_US} AS STRING), ' day')
       ELSE concat(CAST(us DIV {_DAY_US} AS STRING), ' days') END,
  CASE WHEN us % {_DAY_US} = 0 THEN CASE WHEN us DIV {_DAY_US} = 0 THEN '00:00:00' ELSE '' END
       ELSE concat(CASE WHEN us DIV {_DAY_US} = 0 THEN '' ELSE ' ' END,
                   CASE WHEN us < 0 THEN '-' ELSE '' END,
                   lpad(CAST(abs(us % {_DAY_US}) DIV 3600000000 AS STRING), 2, '0'), ':',
                   lpad(CAST(abs(us % {_DAY_US}) DIV 60000000 % 60 AS STRING), 2, '0'), ':',
                   lpad(CAST(abs(us % {_DAY_US}) DIV 1000000 % 60 AS STRING), 2, '0'),
                   CASE WHEN abs(us) % 1000000 = 0 THEN ''
                        ELSE concat('.', TRIM(TRAILING '0' FROM lpad(CAST(abs(us) % 1000000 AS STRING), 6, '0')))
                   END) END)"""
_MICROS_BETWEEN = "unix_micros(CAST(a AS TIMESTAMP_LTZ)) - unix_micros(CAST(b AS TIMESTAMP_LTZ))"
_LIST_SUM = "aggregate(x, CAST(NULL AS BIGINT), (acc, v) -> CASE WHEN v IS NULL THEN acc ELSE coalesce(acc, 0) + v END)"


class TranslationError(ValueError):
    """The DuckDB SQL uses something this module cannot translate exactly."""


def to_spark(sql: str, params: Mapping[str, object] | None = None) -> str:
    """Spark SQL for one DuckDB statement, with its ``$name`` parameters bound from ``params``."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    bound = params or {}
    for node in reversed(list(tree.walk())):  # children before parents
        new = _rewrite(node, bound)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree.sql(dialect=_SPARK)


def java_regex(pattern: str) -> str:
    """An RE2 pattern (DuckDB) as a Java pattern (Spark) that matches the same texts."""
    out: list[str] = []
    in_class = class_start = dot = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "s":
                out.append(_RE2_SPACE if in_class else f"[{_RE2_SPACE}]")
            elif nxt == "S" and not in_class:
                out.append(f"[^{_RE2_SPACE}]")
            else:
                out.append(ch + nxt)
            i += 2
            class_start = False
            continue
        if in_class:
            if ch == "]" and not class_start:
                in_class = False
            elif ch in "[&]":
                ch = "\\" + ch
            class_start = class_start and ch == "^" and out[-1] == "["
        elif ch == "[":
            in_class = class_start = True
        elif ch == "$":
            ch = r"\z"
        elif ch == ".":
            dot = True
        out.append(ch)
        i += 1
    return ("(?d)" if dot else "") + "".join(out)


def java_replacement(text: str) -> str:
    r"""An RE2 replacement (``\1`` for a group) as a Java one (``$1``; a literal ``$`` escaped)."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(f"${nxt}" if nxt.isdigit() else "\\" + nxt)
            i += 2
            continue
        out.append("\\$" if ch == "$" else ch)
        i += 1
    return "".join(out)


def _rewrite(node: exp.Expression, params: Mapping[str, object]) -> exp.Expression:
    for kind, rewrite in _REWRITES:
        if isinstance(node, kind):
            return rewrite(node, params)
    return node


def _parameter(node: exp.Placeholder, params: Mapping[str, object]) -> exp.Expression:
    name = node.name
    if name not in params:
        raise TranslationError(f"parameter ${name} has no value")
    return literal(params[name])


def literal(value: object) -> exp.Expression:
    """A Spark literal of the type DuckDB binds for a Python value."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        return exp.cast(exp.Literal.number(repr(value)), exp.DataType.build("DOUBLE"))
    if isinstance(value, Decimal):
        _, digits, exponent = value.as_tuple()
        scale = max(0, -int(exponent))
        precision = max(len(digits), scale + 1)
        return exp.cast(exp.Literal.string(str(value)), exp.DataType.build(f"DECIMAL({precision}, {scale})"))
    if isinstance(value, datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return exp.cast(exp.Literal.string(naive.isoformat(sep=" ")), _NTZ)
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TranslationError(f"cannot bind a {type(value).__name__} parameter")


def _regex(node: exp.Expression, _: Mapping[str, object]) -> exp.Expression:
    pattern = node.args.get("expression")
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        node.set("expression", exp.Literal.string(java_regex(pattern.this)))
    replacement = node.args.get("replacement")
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        node.set("replacement", exp.Literal.string(java_replacement(replacement.this)))
    return node


def _anonymous(node: exp.Anonymous, _: Mapping[str, object]) -> exp.Expression:
    name = node.name.lower()
    args = node.expressions
    if name == "printf":
        return _printf(args)
    if name in _INTERVAL_CALLS:
        return _template(_INTERVAL_CALLS[name], x=args[0])
    if name == "list_sum":
        return _template(_LIST_SUM, x=args[0])
    return node


def _to_days(node: exp.ToDays, _: Mapping[str, object]) -> exp.Expression:
    return _template(_INTERVAL_CALLS["to_days"], x=node.this)


def _interval(node: exp.Interval, _: Mapping[str, object]) -> exp.Expression:
    """``INTERVAL (expr) unit``: Spark's interval literals take constants only."""
    value, unit = node.this, node.text("unit").upper().rstrip("S")
    if isinstance(value, exp.Literal) or unit not in _INTERVAL_UNITS:
        return node
    return _template(_INTERVAL_CALLS[_INTERVAL_UNITS[unit]], x=value.unnest())


def _printf(args: list[exp.Expression]) -> exp.Expression:
    call = exp.Anonymous(this="format_string", expressions=[a.copy() for a in args])
    any_null = exp.or_(*(exp.Is(this=a.copy(), expression=exp.Null()) for a in args))
    return exp.Case(ifs=[exp.If(this=any_null, true=exp.Null())], default=call)


def _arithmetic(node: exp.Add | exp.Sub, _: Mapping[str, object]) -> exp.Expression:
    """date ± interval is a timestamp in DuckDB: cast the other operand so Spark agrees."""
    left, right = node.this, node.expression
    if _is_interval(right) and not _is_interval(left):
        node.set("this", exp.cast(left, _NTZ))
    elif _is_interval(left) and not _is_interval(right) and isinstance(node, exp.Add):
        node.set("expression", exp.cast(right, _NTZ))
    return node


def _is_interval(node: exp.Expression) -> bool:
    if isinstance(node, exp.Interval):
        return True
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("make_ym_interval", "make_dt_interval"):
        return True
    if isinstance(node, (exp.Paren, exp.Neg)):
        return _is_interval(node.this)
    if isinstance(node, exp.Mul):
        return _is_interval(node.this) or _is_interval(node.expression)
    return False


def _cast(node: exp.Cast, _: Mapping[str, object]) -> exp.Expression:
    if node.to.this == exp.DataType.Type.TIMESTAMPTZ:  # an instant: Spark's TIMESTAMP is NTZ here
        node.set("to", exp.DataType.build("TIMESTAMP_LTZ", dialect=_SPARK))
        return node
    if isinstance(node.this, exp.Sub) and node.to.this in _TEXT:
        us = _template(_MICROS_BETWEEN, a=node.this.this, b=node.this.expression)
        return _template(_INTERVAL_TEXT, us=us)
    return node


def _bracket(node: exp.Bracket, _: Mapping[str, object]) -> exp.Expression:
    """DuckDB's ``list[i:j]`` (1-based, both ends inclusive) as Spark's ``slice``."""
    index = node.expressions[0] if len(node.expressions) == 1 else None
    if not isinstance(index, exp.Slice):
        return node
    start = index.this or exp.Literal.number(1)
    end = index.expression or _template("size(x)", x=node.this)
    return _template("slice(x, i, greatest(j - i + 1, 0))", x=node.this, i=start, j=end)


def _asof(node: exp.Join, _: Mapping[str, object]) -> exp.Expression:
    """Refuse ASOF joins: the catalogue spells "in force at" as a join on lead() spans instead."""
    if (node.text("method") or "").upper() == "ASOF":
        raise TranslationError(
            "an ASOF join has no Spark equivalent; join on the row's span [t, lead(t)) instead"
        )
    return node


def _template(spark_sql: str, **parts: exp.Expression) -> exp.Expression:
    """Parse a Spark expression and put copies of ``parts`` where its columns of those names are."""
    tree = sqlglot.parse_one(spark_sql, read=_SPARK)
    for column in list(tree.find_all(exp.Column)):
        if not column.table and column.name in parts:
            part = parts[column.name].copy()
            column.replace(part if isinstance(part, _ATOMS) else exp.paren(part, copy=False))
    return tree


_ATOMS = (exp.Column, exp.Literal, exp.Func, exp.Paren, exp.Null, exp.Boolean, exp.Bracket)
_REGEX_NODES = (
    exp.RegexpLike,
    exp.RegexpILike,
    exp.RegexpReplace,
    exp.RegexpExtract,
    exp.RegexpExtractAll,
    exp.RegexpSplit,
)
_REWRITES: tuple[tuple[type | tuple[type, ...], Callable[..., exp.Expression]], ...] = (
    (exp.Placeholder, _parameter),
    (_REGEX_NODES, _regex),
    (exp.Anonymous, _anonymous),
    (exp.ToDays, _to_days),
    (exp.Interval, _interval),
    ((exp.Add, exp.Sub), _arithmetic),
    (exp.Cast, _cast),
    (exp.Bracket, _bracket),
    (exp.Join, _asof),
)
