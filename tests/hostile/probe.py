"""What every hostile case asserts: a known exit status, one line on stderr, no traceback, no value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from privacy_audit.cli import app

SECRET = "jane.doe@example.com"
"""A personal value planted in hand-made exports: it must never reach a message or an output."""

PROGRESS = re.compile(r"^[A-Z][A-Z0-9-]+ +(pass|fail|skipped|error) +\d")
"""A rule's progress line (stderr without a terminal): not a message, whatever follows it."""

runner = CliRunner()


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    def one_line(self, code: int = 2, *needles: str) -> str:
        """Assert exit ``code`` with exactly one clear stderr line containing ``needles``."""
        assert self.exception is None or isinstance(self.exception, SystemExit), repr(self.exception)
        assert self.code == code, (self.code, self.stderr)
        lines = [ln for ln in self.stderr.splitlines() if ln.strip() and not PROGRESS.match(ln)]
        assert len(lines) == 1, self.stderr
        assert "Traceback" not in self.stderr
        assert SECRET not in self.stderr + self.stdout
        for needle in needles:
            assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
        return lines[0]


def run(*args: str) -> Outcome:
    """Run the CLI in-process, as the console script would."""
    result = runner.invoke(app, list(args))
    return Outcome(result.exit_code, result.stdout, result.stderr, result.exception)


def audit(export: Path | str, out: Path, *extra: str, as_of: str = "2026-01-01") -> Outcome:
    return run("audit", str(export), "--as-of", as_of, "--out", str(out), *extra)
