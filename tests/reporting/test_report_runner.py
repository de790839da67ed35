"""The shared report runner, on tiny notebooks: publication, failures, sanitizing, leak scan."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from privacy_audit.errors import InputError
from privacy_audit.outputs.folder import MARKER
from privacy_audit.reporting.common.html_export import check_self_contained
from privacy_audit.reporting.common.runner import KERNEL_NAME, ReportError, render_report

PARAMETERS = 'out_dir = ""\nname = "world"'
HOSTILE_OUTPUT = """\
from IPython.display import display
display({
    "text/html": "<h2 onclick='x()'>Hello</h2><script>alert(1)</script>"
                 "<a href='https://example.com/'>out</a><img src='https://example.com/t.png'>",
    "application/javascript": "alert(2)",
    "image/svg+xml": "<svg onload='alert(3)'></svg>",
    "text/plain": "plain",
}, raw=True)
print("stream output is left out of the HTML")"""


def _notebook(path: Path, *sources: str) -> Path:
    nb = new_notebook(
        metadata={
            "kernelspec": {"name": "privacy-audit", "display_name": "privacy-audit"},
            "language_info": {"name": "python"},
        }
    )
    params = new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_markdown_cell("# Title <img src=x onerror=alert(4)>")]
    nb.cells += [new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_publishes_html_notebook_and_artifacts_sanitized(tmp_path: Path) -> None:
    nb = _notebook(
        tmp_path / "ok.ipynb",
        "from pathlib import Path\nPath(out_dir, 'data.txt').write_text(f'hello {name}')",
        HOSTILE_OUTPUT,
    )
    out = tmp_path / "out"
    html_path = render_report(nb, {"name": "there"}, out, "ok.html", cell_timeout=60)
    assert {p.name for p in out.iterdir()} == {"ok.html", "ok.ipynb", "data.txt", MARKER}
    assert json.loads((out / MARKER).read_text())["entries"] == ["data.txt", "ok.html", "ok.ipynb"]
    assert (out / "data.txt").read_text() == "hello there"  # out_dir is the staging folder
    html = html_path.read_text(encoding="utf-8")
    assert check_self_contained(html) == []
    assert "<h2>Hello</h2>" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(4)&gt;" in html  # markdown cells are sanitized too
    assert "alert(2)" not in html and "alert(3)" not in html  # javascript and svg outputs dropped
    assert "stream output" not in html and "Path(out_dir" not in html  # no streams, no inputs
    assert "cdnjs" not in html and "require.js" not in html and "MathJax" not in html
    assert "Content-Security-Policy" in html


def test_kernel_traffic_is_encrypted(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    nb = _notebook(
        tmp_path / "nb.ipynb",
        "from ipykernel.connect import get_connection_info\n"
        "print('encrypted' if get_connection_info(unpack=True).get('curve_publickey') else 'plain')",
    )
    render_report(nb, {}, tmp_path / "out", "report.html")
    executed = nbformat.read(tmp_path / "out" / "report.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"].strip() == "encrypted"
    assert "without encryption" not in capfd.readouterr().err


def test_unknown_parameter_is_refused_before_any_kernel(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "nb.ipynb", "raise SystemError('must not run')")
    with pytest.raises(ReportError, match="has no parameter nmae"):
        render_report(nb, {"nmae": "x"}, tmp_path / "out", "nb.html")
    assert not (tmp_path / "out").exists()


def test_failing_cell_is_named_and_the_previous_report_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    render_report(_notebook(tmp_path / "ok.ipynb", "print('previous report')"), {}, out, "nb.html")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    nb = _notebook(tmp_path / "nb.ipynb", "x = 1", "# load the data\nraise ValueError('no data')", "y = 2")
    with pytest.raises(
        ReportError, match=r"cell 3 \(id [\w-]+\) `# load the data` failed: ValueError: no data"
    ) as err:
        render_report(nb, {}, out, "nb.html")
    assert err.value.cell == 3 and err.value.ename == "ValueError"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no staging left


def test_a_clean_sys_exit_is_still_a_failure(tmp_path: Path) -> None:
    # papermill treats SystemExit(0) as success; the cells after it would be missing.
    nb = _notebook(tmp_path / "nb.ipynb", "import sys\nsys.exit(0)", "x = 1")
    with pytest.raises(ReportError, match=r"cell 2 \(id [\w-]+\) `import sys` failed: SystemExit"):
        render_report(nb, {}, tmp_path / "out", "nb.html")
    assert not (tmp_path / "out").exists()


def test_cell_timeout_names_the_cell(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "nb.ipynb", "import time\ntime.sleep(30)")
    with pytest.raises(
        ReportError, match=r"cell 2 \(id [\w-]+\) `import time` failed: CellTimeoutError: A cell timed out"
    ):
        render_report(nb, {}, tmp_path / "out", "nb.html", cell_timeout=1)
    assert not (tmp_path / "out").exists()


class _Scanner:
    def scan_file(self, path: Path) -> list[str]:
        return ["a contact's email"] if "jane@example.com" in path.read_text() else []


def test_a_leak_aborts_the_publication(tmp_path: Path) -> None:
    nb = _notebook(
        tmp_path / "nb.ipynb",
        "from pathlib import Path\n(Path(out_dir) / 'evidence').mkdir()\n"
        "Path(out_dir, 'evidence', 'x.csv').write_text('jane@example.com')",
    )
    with pytest.raises(
        ReportError, match=r"personal data would be published.*evidence/x\.csv: a contact's email"
    ):
        render_report(nb, {}, tmp_path / "out", "nb.html", scanner=_Scanner())
    assert not (tmp_path / "out").exists()


def test_the_kernel_is_this_interpreter_whatever_jupyter_has_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registered kernelspec of the same name (another install's) is never what runs."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    other = {
        "argv": ["/nonexistent/other-venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    }
    (spec / "kernel.json").write_text(json.dumps(other | {"display_name": "other", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = _notebook(
        tmp_path / "nb.ipynb", "import sys, tempfile\nprint(sys.executable, tempfile.gettempdir())"
    )
    render_report(nb, {}, tmp_path / "out", "nb.html")
    executed = nbformat.read(tmp_path / "out" / "nb.ipynb", as_version=4)
    executable, tmp = executed.cells[-1].outputs[0]["text"].split()
    assert executable == sys.executable
    assert Path(tmp).parent.name.startswith(".out.staging-")  # the kernel's temporary files: in staging


def test_a_folder_of_other_files_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(InputError, match="out: expected a new or empty folder, or a previous output"):
        render_report(_notebook(tmp_path / "nb.ipynb"), {}, tmp_path / "out", "nb.html")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["thesis.docx"]


def test_a_previous_report_gets_a_file_added_is_not_ours_any_more(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "nb.ipynb", "x = 1")
    render_report(nb, {}, tmp_path / "out", "nb.html")
    (tmp_path / "out" / "notes.txt").write_text("added by a person", encoding="utf-8")
    with pytest.raises(InputError, match="previous output"):
        render_report(nb, {}, tmp_path / "out", "nb.html")
    assert (tmp_path / "out" / "notes.txt").exists()
    (tmp_path / "out" / "notes.txt").unlink()
    render_report(nb, {}, tmp_path / "out", "nb.html")  # exactly what we wrote: replaced


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<script>alert(1)</script>", "<script> element"),
        ('<img src="x" onerror="alert(1)">', "onerror handler"),
        ('<img src="https://example.com/a.png">', "src="),
        ('<a href="javascript:alert(1)">x</a>', "href="),
        ('<link rel="stylesheet" href="https://cdn.example.com/a.css">', "<link> element"),
        ("<style>@import 'https://fonts.example.com/f.css';</style>", "CSS @import"),
        ("<style>body { background: url(https://example.com/b.png) }</style>", "CSS url("),
        ('<div style="background: url(//example.com/b.png)">x</div>', "CSS url("),
        ('<meta http-equiv="refresh" content="0; url=https://example.com">', "meta refresh"),
    ],
)
def test_self_containment_check_catches(html: str, problem: str) -> None:
    assert any(problem in p for p in check_self_contained(f"<html><body>{html}</body></html>"))


def test_self_containment_check_accepts_local_content() -> None:
    page = '<style>a { background: url("data:image/svg+xml;base64,AAAA") }</style><a href="#s">s</a>'
    assert check_self_contained(page + '<img src="data:image/png;base64,iVBORw0KGgo=" alt="c">') == []
