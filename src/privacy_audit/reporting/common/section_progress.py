"""A report run's progress, one callback per notebook section, for a person waiting on it.

papermill is silent for the 10 to 40 seconds a report takes (its own bar counts cells on
stdout). The runner executes the notebook under the papermill engine registered here, which
calls back as each report cell starts with the section it shows: the package function the cell
calls (``trends_report.sales(pub)`` is ``sales``), or the cell's first line when it calls none.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from nbformat import NotebookNode
from papermill.engines import NBClientEngine, papermill_engines

ENGINE = "privacy-audit-sections"
SectionProgress = Callable[[int, int, str], None]
"""Called with (section number from 1, number of sections, section name)."""

_SKIPPED = {"parameters", "injected-parameters"}
_CALL = re.compile(r"\b(\w+)\(")


def section_name(cell: NotebookNode) -> str:
    """The function the cell's last line calls, else its first line (cut at 60 characters)."""
    lines = [line for line in cell.source.splitlines() if line.strip()]
    call = _CALL.search(lines[-1]) if lines else None
    return call.group(1) if call else (lines[0][:60] if lines else "(empty cell)")


def _is_section(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and not _SKIPPED & set(cell.get("metadata", {}).get("tags", []))


class _SectionEngine(NBClientEngine):
    """papermill's own engine, plus the callback as each report section starts."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: object,
        kernel_name: str,
        section_progress: SectionProgress | None = None,
        **kwargs: object,
    ) -> object:
        if section_progress is not None:
            sections = [id(c) for c in nb_man.nb.cells if _is_section(c)]
            start = nb_man.cell_start

            def cell_start(cell: NotebookNode, cell_index: int | None = None, **more: object) -> None:
                start(cell, cell_index, **more)
                if id(cell) in sections:
                    section_progress(sections.index(id(cell)) + 1, len(sections), section_name(cell))

            nb_man.cell_start = cell_start
        return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)


papermill_engines.register(ENGINE, _SectionEngine)
