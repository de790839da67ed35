"""Exports and a kernel for the compliance report tests.

``hostile_export`` puts markup in every free text field, every identifier and one CSV header,
so a test can prove that nothing from an export reaches a report unescaped. Free text fields
also carry a ``FREE-TEXT`` marker, which must not reach a report at all (identifiers may).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from handmade import make_export
from privacy_audit.contract import TABLES, TEXT
from privacy_audit.reporting.common.runner import KERNEL_NAME

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
FREE_TEXT = "FREE-TEXT"
HOSTILE_COLUMN = f"notes{IMG}"


def ensure_kernel() -> None:
    """Register the report kernel for this process when the machine has not (CI, fresh box)."""
    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        return
    except NoSuchKernel:
        pass
    prefix = tempfile.mkdtemp(prefix="privacy-audit-kernel-")
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--prefix", prefix, "--name", KERNEL_NAME],
        check=True,
        capture_output=True,
    )
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(Path(prefix) / "share" / "jupyter"), os.environ.get("JUPYTER_PATH")) if p
    )


def _hostile_text(table: str, column: str, i: int) -> str:
    payload = SCRIPT if i % 2 else IMG
    if column.endswith("_id") and column != "tax_id":
        return f"{payload}{i}"
    return f"{FREE_TEXT} {table}.{column} {payload}"


def hostile_export(directory: Path) -> Path:
    """Every text column of every record holds markup; old, unerased records make rules fail."""
    dated = {
        "accounts": {"created_at": "2010-01-01"},
        "contacts": {"created_at": "2010-01-01", "last_login_at": "2011-01-01"},
        "orders": {"order_date": "2012-03-01"},
        "support_tickets": {"opened_at": "2015-01-01", "closed_at": "2015-02-01"},
        "web_events": {"occurred_at": "2020-05-01", "tracking_category": "marketing"},
        "privacy_requests": {"received_at": "2026-01-01", "completed_at": "2026-05-01"},
        "email_sends": {"sent_at": "2026-01-01", "kind": "marketing"},
    }
    tables = {}
    for name in ("accounts", "contacts", "addresses", "orders", "support_tickets", "web_events"):
        tables[name] = [_row(name, i, dated.get(name, {})) for i in (1, 2)]
    for name in ("privacy_requests", "email_sends", "payments", "products"):
        tables[name] = [_row(name, 1, dated.get(name, {}))]
    for row in tables["web_events"]:
        row["ip_address"], row["user_agent"] = f"{FREE_TEXT} ip {IMG}", f"{FREE_TEXT} ua {SCRIPT}"
    tables["support_tickets"][0]["body"] = f"{FREE_TEXT} card 4111 1111 1111 1111 {SCRIPT}"
    tables["accounts"][0][HOSTILE_COLUMN] = f"{FREE_TEXT} undeclared {SCRIPT}"
    make_export(directory, tables, "csv")
    return directory


def _row(table: str, i: int, extra: dict[str, object]) -> dict[str, object]:
    spec = TABLES[table]
    row: dict[str, object] = {
        c.name: _hostile_text(table, c.name, i)
        for c in spec.columns
        if c.type == TEXT and not c.enum and not c.pattern  # validation rejects markup in codes
    }
    return {**row, **extra}
