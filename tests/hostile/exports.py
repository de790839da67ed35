"""Hand-made exports broken in one hostile way each, for the class modules."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from handmade import make_export
from hostile.probe import SECRET

CONTACT = {"contact_id": "C1", "account_id": "A1", "email": SECRET}


def contacts_export(directory: Path, fmt: str = "parquet", rows: int = 1) -> Path:
    """A valid export whose contacts table holds ``rows`` contacts, the first with SECRET."""
    contacts = [CONTACT] + [{"contact_id": f"C{i}", "account_id": "A1"} for i in range(2, rows + 1)]
    return make_export(directory, {"accounts": [{"account_id": "A1"}], "contacts": contacts}, fmt)


def replace_column(path: Path, column: str, values: pa.Array) -> None:
    """Rewrite a Parquet table with ``column`` replaced by ``values`` (any Arrow type)."""
    data = pq.read_table(path)
    index = data.schema.get_field_index(column)
    pq.write_table(data.set_column(index, column, values), path)


def invalid_utf8(values: list[bytes]) -> pa.Array:
    """A Parquet string column whose bytes are not UTF-8 (pyarrow does not check a view)."""
    return pa.array(values, pa.binary()).view(pa.string())


def orders_export(directory: Path, amounts: list[float]) -> Path:
    """An export whose orders' total_amount is a Parquet double (the contract allows it)."""
    orders = [{"order_id": f"O{i}", "account_id": "A1"} for i in range(len(amounts))]
    export = make_export(directory, {"accounts": [{"account_id": "A1"}], "orders": orders})
    replace_column(export / "orders.parquet", "total_amount", pa.array(amounts, pa.float64()))
    return export
