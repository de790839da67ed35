"""The demo in a platform-native shape: the same data as a real platform's nightly dump holds it.

A contract-shaped export written by the generator is rewritten the way Spark, dbt and
``COPY … TO`` write theirs: other table and column names, part-file directories (one with a
hive partition) with ``_SUCCESS`` and ``.crc`` files beside the parts, gzip and semicolon CSV,
timestamps with UTC offsets, an order date kept only as the date of a ``created`` timestamp, an
upper-case status, an extra column the company declares, and test rows the platform's own jobs
skip. ``mapping.yaml`` beside the export maps it back onto the contract, so that the audit of
the two forms gives the same findings: what a user of ``--mapping`` relies on.

Every rewrite is exact (a value maps back to itself) and deterministic (gzip without a time
stamp, Parquet as the generator writes it), so the committed sample can be kept equal to a
fresh generation.
"""

from __future__ import annotations

import gzip
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from privacy_audit.contract import TABLES

MAPPING = "mapping.yaml"
TEST_STORE = "test"
TEST_ROWS = 5
"""Orders the platform's QA jobs place in the ``test`` store; the mapping's filter drops them."""
BATCH_ROWS = 500_000
CRC_CHUNK = 512
"""Bytes per checksum in a Hadoop ``.crc`` file (its default, ``file.bytes-per-checksum``)."""


@dataclass(frozen=True)
class CsvForm:
    """How one native CSV is written: delimiter, gzip, and the UTC offset of its timestamps."""

    offset: timedelta
    suffix: str
    separator: str = " "
    delimiter: str = ","
    gzip: bool = True


@dataclass(frozen=True)
class NativeTable:
    """Where and how the platform stores one contract table, and how the mapping reads it back.

    ``rename`` maps contract column → native column; ``columns`` holds the mapping entries that
    are expressions; ``extra`` adds native-only columns computed from a contract-shaped batch.
    """

    table: str
    source: str
    csv: CsvForm | None = None
    parts: int = 1
    partition: tuple[str, str] | None = None  # (hive key, the contract timestamp whose year it is)
    rename: dict[str, str] = field(default_factory=dict)
    expressions: dict[str, str] = field(default_factory=dict)
    filter: str | None = None
    inventory: tuple[str, ...] = ()

    @property
    def is_directory(self) -> bool:
        return self.source.endswith("/")


UTC_PG = CsvForm(timedelta(0), "+00")
CEST = CsvForm(timedelta(hours=2), "+02:00")

LAYOUT: tuple[NativeTable, ...] = (
    NativeTable(
        "accounts",
        "crm/companies.csv.gz",
        csv=UTC_PG,
        rename={
            "account_id": "id",
            "company_name": "legal_name",
            "country": "country_code",
            "created_at": "created",
        },
    ),
    NativeTable(
        "contacts",
        "crm/people/",
        csv=CEST,
        parts=2,
        rename={"contact_id": "id", "account_id": "company_id", "full_name": "name", "created_at": "created"},
    ),
    NativeTable(
        "orders",
        "shop/sales_order/",
        parts=3,
        rename={"order_id": "entity_id", "account_id": "company_id"},
        expressions={"order_date": "CAST(created AS DATE)", "status": "lower(state)"},
        filter=f"store_id <> '{TEST_STORE}'",
        inventory=("sales_channel",),
    ),
    NativeTable("order_items", "shop/sales_order_line/", parts=2, rename={"order_id": "sales_order_id"}),
    NativeTable(
        "payments",
        "shop/payments.csv.gz",
        csv=CsvForm(timedelta(hours=2), "+02:00", delimiter=";"),
        rename={"payment_id": "id", "order_id": "sales_order_id"},
    ),
    NativeTable(
        "support_tickets",
        "support/tickets.csv",
        csv=CsvForm(timedelta(0), "Z", separator="T", gzip=False),
        rename={"ticket_id": "id", "account_id": "company_id"},
    ),
    NativeTable(
        "web_events",
        "tracking/events/",
        partition=("year", "occurred_at"),
        rename={"event_id": "id", "occurred_at": "event_time"},
    ),
)
"""The native tables; every other contract table stays ``<table>.parquet``, found by name."""


def _orders(batch: pa.Table, first: bool) -> pa.Table:
    """Orders as the shop stores them: a created instant on the order day, an upper-case state,
    the store and channel, and (in the first batch) the QA store's test orders, placed with a
    real login, so that an audit that kept them would report them."""
    time_of_day = pa.array(np.arange(batch.num_rows) * 7919 % 86_400 * 1_000_000, pa.duration("us"))
    created = pc.add(batch["order_date"].cast(pa.timestamp("us")), time_of_day)
    store = pc.binary_join_element_wise("store-", pc.utf8_lower(batch["ship_country"]), "")
    channel = pc.if_else(pc.is_null(batch["contact_id"]), "sales_desk", "portal")
    index = batch.column_names.index("order_date")
    batch = batch.set_column(index, "created", created)
    batch = batch.set_column(batch.column_names.index("status"), "state", pc.utf8_upper(batch["status"]))
    batch = batch.append_column("store_id", store).append_column("sales_channel", channel)
    if not first:
        return batch
    test = batch.slice(0, TEST_ROWS)
    test = test.set_column(0, "order_id", pc.binary_join_element_wise("TEST-", test["order_id"], ""))
    qa_login = pa.array([pc.drop_null(batch["contact_id"])[0].as_py()] * TEST_ROWS)  # not erased: findings
    test = test.set_column(test.column_names.index("contact_id"), "contact_id", qa_login)
    test = test.set_column(
        test.column_names.index("store_id"), "store_id", pa.array([TEST_STORE] * TEST_ROWS)
    )
    test = test.set_column(
        test.column_names.index("sales_channel"), "sales_channel", pa.array(["qa"] * TEST_ROWS)
    )
    return pa.concat_tables([batch, test])


def _web_events(batch: pa.Table, first: bool) -> pa.Table:
    """Spark writes the event time as a UTC-adjusted instant (``TIMESTAMP WITH TIME ZONE``)."""
    index = batch.column_names.index("occurred_at")
    return batch.set_column(index, "occurred_at", batch["occurred_at"].cast(pa.timestamp("us", tz="UTC")))


RESHAPE: dict[str, Callable[[pa.Table, bool], pa.Table]] = {"orders": _orders, "web_events": _web_events}
"""Native tables whose columns differ by more than their names."""


def _csv_text(batch: pa.Table, form: CsvForm) -> pa.Table:
    """Timestamps as local time with the UTC offset appended, as ``COPY … TO`` prints them."""
    columns = []
    for column in batch.columns:
        if pa.types.is_timestamp(column.type):
            # whole seconds, as PostgreSQL prints them (a fraction would make the cast fail, not vanish)
            local = pc.add(column.cast(pa.timestamp("s")), pa.scalar(form.offset, pa.duration("s")))
            text = pc.strftime(local, format=f"%Y-%m-%d{form.separator}%H:%M:%S")
            column = pc.binary_join_element_wise(text, form.suffix, "")
        columns.append(column)
    return pa.table(columns, names=batch.column_names)


class _PartWriter:
    """One native file: Parquet as the generator writes it, or (gzip) CSV without a time stamp."""

    def __init__(self, path: Path, schema: pa.Schema, form: CsvForm | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.form = form
        self._handles: list[Any] = []
        if form is None:
            self._writer: Any = pq.ParquetWriter(path, schema, compression="zstd")
            return
        sink: Any = path.open("wb")
        self._handles.append(sink)
        if form.gzip:
            sink = gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0)
            self._handles.append(sink)
        options = pacsv.WriteOptions(quoting_style="needed", delimiter=form.delimiter)
        self._writer = pacsv.CSVWriter(
            sink, _csv_text(schema.empty_table(), form).schema, write_options=options
        )

    def write(self, batch: pa.Table) -> None:
        self._writer.write_table(batch if self.form is None else _csv_text(batch, self.form))

    def close(self) -> None:
        self._writer.close()
        for handle in reversed(self._handles):
            handle.close()


def _hadoop_markers(directory: Path) -> None:
    """What Spark leaves beside its parts: ``_SUCCESS`` and each part's ``.crc`` (never data).

    The checksums are real (Hadoop's ChecksumFileSystem format: ``crc\0``, the bytes per
    checksum, one CRC-32 per chunk): Hadoop's local file system verifies a part against its
    ``.crc`` when Spark reads it, so a made-up one would make the part unreadable.
    """
    (directory / "_SUCCESS").write_bytes(b"")
    for part in sorted(directory.rglob("part-*")):
        data = part.read_bytes()
        sums = b"".join(
            zlib.crc32(data[i : i + CRC_CHUNK]).to_bytes(4, "big") for i in range(0, len(data), CRC_CHUNK)
        )
        (part.parent / f".{part.name}.crc").write_bytes(b"crc\0" + CRC_CHUNK.to_bytes(4, "big") + sums)


def _write_table(spec: NativeTable, contract_file: Path, root: Path) -> None:
    source = pq.ParquetFile(contract_file)
    rows = source.metadata.num_rows
    batch_rows = max(1, min(BATCH_ROWS, math.ceil(rows / spec.parts)))
    suffix = ("csv.gz" if spec.csv.gzip else "csv") if spec.csv else "parquet"
    writers: dict[str, _PartWriter] = {}
    reshape = RESHAPE.get(spec.table, lambda batch, first: batch)
    for number, record_batch in enumerate(source.iter_batches(batch_size=batch_rows)):
        batch = reshape(pa.Table.from_batches([record_batch]), number == 0)
        batch = batch.rename_columns([spec.rename.get(name, name) for name in batch.column_names])
        for key, rows_of_key in _partitions(spec, batch):
            if not spec.is_directory:
                target = root / spec.source
            else:
                target = root / spec.source / key / f"part-{number % spec.parts:05d}.{suffix}"
            name = str(target)
            if name not in writers:
                writers[name] = _PartWriter(target, rows_of_key.schema, spec.csv)
            writers[name].write(rows_of_key)
    for writer in writers.values():
        writer.close()
    if spec.is_directory:
        _hadoop_markers(root / spec.source)


def _partitions(spec: NativeTable, batch: pa.Table) -> list[tuple[str, pa.Table]]:
    """The batch split by the hive partition key (its event year), or whole."""
    if spec.partition is None:
        return [("", batch)]
    key, column = spec.partition
    years = pc.year(batch[spec.rename.get(column, column)])
    return [(f"{key}={year}", batch.filter(pc.equal(years, year))) for year in sorted(set(years.to_pylist()))]


class _Sql(str):
    """A SQL text or delimiter, written double-quoted as the spec's examples write them."""


yaml.SafeDumper.add_representer(
    _Sql, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
)


def mapping(layout: tuple[NativeTable, ...] = LAYOUT) -> dict[str, Any]:
    """The mapping file (``your-export.md``) that reads ``layout`` back as the contract."""
    tables: dict[str, Any] = {}
    for spec in layout:
        entry: dict[str, Any] = {"source": spec.source}
        if spec.csv is not None and spec.csv.delimiter != ",":
            entry["csv"] = {"delimiter": _Sql(spec.csv.delimiter), "header": True}
        columns: dict[str, Any] = {
            name: spec.rename[name] for name in TABLES[spec.table].column_names if name in spec.rename
        }
        columns.update({name: {"expr": _Sql(sql)} for name, sql in spec.expressions.items()})
        entry["columns"] = columns
        if spec.filter:
            entry["filter"] = _Sql(spec.filter)
        tables[spec.table] = entry
    inventory = {spec.table: list(spec.inventory) for spec in layout if spec.inventory}
    return {"version": 1, "tables": tables, "inventory": inventory}


MAPPING_HEADER = """\
# The platform-native demo export (privacy-audit generate --layout native) mapped onto the
# export contract (privacy-audit contract). Tables not named here are <table>.parquet files.
"""


def write_native(contract_export: Path, out: Path) -> dict[str, str]:
    """Rewrite ``contract_export`` (Parquet, as generated) into ``out/export`` + ``out/mapping.yaml``.

    Returns each contract table's source, relative to ``out``.
    """
    root = out / "export"
    root.mkdir()
    native = {spec.table: spec for spec in LAYOUT}
    files = {}
    for table in TABLES:
        contract_file = contract_export / f"{table}.parquet"
        if table in native:
            _write_table(native[table], contract_file, root)
            files[table] = f"export/{native[table].source}"
        else:
            (root / contract_file.name).write_bytes(contract_file.read_bytes())
            files[table] = f"export/{contract_file.name}"
    text = yaml.safe_dump(mapping(), sort_keys=False, default_flow_style=None, width=100)
    (out / MAPPING).write_text(MAPPING_HEADER + text, encoding="utf-8")
    return files
