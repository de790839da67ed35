"""Static PNG charts with matplotlib: stacked bars against dashed limit lines.

Charts are rendered here to PNG bytes (a bare ``Figure`` saved by the Agg renderer: no pyplot
state, no backend of the kernel involved), so the report embeds plain images that open on an offline laptop and render the same
in a kernel, a test and a browser. Their labels are policy numbers and table names only.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from privacy_audit.reporting.common.html import Chart

# A flagged bar lower than this share of the axis (a few pixels) is labelled with its count.
VISIBLE_SHARE = 0.03
SEVERITY_COLOURS = {"critical": "#7f0000", "high": "#c62828", "medium": "#ffb74d", "low": "#90a4ae"}


@dataclass(frozen=True)
class Panel:
    """One stacked-bar panel: ``counts`` has columns x (bucket start), category, n."""

    title: str
    xlabel: str
    counts: pd.DataFrame
    width: float
    categories: Sequence[tuple[str, str]]  # (category, colour), bottom to top
    limits: Sequence[tuple[float, str]] = ()  # (x, label) drawn as dashed lines
    note: str = ""
    # Categories that must never vanish beside large ones (records past their limit): the
    # title gives their totals, and a bar of theirs too low to see is labelled with its count.
    flagged: Sequence[str] = ()

    def totals(self) -> dict[str, int]:
        """Flagged category -> its records (those with any), in the panel's category order."""
        n = self.counts.groupby("category")["n"].sum() if not self.counts.empty else {}
        return {c: int(n[c]) for c, _ in self.categories if c in self.flagged and c in n and n[c]}

    def headline(self) -> str:
        """The title with the flagged totals: "Orders · 6 past its limit"."""
        return " · ".join([self.title, *(f"{n:,} {c}" for c, n in self.totals().items())])


def _png(fig: Figure) -> bytes:
    """The figure as PNG, its every word (titles, labels, legend) in the Description chunk:
    what the leak scan reads of an image."""
    words = "\n".join(t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip())
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None, "Description": words})
    return buf.getvalue()


def _draw(ax: Axes, panel: Panel) -> None:
    ax.set_title(panel.headline(), loc="left", fontsize=11)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel("records")
    if panel.counts.empty:
        ax.text(0.5, 0.5, "no records", ha="center", va="center", transform=ax.transAxes, color="#616161")
        ax.set_yticks([])
    else:
        wide = panel.counts.pivot_table(
            index="x", columns="category", values="n", aggfunc="sum", fill_value=0
        )
        bottom = pd.Series(0, index=wide.index)
        flagged = []
        for category, colour in panel.categories:
            if category in wide:
                values = wide[category]
                ax.bar(
                    wide.index, values, panel.width, bottom=bottom, align="edge", color=colour, label=category
                )
                bottom = bottom + values
                if category in panel.flagged:
                    flagged.append((values, colour))
        ax.legend(loc="lower right", bbox_to_anchor=(1, 1), fontsize=8, frameon=False, ncols=4)
        top = float(bottom.max())
        low = [
            (x, n, colour)
            for values, colour in flagged
            for x, n in values.items()
            if 0 < n < top * VISIBLE_SHARE
        ]
        ax.set_ylim(0, top * (1.25 if low else 1.08))  # headroom above the tallest bar (and labels)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        for x, n, colour in low:
            ax.annotate(f"{n:,}", (x + panel.width / 2, bottom[x]), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", rotation=90, fontsize=7, fontweight="bold", color=colour)  # fmt: skip
    for x, label in panel.limits:
        ax.axvline(x, color="#263238", linestyle="--", linewidth=1.2)
        ax.annotate(label, (x, 1), xycoords=("data", "axes fraction"), xytext=(3, -3), textcoords="offset points",
                    va="top", fontsize=8, rotation=90, color="#263238")  # fmt: skip
    ax.set_xlim(left=0)  # after the limit lines, so that autoscaling keeps every line in view
    if panel.note:
        ax.text(0, -0.32, panel.note, transform=ax.transAxes, fontsize=8, color="#616161")
    ax.spines[["top", "right"]].set_visible(False)


def panels_figure(panels: Sequence[Panel]) -> Figure:
    """One figure with a panel per row (a table each, say)."""
    fig = Figure(figsize=(9, 3.2 * len(panels)), layout="constrained")
    for ax, panel in zip(fig.subplots(len(panels), 1, squeeze=False)[:, 0], panels, strict=True):
        _draw(ax, panel)
    return fig


def stacked_panels(panels: Sequence[Panel], alt: str) -> Chart:
    """``panels_figure`` as a PNG chart; the alt text ends with every panel's flagged totals."""
    said = [p.headline() for p in panels if p.totals()]
    return Chart(_png(panels_figure(panels)), alt + (f" {'; '.join(said)}." if said else ""))


def severity_over_time(runs: Sequence[tuple[str, dict[str, int]]], alt: str) -> Chart:
    """Findings per severity for each run (as_of label → counts), stacked, oldest first."""
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax = fig.subplots()
    labels = [label for label, _ in runs]
    bottom = [0] * len(runs)
    for severity, colour in SEVERITY_COLOURS.items():
        values = [counts.get(severity, 0) for _, counts in runs]
        ax.bar(labels, values, 0.6, bottom=bottom, color=colour, label=severity)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title("Findings by severity, run by run", loc="left", fontsize=11)
    ax.set_xlabel("audit date (as_of)")
    ax.set_ylabel("findings")
    ax.legend(loc="lower right", bbox_to_anchor=(1, 1), fontsize=8, frameon=False, ncols=4)
    ax.spines[["top", "right"]].set_visible(False)
    return Chart(_png(fig), alt)
