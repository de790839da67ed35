"""The report notebooks' parameter defaults, for a person running a notebook by hand.

The CLI passes every parameter, so these matter only in JupyterLab or a direct papermill run,
whose kernels start in different folders (the notebook's, the caller's): a default therefore
never depends on the working directory. The export defaults to the project's bundled demo, and
the output to a scratch folder under the system's temporary directory, so an interactive run
never overwrites the reports of a scheduled one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[4]
DEMO_EXPORT = str(PROJECT / "data" / "synthetic" / "demo" / "export")


def scratch(report: str) -> str:
    """Where an interactive run of ``report`` writes: the same folder each time, never reports/."""
    return str(Path(tempfile.gettempdir()) / "privacy-audit-scratch" / report)
