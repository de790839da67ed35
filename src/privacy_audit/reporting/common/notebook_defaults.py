"""The report notebooks' parameter defaults, for a person running a notebook by hand.

The CLI passes every parameter, so these matter only in JupyterLab or a direct papermill run,
whose kernels start in different folders (the notebook's, the caller's): a default therefore
never depends on the working directory. The export defaults to the project's bundled demo, and
the output to a new scratch folder under the system's temporary directory, so an interactive
run never overwrites the reports of a scheduled one.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[4]
DEMO_EXPORT = str(PROJECT / "data" / "synthetic" / "demo" / "export")
MEMORY_LIMIT = "3GB"
"""DuckDB's memory limit in a report's kernel: the audit's default (``--memory-limit``)."""


def scratch(report: str) -> str:
    """A folder no run has written yet, for an interactive run of ``report`` (named, not created:
    the CLI overrides it). A fixed folder would hold the previous run's files, which the output
    guard rightly refuses to write over, so a second "run all" would fail."""
    return str(Path(tempfile.gettempdir()) / "privacy-audit-scratch" / f"{report}-{time.time_ns()}")
