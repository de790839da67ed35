"""The CLI on an 80-column terminal: rule ids whole, each rule once, the output folder named."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from handmade import make_export
from privacy_audit.audit import RuleResult
from privacy_audit.progress import RuleProgress
from privacy_audit.rules import REGISTRY, Status


def _cli(*args: str, columns: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-m", "privacy_audit.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def _ids_at_line_start(text: str) -> list[str]:
    return re.findall(r"^\s*([A-Z]+(?:-[A-Z]+)+)(?=\s|$)", text, re.MULTILINE)


def test_the_catalogue_fits_80_columns_with_every_id_whole() -> None:
    listing = _cli("rules", columns=80)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert _ids_at_line_start(listing.stdout) == list(REGISTRY)
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert len(lines) < 6 * len(REGISTRY)  # the description wraps across the width, not in a sliver
    assert all(f"record: {rule.key}" in listing.stdout for rule in REGISTRY.values())


def test_a_wide_terminal_gets_the_catalogue_as_a_table() -> None:
    listing = _cli("rules", columns=160).stdout
    assert "record id" in listing.splitlines()[1]
    assert _ids_at_line_start(listing) == list(REGISTRY)


def test_the_audit_summary_fits_80_columns_names_each_rule_once_and_the_output(tmp_path: Path) -> None:
    export = make_export(tmp_path / "export", {})
    out = tmp_path / "out"
    run = _cli("audit", str(export), "--as-of", "2026-11-01", "--out", str(out), columns=80)
    assert run.returncode == 0, run.stderr
    assert _ids_at_line_start(run.stdout) == list(REGISTRY)
    *table, totals = run.stdout.rstrip().splitlines()
    assert max(len(line.rstrip()) for line in table) <= 80
    assert totals.endswith(f"waived), written to {out}")  # a path is never broken, to copy it whole
    # Off a terminal the progress is the log on stderr: one line per finished rule.
    assert _ids_at_line_start(run.stderr) == list(REGISTRY)


def test_on_a_terminal_the_progress_bar_prints_no_rule_lines() -> None:
    rules = list(REGISTRY.values())[:3]
    for live in (True, False):
        screen = io.StringIO()
        console = Console(file=screen, force_terminal=live, width=80)
        with RuleProgress(len(rules), console) as progress:
            for rule in rules:
                progress.update(rule, None)
                progress.update(rule, RuleResult(rule, Status.passed, checked=10))
        lines = re.findall(r"\d+ of +\d+", screen.getvalue())
        assert len(lines) == (0 if live else len(rules))
