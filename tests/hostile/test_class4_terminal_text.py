"""Class 4: untrusted text (paths, headers, ids, option values) reaches the terminal literally.

Rich markup in a path was a MarkupError traceback or silently vanished; escape sequences and
newlines reached the terminal raw and could forge a second line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from handmade import make_export
from hostile.probe import audit, run
from privacy_audit.terminal import print_line, visible

HOSTILE_NAMES = ["ex[/red]port", "ex[bold]port", "ex[link=http://x]port", "ex\x1b[31mport", "ex\nport"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_missing_export_path_is_printed_literally(tmp_path: Path, name: str) -> None:
    line = audit(tmp_path / name, tmp_path / "out").one_line(2, "does not exist")
    assert visible(str(tmp_path / name)) in line
    assert "\x1b" not in line


@pytest.mark.parametrize("header", ["contact_id[/red]", "[bold]x", "a\x1b]0;title\x07b"])
def test_csv_header_with_markup_or_escapes(tmp_path: Path, header: str) -> None:
    export = make_export(tmp_path / "export", {}, "csv")
    csv = export / "contacts.csv"
    text = csv.read_text(encoding="utf-8")
    csv.write_text(text.replace("contact_id", f'"{header}"', 1), encoding="utf-8")
    line = audit(export, tmp_path / "out").one_line(2, "contacts.csv", "column contact_id")
    assert "\x1b" not in line and "\x07" not in line


@pytest.mark.parametrize("value", ["[/red]", "x\x1b[2Jy", "a\nb"])
def test_option_values_are_not_markup(tmp_path: Path, value: str) -> None:
    run("audit", str(tmp_path), "--as-of", value, "--out", str(tmp_path / "o")).one_line(2, "--as-of")
    line = run(
        "audit", str(tmp_path), "--as-of", "2026-01-01", "--out", str(tmp_path / "o"), "--rules", value
    ).one_line(2, "--rules")
    assert "\x1b" not in line


def test_unknown_rule_id_with_markup(tmp_path: Path) -> None:
    line = run("rules", "[/red]NOPE[bold]").one_line(2, "unknown rule id")
    assert "[/red]NOPE[bold]" in line


def test_print_line_renders_markup_and_controls_literally() -> None:
    console = Console(record=True, width=200, color_system=None)
    print_line(console, ("error:", "bold red"), " ", "[/red] \x1b[31m \u202e tail\nnext")
    text = console.export_text()
    assert text.count("\n") == 1
    assert "[/red] \\x1b[31m \\u202e tail\\nnext" in text
