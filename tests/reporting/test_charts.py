"""Charts: a few records past their limit never vanish beside thousands in time."""

from __future__ import annotations

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg

from privacy_audit.reporting.common.charts import Panel, panels_figure, stacked_panels

WITHIN, PAST = "within its limit", "past its limit"


def _panel() -> Panel:
    rows = [(x / 4, WITHIN, 5000) for x in range(20)] + [(7.0, PAST, 6), (7.25, PAST, 1), (8.0, PAST, 900)]
    counts = pd.DataFrame(rows, columns=["x", "category", "n"])
    return Panel(
        "Orders", "age (years)", counts, 0.25, [(WITHIN, "#5c8fc7"), (PAST, "#c62828")], flagged=[PAST]
    )


def test_every_overdue_bar_is_tall_enough_to_see_or_carries_its_count() -> None:
    fig = panels_figure([_panel()])
    FigureCanvasAgg(fig).draw()  # lay out, so that bars have pixel sizes
    (ax,) = fig.axes
    (past,) = [c for c in ax.containers if c.get_label() == PAST]
    labels = {(round(t.xy[0], 3), t.get_text()) for t in ax.texts}
    shown = {}
    for bar, n in zip(past.patches, past.datavalues, strict=True):
        if n:
            tall = bar.get_window_extent().height >= 3
            labelled = (round(bar.get_x() + bar.get_width() / 2, 3), f"{n:,.0f}") in labels
            shown[bar.get_x()] = "tall" if tall else "labelled" if labelled else "invisible"
    assert shown == {7.0: "labelled", 7.25: "labelled", 8.0: "tall"}
    assert ax.get_title(loc="left") == "Orders · 907 past its limit"


def test_the_alt_text_says_how_many_are_past_their_limit() -> None:
    chart = stacked_panels([_panel()], "Stacked bars of orders by age.")
    assert chart.alt == "Stacked bars of orders by age. Orders · 907 past its limit."
