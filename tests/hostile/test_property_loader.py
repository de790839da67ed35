"""Property: whatever bytes, Parquet types or policy YAML the loader meets, the CLI ends with
exit 0/1/2/3, at most one message line, and never a traceback or an exception.

Examples are bounded; exports go through ``check`` (the loader without the rules) and policies
through ``rules --policy`` (the loader without an export), so each example costs little.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handmade import make_export
from hostile.probe import PROGRESS, Outcome, run
from privacy_audit.contract import TABLES
from privacy_audit.policy import DEFAULT_POLICY

BOUNDED = settings(
    max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_export(
        tmp_path_factory.mktemp("property") / "export",
        {"accounts": [{"account_id": "A1"}], "contacts": [{"contact_id": "C1", "account_id": "A1"}]},
        "csv",
    )


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """One directory for the module; ``fresh`` gives every example its own folder in it."""
    with tempfile.TemporaryDirectory(prefix="hostile-property-") as directory:
        yield Path(directory)


def fresh(base: Path, scratch: Path) -> Path:
    """A copy of the base export in a folder of its own."""
    export = Path(tempfile.mkdtemp(dir=scratch)) / "export"
    shutil.copytree(base, export)
    return export


def assert_contained(outcome: Outcome, each_problem: bool = False) -> None:
    """Exit 0-3, no exception; one message line (``check`` prints one line per problem)."""
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), repr(outcome.exception)
    assert outcome.code in (0, 1, 2, 3), (outcome.code, outcome.stderr)
    assert "Traceback" not in outcome.stderr + outcome.stdout
    messages = [ln for ln in outcome.stderr.splitlines() if ln.strip() and not PROGRESS.match(ln)]
    assert each_problem or len(messages) <= 1, outcome.stderr
    assert all(m.startswith("error: ") for m in messages), outcome.stderr
    if outcome.code == 2:
        assert messages, outcome.stderr


def check(export: Path) -> Outcome:
    return run("check", str(export))


header = ",".join(TABLES["contacts"].column_names).encode()


@BOUNDED
@given(
    body=st.one_of(
        st.binary(max_size=400),
        st.lists(
            st.lists(
                st.sampled_from(["C1", "A1", '"', "", "\xff", "2020-01-01", "x\ny", ",", "\ufeff"]),
                max_size=14,
            ),
            max_size=6,
        ).map(lambda rows: "\n".join(",".join(r) for r in rows).encode("utf-8", "surrogateescape")),
    ),
    with_header=st.booleans(),
)
def test_random_csv_bytes(base: Path, scratch: Path, body: bytes, with_header: bool) -> None:
    export = fresh(base, scratch)
    (export / "contacts.csv").write_bytes((header + b"\n" if with_header else b"") + body)
    assert_contained(check(export), each_problem=True)


ARROW_VALUES = st.sampled_from(
    [
        (pa.int8(), st.integers(-128, 127)),
        (pa.uint64(), st.integers(0, 2**64 - 1)),
        (pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
        (pa.string(), st.text(max_size=8)),
        (pa.binary(), st.binary(max_size=8)),
        (pa.bool_(), st.booleans()),
        (pa.date32(), st.dates(date(1, 1, 1), date(9999, 12, 31))),
        (pa.timestamp("us"), st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31))),
        (pa.decimal128(38, 10), st.decimals(-(10**20), 10**20, places=10, allow_nan=False)),
        (pa.list_(pa.int32()), st.lists(st.integers(-5, 5), max_size=3)),
        (pa.null(), st.none()),
    ]
)


@BOUNDED
@given(data=st.data(), column=st.sampled_from(TABLES["contacts"].column_names))
def test_random_parquet_types(base: Path, scratch: Path, data: st.DataObject, column: str) -> None:
    export = fresh(base, scratch)
    arrow_type, values = data.draw(ARROW_VALUES)
    drawn = data.draw(st.lists(st.one_of(st.none(), values), min_size=1, max_size=3))
    rows = {
        name: [
            f"C{i}" if name == "contact_id" else "A1" if name == "account_id" else None
            for i in range(len(drawn))
        ]
        for name in TABLES["contacts"].column_names
    }
    table = pa.table({name: pa.array(v, pa.string()) for name, v in rows.items()})
    index = table.schema.get_field_index(column)
    if arrow_type == pa.binary():  # bytes labelled as text: invalid UTF-8 in a string column
        array = pa.array(drawn, pa.binary()).view(pa.string())
    else:
        array = pa.array([Decimal(v) if isinstance(v, Decimal) else v for v in drawn], arrow_type)
    (export / "contacts.csv").unlink()
    pq.write_table(table.set_column(index, column, array), export / "contacts.parquet")
    assert_contained(check(export), each_problem=True)


DEFAULT = yaml.safe_load(DEFAULT_POLICY.read_bytes())
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(["1e30", "&a", "*a"]),
)
yaml_data = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=10,
)


@BOUNDED
@given(
    policy=st.one_of(
        st.builds(lambda key, value: {**DEFAULT, key: value}, st.sampled_from(sorted(DEFAULT)), yaml_data),
        yaml_data,
    ),
    raw=st.binary(max_size=60),
    as_text=st.booleans(),
)
def test_random_policy_yaml(scratch: Path, policy: object, raw: bytes, as_text: bool) -> None:
    path = Path(tempfile.mkdtemp(dir=scratch)) / "policy.yaml"
    path.write_bytes(yaml.safe_dump(policy).encode() if as_text else DEFAULT_POLICY.read_bytes() + raw)
    assert_contained(run("rules", "CHILD-MINOR", "--policy", str(path)))
