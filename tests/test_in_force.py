"""The generator's numpy "row in force at T" and the rules' SQL one give the same answer."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy_audit.rules.sql import history_spans, in_force_at
from privacy_audit.synth.inforce import in_force

_rows = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20), st.booleans()), max_size=25)
_queries = st.lists(st.tuples(st.integers(0, 4), st.integers(-2, 22)), min_size=1, max_size=25)


@settings(max_examples=30, deadline=None)
@given(rows=_rows, queries=_queries)
def test_numpy_mirror_matches_the_sql_helper(rows: list, queries: list) -> None:
    # Small times make ties (two rows of a key at one instant) and probes at a row's exact time common.
    key = np.array([r[0] for r in rows], dtype=np.int64)
    at = np.array([r[1] for r in rows], dtype=np.int64)
    grant = np.array([r[2] for r in rows], dtype=bool)
    q_key = np.array([q[0] for q in queries], dtype=np.int64)
    q_at = np.array([q[1] for q in queries], dtype=np.int64)
    found, grants = in_force(key, at, {"granted": grant}, q_key, q_at, origin=-10)

    con = duckdb.connect()
    con.register("history", pa.table({"k": key, "t": at, "granted": grant}))
    con.register("probes", pa.table({"i": np.arange(len(q_key)), "k": q_key, "t": q_at}))
    spans = history_spans("history", ("k",), "t", {"granted": "bool_and(granted)"})
    sql = (
        f"WITH h AS ({spans}) SELECT p.i, h.t IS NOT NULL AS found, coalesce(h.granted, false) AS granted "
        f"FROM probes p LEFT JOIN h ON h.k = p.k AND {in_force_at('h', 't', 'p.t')} ORDER BY p.i"
    )
    answer = con.sql(sql).fetchall()
    assert [f for _, f, _ in answer] == found.tolist()
    assert [g for _, _, g in answer] == grants["granted"].tolist()
