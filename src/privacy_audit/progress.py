"""What the CLI shows on a terminal: the audit's progress and summary, and the rule catalogue.

On a terminal the audit shows a transient progress bar naming the rule running, then the one
table of results: each rule appears once. Off a terminal (cron, CI, papermill) the progress is
plain lines on stderr, one per rule as it finishes, for the log. Tables fit the terminal by
dropping less important columns and wrapping text, never by cutting a rule id.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from privacy_audit.audit import AuditResult, RuleResult
from privacy_audit.policy import Policy
from privacy_audit.rules import REGISTRY, Rule, Status
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
        if not self.live:  # on a terminal the summary table is the one listing
            line = (
                f"{rule.id:<30} {result.status:<8} {result.violations:>9} of {result.checked:>10} "
                f"{result.seconds:8.2f}s"
            )
            print(line, file=self.console.file, flush=True)


# Below these widths a table drops its less important columns (a rule id is never cut).
WIDE = 100
CATALOGUE_WIDE = 120
_ID_WIDTH = max(len(rule_id) for rule_id in REGISTRY)


def _table(title: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("rule", no_wrap=True, min_width=_ID_WIDTH)
    return table


def print_summary(result: AuditResult, out_dir: Path, console: Console) -> None:
    """A table of every rule's status and counts, the totals by status, and where they went."""
    wide = console.width >= WIDE
    table = _table(f"privacy audit as of {result.as_of}")
    columns = [("sev", "left"), *([("§", "left")] if wide else []), ("status", "left")]
    columns += [("violations", "right"), ("checked", "right"), *([("seconds", "right")] if wide else [])]
    for column, justify in columns:
        table.add_column(column, justify=justify, no_wrap=column != "status")  # type: ignore[arg-type]
    for r in result.results:
        status = r.status if not r.reason else f"{r.status}: {r.reason}"
        table.add_row(
            r.rule.id,
            r.rule.severity.value,
            *([r.rule.clause] if wide else []),
            show(status, _STYLE[r.status]),
            f"{r.violations:,}",
            f"{r.checked:,}",
            *([f"{r.seconds:.2f}"] if wide else []),
        )
    console.print(table)
    counts = {s: sum(r.status == s for r in result.results) for s in Status}
    waived = sum(c.waived for c in result.lifecycle.counts.values())
    console.print(
        f"{counts[Status.passed]} passed · {counts[Status.failed]} failed · {counts[Status.skipped]} skipped · "
        f"{counts[Status.error]} errors · {sum(r.violations for r in result.results):,} findings ({waived:,} waived), "
        f"written to {out_dir}",
        highlight=False,
        soft_wrap=True,
    )


def print_rules(rules: Iterable[Rule], policy: Policy, console: Console) -> None:
    """The rule catalogue: id, severity, clauses and the first sentence of what each checks.

    A wide terminal gets a table with the record id; a narrow one gets each rule's line with its
    description wrapped beneath it, as a 12-character table column would take 600 lines.
    """
    rules = list(rules)
    if console.width >= CATALOGUE_WIDE:
        table = _table(f"{len(rules)} rules")
        for column in ("severity", "§", "record id", "what it checks"):
            table.add_column(column, no_wrap=column != "what it checks")
        for rule in rules:
            table.add_row(rule.id, rule.severity.value, rule.clause, rule.key, _first_sentence(rule, policy))
        console.print(table)
        return
    console.print(f"{len(rules)} rules", style="italic", highlight=False)
    for rule in rules:
        console.print()
        console.print(
            f"[bold]{rule.id}[/]  {rule.severity.value}  § {rule.clause}  record: {rule.key}",
            highlight=False,
            soft_wrap=True,
        )
        console.print(_first_sentence(rule, policy), highlight=False)


def _first_sentence(rule: Rule, policy: Policy) -> str:
    return " ".join(rule.docs(policy).what.split()).split(". ")[0]
