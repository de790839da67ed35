"""A report run names each notebook section as it starts, so a long report is not silent."""

from __future__ import annotations

from pathlib import Path

import nbformat
from compliance_exports import ensure_kernel
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from privacy_audit.reporting.common.runner import render_report
from privacy_audit.reporting.common.section_progress import section_name


def test_a_section_is_named_by_the_function_its_cell_calls() -> None:
    assert section_name(new_code_cell("trends_report.sales(pub)")) == "sales"
    assert section_name(new_code_cell("from x import y\n\npub = y.prepare(a, b)\n")) == "prepare"
    assert section_name(new_code_cell("total = 1 + 1")) == "total = 1 + 1"


def test_the_runner_reports_each_section_as_it_starts(tmp_path: Path) -> None:
    ensure_kernel()
    nb = new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            "language_info": {"name": "python"},
        }
    )
    params = new_code_cell('out_dir = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_markdown_cell("# Title"), new_code_cell("len([])"), new_code_cell("print(1)")]
    nbformat.write(nb, tmp_path / "two.ipynb")
    seen: list[tuple[int, int, str]] = []
    render_report(
        tmp_path / "two.ipynb", {}, tmp_path / "out", "two.html", cell_timeout=60,
        progress=lambda n, of, name: seen.append((n, of, name)),
    )  # fmt: skip
    assert seen == [(1, 2, "len"), (2, 2, "print")]
