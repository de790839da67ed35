"""Run a report notebook and publish it whole or not at all. Shared by every report.

API::

    render_report(notebook, parameters, out_dir, html_name, *, cell_timeout=600, scanner=None,
                  export=None, progress=None) -> Path
    notebook_path(name) -> Path        # e.g. notebook_path("compliance_report.ipynb")

- ``notebook``: the .ipynb (presentation only, one cell tagged ``parameters``).
- ``parameters``: names and plain values (str, int, float, bool). Validate them with the
  report's pydantic model first; the runner refuses names the notebook does not declare
  (papermill would accept them silently). When the notebook declares ``out_dir``, the runner
  sets it to the staging folder, so whatever the notebook writes there is published with
  the report, atomically.
- ``out_dir``: the published folder. It ends up holding ``html_name``, the executed notebook
  (same stem, ``.ipynb``) and the notebook's own artifacts, or, on any failure, stays as it was.
  It is written like every output (``privacy_audit.outputs.folder.staged_output``): an existing
  folder is replaced only when it is provably a previous output, else ``InputError``.
- ``cell_timeout``: seconds any one cell may run.
- ``scanner``: anything with ``scan_file(path) -> list[str]`` (leak descriptions), e.g.
  ``privacy_audit.reporting.common.leaks.LeakScanner.from_export(export_dir)``, which reads what
  each artifact says. Every artifact is scanned and one finding aborts the publication.
  When the notebook declares ``leak_values`` and ``scanner`` is a ``LeakScanner``, the runner
  saves the scanner's values into the run's private scratch and passes their path there: a
  notebook that scans what it writes (the trend report) then scans with these values instead of
  collecting the export's values a second time.
- ``export``: a folder ``out_dir`` must stay out of (the export the notebook reads).
- ``progress``: called with (number, of, name) as each report section (code cell after the
  parameters) starts, e.g. to show on stderr which part of a long report is being computed.

Raises ``ReportError`` (with ``cell`` and ``ename`` when a cell failed) and never leaves a
partial report. Steps: papermill in a kernel of this very interpreter (``sys.executable``,
whatever kernels Jupyter has registered) into a staging folder beside ``out_dir`` → check every
cell ran without an error output (papermill exits cleanly after ``sys.exit(0)`` or a cell tagged
``raises-exception``) → HTML without inputs, sanitized, with no script and nothing fetched from a
network → leak scan → rename into place. The executed notebook and the kernel's connection file
live in the staging folder's private scratch, so a killed run leaves nothing elsewhere.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Protocol

import nbformat
import zmq
from ipykernel.kernelspec import get_kernel_dict
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import default
from traitlets.config import Config

from privacy_audit.outputs.folder import staged_output
from privacy_audit.reporting.common.html_export import check_self_contained, to_html
from privacy_audit.reporting.common.leaks import LeakScanner
from privacy_audit.reporting.common.section_progress import ENGINE as SECTIONS_ENGINE
from privacy_audit.reporting.common.section_progress import SectionProgress

LEAK_VALUES = "leak_values"
"""A notebook parameter: the path of the CLI's scanner's values (``LeakScanner.save``), or ""."""
KERNEL_NAME = "privacy-audit"
"""The kernel name the executed notebook records; only ``_OwnKernelManager`` ever resolves it."""
_PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


class ReportError(Exception):
    """The report could not be published; ``cell`` is the failing cell's index when known."""

    def __init__(self, message: str, *, cell: int | None = None, ename: str | None = None) -> None:
        super().__init__(message)
        self.cell, self.ename = cell, ename


class _OwnKernelManager(AsyncKernelManager):
    """A kernel of the interpreter running this code, with its traffic encrypted when possible.

    The spec is built here, never looked up among the kernels Jupyter has registered: a global
    ``privacy-audit`` kernelspec may launch another install (an older venv, a second project),
    and the report would silently run that install's code.

    Notebooks read the export and print what they computed; over plain local TCP any process on
    the machine could listen. CurveZMQ encryption is used when pyzmq supports it.
    """

    @property
    def kernel_spec(self) -> KernelSpec:
        """``sys.executable``'s ipykernel; its temporary files (DuckDB's spill) go beside the
        connection file, into the run's private scratch, so a killed run leaves none in /tmp."""
        if self._kernel_spec is None:
            env = {"TMPDIR": str(Path(self.connection_file).parent)} if self.connection_file else {}
            self._kernel_spec = KernelSpec(**get_kernel_dict(), env=env, resource_dir="")
        return self._kernel_spec

    @default("transport_encryption")
    def _auto_encryption(self) -> str:
        return "auto" if zmq.has("curve") else "disabled"


class TextScanner(Protocol):
    """What the runner needs from a personal-data scanner."""

    def scan_file(self, path: Path) -> list[str]: ...


def render_report(
    notebook: Path,
    parameters: Mapping[str, object],
    out_dir: Path,
    html_name: str,
    *,
    cell_timeout: int = 600,
    scanner: TextScanner | None = None,
    export: Path | None = None,
    progress: SectionProgress | None = None,
) -> Path:
    """Execute ``notebook`` with ``parameters`` and publish it into ``out_dir``; returns the HTML."""
    import papermill

    notebook, out_dir = Path(notebook).resolve(), Path(out_dir)
    declared = papermill.inspect_notebook(str(notebook))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ReportError(
            f"{notebook.name} has no parameter {', '.join(unknown)} (it declares {', '.join(declared)})"
        )
    with staged_output(out_dir, export) as stage:
        staging = stage.output
        # Executed outside the staging folder, so the notebook's out_dir starts empty.
        executed = stage.scratch / f"{Path(html_name).stem}.ipynb"
        values = {**parameters, **({"out_dir": str(staging)} if "out_dir" in declared else {})}
        if LEAK_VALUES in declared and isinstance(scanner, LeakScanner):
            values[LEAK_VALUES] = str(scanner.save(stage.scratch / "leak_values.npz"))
        try:
            papermill.execute_notebook(
                str(notebook),
                str(executed),
                parameters=values,
                kernel_name=KERNEL_NAME,
                cwd=str(notebook.parent),
                execution_timeout=cell_timeout,
                progress_bar=False,
                log_output=False,
                kernel_manager_class=_OwnKernelManager,
                config=Config({"KernelManager": {"connection_file": str(stage.scratch / "kernel.json")}}),
                engine_name=SECTIONS_ENGINE,
                section_progress=progress,
            )
        except Exception as exc:  # every failure (cell error, timeout, dead kernel) names the cell
            raise _cell_error(notebook, executed, exc) from None
        nb = nbformat.read(executed, as_version=4)
        problem = _first_failed_cell(nb)
        if problem:
            raise _describe(notebook, nb, *problem)
        html = to_html(nb, title=Path(html_name).stem)
        problems = check_self_contained(html)
        if problems:
            raise ReportError(f"{html_name} is not self-contained and safe: {'; '.join(problems[:5])}")
        (staging / html_name).write_text(html, encoding="utf-8")
        shutil.move(executed, staging / executed.name)
        if scanner is not None:
            leaks = [
                f"{path.relative_to(staging).as_posix()}: {leak}"
                for path in sorted(p for p in staging.rglob("*") if p.is_file())
                for leak in scanner.scan_file(path)
            ]
            if leaks:
                raise ReportError(
                    f"personal data would be published, nothing written: {'; '.join(leaks[:10])}"
                )
    return out_dir.resolve() / html_name


def notebook_path(name: str) -> Path:
    """A report notebook shipped in the package (``privacy_audit/notebooks``, linked to ``notebooks/``)."""
    path = Path(str(resources.files("privacy_audit") / "notebooks" / name))
    if not path.is_file():
        raise ReportError(f"report notebook {name} not found in the installed package")
    return path


def _first_failed_cell(nb: nbformat.NotebookNode) -> tuple[int, str, str] | None:
    """(index, ename, evalue) of the first code cell that failed or never ran, else None."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                return index, output.ename, output.evalue
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if cell.get("execution_count") is None or status not in (None, "completed"):
            return index, "NotExecuted", f"the cell did not run to completion (status {status or 'unknown'})"
    return None


def _cell_error(notebook: Path, executed: Path, exc: Exception) -> ReportError:
    """A failed run as one message: the cell's error, or (timeout, dead kernel) the runner's."""
    import papermill

    nb = nbformat.read(executed, as_version=4) if executed.exists() else None
    problem = _first_failed_cell(nb) if nb else None
    if nb is None or problem is None:
        return ReportError(
            f"{notebook.name} could not run: {type(exc).__name__}: {_first_line(str(exc))}",
            ename=type(exc).__name__,
        )
    index, ename, evalue = problem
    if not isinstance(exc, papermill.PapermillExecutionError):
        ename, evalue = type(exc).__name__, str(exc)
    return _describe(notebook, nb, index, ename, evalue)


def _describe(notebook: Path, nb: nbformat.NotebookNode, index: int, ename: str, evalue: str) -> ReportError:
    """Name the failing cell by its index in the source notebook, id, tags and first line."""
    cell = nb.cells[index]
    tags = set(cell.get("metadata", {}).get("tags", []))
    source_index = sum(
        1 for c in nb.cells[:index] if not _PAPERMILL_TAGS & set(c.get("metadata", {}).get("tags", []))
    )
    where = "the injected parameters" if "injected-parameters" in tags else f"cell {source_index}"
    names = [f"id {cell['id']}"] if cell.get("id") else []
    if tags:
        names.append(f"tags {', '.join(sorted(tags))}")
    label = f" ({'; '.join(names)})" if names else ""
    message = _first_line(evalue)
    return ReportError(
        f"{notebook.name}: {where}{label} `{_first_line(cell.source)[:80]}` failed: {ename}"
        + (f": {message[:300]}" if message else ""),
        cell=None if "injected-parameters" in tags else source_index,
        ename=ename,
    )


def _first_line(text: str | None) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
