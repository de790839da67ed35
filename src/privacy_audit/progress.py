"""What the audit shows on a terminal: a progress bar per rule, then a one-screen summary.

Off a terminal (cron, CI, papermill) the same information comes as plain lines, one per rule.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from privacy_audit.audit import AuditResult, RuleResult
from privacy_audit.rules import Rule, Status
from privacy_audit.terminal import show

_STYLE = {Status.passed: "green", Status.failed: "red", Status.skipped: "yellow", Status.error: "bold red"}


def progress_bar(console: Console) -> Progress:
    """The project's one progress-bar look (audit rules, generator chunks)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


class RuleProgress:
    """A context manager whose ``update`` is the audit's progress callback."""

    def __init__(self, total: int, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.bar = progress_bar(console)
        self.task = self.bar.add_task("validating export", total=total)

    def __enter__(self) -> RuleProgress:
        if self.live:
            self.bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.live:
            self.bar.stop()

    def update(self, rule: Rule, result: RuleResult | None) -> None:
        if result is None:
            self.bar.update(self.task, description=rule.id)
            return
        self.bar.advance(self.task)
        line = (
            f"{rule.id:<30} {result.status:<8} {result.violations:>9} of {result.checked:>10} "
            f"{result.seconds:8.2f}s"
        )
        if self.live:
            self.bar.console.print(line, style=_STYLE[result.status], highlight=False)
        else:
            print(line, file=self.console.file, flush=True)


def print_summary(result: AuditResult, console: Console) -> None:
    """A table of every rule's status and counts, and the totals by severity."""
    table = Table(title=f"privacy audit as of {result.as_of}", title_justify="left")
    for column, justify in (
        ("rule", "left"),
        ("sev", "left"),
        ("§", "left"),
        ("status", "left"),
        ("violations", "right"),
        ("checked", "right"),
        ("seconds", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in result.results:
        status = r.status if not r.reason else f"{r.status}: {r.reason}"
        table.add_row(
            r.rule.id,
            r.rule.severity.value,
            r.rule.clause,
            show(status, _STYLE[r.status]),
            f"{r.violations:,}",
            f"{r.checked:,}",
            f"{r.seconds:.2f}",
        )
    console.print(table)
    counts = {s: sum(r.status == s for r in result.results) for s in Status}
    waived = sum(c.waived for c in result.lifecycle.counts.values())
    console.print(
        f"{counts[Status.passed]} passed · {counts[Status.failed]} failed · {counts[Status.skipped]} skipped · "
        f"{counts[Status.error]} errors · {result.findings().num_rows:,} findings ({waived:,} waived)",
        highlight=False,
    )
