"""A notebook run by hand with its defaults reads the bundled demo from any folder and writes to
a scratch folder, never over the reports of a scheduled run."""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["trends_report", "compliance_report"])
def test_defaults_do_not_depend_on_the_working_directory(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cell = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells[0]
    assert "parameters" in cell.metadata.tags
    runs = []
    for folder in (ROOT, ROOT / "notebooks", tmp_path):  # repo root, JupyterLab, anywhere
        monkeypatch.chdir(folder)
        namespace: dict[str, object] = {}
        exec(cell.source, namespace)  # the project's own parameters cell
        runs.append((Path(str(namespace["export_dir"])), Path(str(namespace["out_dir"]))))
    exports, outs = zip(*runs, strict=True)
    assert set(exports) == {ROOT / "data" / "synthetic" / "demo" / "export"} and exports[0].is_dir()
    # Each run a folder of its own (the output guard refuses a folder holding a previous run's
    # unmarked files), under the temp dir, never the project's reports/.
    assert len(set(outs)) == len(outs)
    assert all(o.is_relative_to(tempfile.gettempdir()) and not o.exists() for o in outs)
    assert not any(o.is_relative_to(ROOT) for o in outs)


def test_a_missing_export_is_named_as_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from privacy_audit.errors import InputError
    from privacy_audit.reporting.trends.publish import parameters

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        parameters(
            export_dir="data/export", period_start="2024-01-01", period_end="2024-12-31", out_dir="out"
        )
    assert str(caught.value) == (
        f"parameter export_dir: expected a valid value (an existing directory, resolved here to "
        f"{tmp_path.resolve() / 'data' / 'export'})"
    )
