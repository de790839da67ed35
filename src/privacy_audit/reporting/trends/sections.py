"""The anonymized trend report for the analytics team: one function per notebook section.

``prepare`` builds, verifies, scans and writes ``trends.parquet``; every other function reads
only that verified publication, never the export, so the HTML cannot show a number that the
publication does not. Nothing here adds published cells across periods into a new figure
(a sum over the months where a cell happens to be shown compares unlike periods): tables show
each period's cells as published. The one derived figure is a chart's grey remainder, a
period's published total minus its published bars, which anyone holding the publication can
compute. Rankings use published values only, so a hidden cell's rank is never revealed. A
period cut by the report's period is starred and explained; a period whose cells are all
hidden is drawn as a hatched band, never dropped.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from privacy_audit import __version__
from privacy_audit.reporting.common.html import Chart, Section, esc, table, tag, tiles
from privacy_audit.reporting.common.notebook_defaults import MEMORY_LIMIT
from privacy_audit.reporting.trends.aggregates import ALL, COLLECTIONS, FUNNEL, FUNNEL_STEPS, PARTNERS, SALES
from privacy_audit.reporting.trends.disclosure import ROLLED_UP
from privacy_audit.reporting.trends.periods import Period, periods
from privacy_audit.reporting.trends.publish import TrendPublication, parameters, publish_trends

HIDDEN = "—"
HIDDEN_COLOUR = "#cfd8dc"
NOWRAP = "pa-nowrap"  # a period such as 2025-11 is never broken at its hyphen
HIDDEN_REGIONS = "not shown (hidden regions)"
HIDDEN_PARTNERS = "not shown (hidden split)"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def prepare(
    export_dir: str,
    period_start: str,
    period_end: str,
    k: int = 10,
    out_dir: str = "",
    policy: str = "",
    policy_text: str = "",
    leak_values: str = "",
    memory_limit: str = MEMORY_LIMIT,
) -> TrendPublication:
    """Validate the parameters, then build, verify, scan and write the publication."""
    params = parameters(
        export_dir=export_dir,
        period_start=period_start,
        period_end=period_end,
        k=k,
        out_dir=out_dir,
        policy=policy,
        policy_text=policy_text,
        leak_values=leak_values,
        memory_limit=memory_limit,
    )
    return publish_trends(params)


def _cells(pub: TrendPublication, breakdown: str) -> pd.DataFrame:
    frame = pub.table.to_pandas()
    return frame[frame["breakdown"] == breakdown]


def _chart(fig: Figure, alt: str) -> Chart:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return Chart(buffer.getvalue(), alt)


def _figure(height: float = 3.4) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(9, height), layout="constrained")
    ax = fig.subplots()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _number(value: float | None, decimals: int = 0) -> str:
    return HIDDEN if value is None or pd.isna(value) else f"{value:,.{decimals}f}"


def _decimals(measure: str) -> int:
    return 2 if measure.startswith("revenue") else 0


def _grid(cells: pd.DataFrame, index: str, columns: str, order: Sequence[str]) -> list[tuple[str, ...]]:
    """Rows of display text: a published value, a dash when hidden, 0 when no such cell exists
    (nothing happened there, which the publication says too by having no row for it)."""
    shown = [
        _number(v, _decimals(m)) if status == "published" else HIDDEN
        for v, m, status in zip(cells["value"], cells["measure"], cells["status"], strict=True)
    ]
    wide = cells.assign(shown=shown).pivot_table(
        index=index, columns=columns, values="shown", aggfunc="first"
    )
    wide = wide.reindex(columns=list(order)).astype(object).fillna("0")
    return [(str(i), *row) for i, row in zip(wide.index, wide.itertuples(index=False), strict=True)]


def _published(cells: pd.DataFrame, index: str, columns: str) -> pd.DataFrame:
    """Published values as a grid for charts: hidden and missing cells count as 0."""
    shown = cells[cells["status"] == "published"]
    return shown.pivot_table(index=index, columns=columns, values="value", aggfunc="sum").fillna(0.0)


def disclosure(pub: TrendPublication) -> Section:
    """How many cells were published, suppressed or rolled up, and under which promises."""
    c, p = pub.counts, pub.parameters
    return Section().add(
        tag("h2", "Anonymized trends")
        + tag(
            "p",
            esc(
                f"Period {p.period_start} to {p.period_end}. Every published cell aggregates at least "
                f"k = {p.k} distinct partner accounts (web sessions for the funnel); no revenue cell is "
                "dominated by one partner; no hidden cell can be recomputed or narrowed from what is "
                "published (checked independently before anything was written)."
            ),
        )
        + tiles(
            [
                ("cells published", c["published"]),
                ("cells suppressed", c["suppressed"]),
                ("cells rolled up", c["rolled_up"]),
                ("roll-up groups published", c["rollup_groups"]),
            ]
        )
        + table(
            ["why a cell is suppressed", "cells"],
            [
                ("fewer than k contributors", c["suppressed_below_k"]),
                ("one partner dominates its revenue", c["suppressed_dominance"]),
                ("secondary: protects another hidden cell", c["suppressed_secondary"]),
            ],
            numeric=[1],
        )
        + tag(
            "p",
            esc(
                "Rolled-up cells are too small to show alone; their sum is published as "
                "“Other (rolled up)” or inside the breakdown's ALL total. A dash (—) marks a hidden value."
            ),
            "pa-muted",
        )
    )


def _periods(pub: TrendPublication, kind: str) -> list[Period]:
    return periods(kind, pub.parameters.period_start, pub.parameters.period_end)


def _relabel(rows: list[tuple[str, ...]], names: Sequence[Period]) -> list[tuple[str, ...]]:
    """Rows keyed by period name, keyed by the period's label instead (partial periods say so)."""
    labels = {p.name: p.label for p in names}
    return [(labels.get(row[0], row[0]), *row[1:]) for row in rows]


def _partial_note(names: Sequence[Period]) -> str:
    cut = [p for p in names if p.partial]
    if not cut:
        return ""
    return tag(
        "p",
        esc(
            "* Partial period, cut by the report's period (its figures cover fewer days than the "
            "others): " + "; ".join(f"{p.name} covers {p.covered_from} to {p.covered_to}" for p in cut) + "."
        ),
        "pa-muted",
    )


def _axis(ax: Axes, names: Sequence[Period], hidden: Sequence[str]) -> str:
    """Period ticks (a partial one starred), and a hatched band marking each hidden period;
    returns what the chart's alt text adds about them (a screen reader sees no hatching)."""
    ax.set_xticks(range(len(names)), [p.label for p in names])
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    for position, period in enumerate(names):
        if period.name in hidden:
            ax.axvspan(
                position - 0.35, position + 0.35, facecolor="none", edgecolor=HIDDEN_COLOUR, hatch="//"
            )
            ax.text(
                position,
                0.02,
                "hidden",
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=8,
                color="#546e7a",
                transform=ax.get_xaxis_transform(),
            )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    marked = [p.name for p in names if p.name in hidden]
    return f"; hidden (hatched): {', '.join(marked)}" if marked else ""


def _hidden_periods(totals: pd.DataFrame) -> list[str]:
    """Periods whose every cell among ``totals`` (the chart's own cells) is hidden."""
    shown = totals.groupby("period")["status"].apply(lambda s: (s == "published").any())
    return sorted(shown.index[~shown])


def _stacked(ax: Axes, frame: pd.DataFrame, colours: Sequence[str]) -> None:
    bottom = pd.Series(0.0, index=frame.index)
    for column, colour in zip(frame.columns, colours, strict=True):
        ax.bar(range(len(frame)), frame[column], 0.7, bottom=bottom, color=colour, label=column)
        bottom = bottom + frame[column]


def _colours(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def _measures(cells: pd.DataFrame, first: Sequence[str]) -> list[str]:
    """The counts first, then ``revenue`` when the period has one currency (several currencies
    get their own section: a column per currency would not fit a page)."""
    present = set(cells["measure"])
    return [m for m in first if m in present] + (["revenue"] if "revenue" in present else [])


def _currencies(cells: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Revenue measures with a published cell among ``cells``, and the currencies without one."""
    revenue = cells[cells["measure"].str.startswith("revenue")]
    shown = set(revenue.loc[revenue["status"] == "published", "measure"])
    measures = sorted(set(revenue["measure"]))
    return [m for m in measures if m in shown], [_currency(m) for m in measures if m not in shown]


def _currency(measure: str) -> str:
    return measure.removeprefix("revenue").removeprefix("_").upper()


def sales(pub: TrendPublication) -> Section:
    """Orders per month by partner region, and each month's orders, units and revenue."""
    cells = _cells(pub, SALES.name)
    section = Section().add(tag("h2", "Orders, units and revenue by month"))
    if cells.empty:
        return section.add(tag("p", "No orders in the period.", "pa-muted"))
    months = _periods(pub, "month")
    names = [p.name for p in months]
    by_region = cells[(cells["measure"] == "orders") & (cells["dim1_value"] == ALL)]
    orders = _published(by_region, "period", "dim2_value").reindex(index=names, fill_value=0.0)
    total = orders.pop(ALL) if ALL in orders else pd.Series(0.0, index=orders.index)
    orders = orders[sorted(c for c in orders.columns if orders[c].sum() > 0)]
    colours = [*_colours(len(orders.columns)), HIDDEN_COLOUR]
    orders[HIDDEN_REGIONS] = (total - orders.sum(axis=1)).clip(lower=0)
    with rc_context({"text.parse_math": False}):
        fig, ax = _figure()
        _stacked(ax, orders, colours)
        hidden = _axis(ax, months, _hidden_periods(by_region[by_region["dim2_value"] == ALL]))
        ax.set_title("Orders per month by partner region", loc="left", fontsize=11)
        ax.set_ylabel("orders")
        section.add(_chart(fig, "Stacked bars of orders per month by partner region" + hidden))
    grand = cells[(cells["dim1_value"] == ALL) & (cells["dim2_value"] == ALL)]
    currencies, unpublished = _currencies(grand)
    measures = [*_measures(grand, ["orders", "units"]), *(m for m in currencies if m != "revenue")]
    header = [m if m in ("orders", "units", "revenue") else f"revenue {_currency(m)}" for m in measures]
    rows = _relabel(_grid(grand, "period", "measure", measures), months)
    section.add(table(["month", *header], rows, numeric=list(range(1, len(measures) + 1)), text_class=NOWRAP))
    if unpublished:
        section.add(
            tag(
                "p",
                esc(f"No month's revenue is published in {', '.join(unpublished)}: too few partners."),
                "pa-muted",
            )
        )
    return section.add(_partial_note(months))


def breakdown(pub: TrendPublication) -> Section:
    """The published month × product category × partner region cells: orders and units."""
    cells = _cells(pub, SALES.name)
    section = Section().add(tag("h2", "Orders and units by product category and partner region"))
    if cells.empty:
        return section.add(tag("p", "No orders in the period.", "pa-muted"))
    section.add(
        tag(
            "p",
            esc(
                "Each cell reads orders · units. Regions too small to show alone are rolled up into "
                "“Other (rolled up)”; ALL is the published total of its row or column."
            ),
            "pa-muted",
        )
    )
    counts = cells[cells["measure"].isin(["orders", "units"])]
    shown = [
        _number(v) if status == "published" else HIDDEN
        for v, status in zip(counts["value"], counts["status"], strict=True)
    ]
    counts = counts.assign(shown=shown)
    categories = [*sorted(set(counts["dim1_value"]) - {ALL}), ALL]
    for month in _periods(pub, "month"):
        cells_of = counts[counts["period"] == month.name]
        if cells_of.empty:
            continue
        wide = cells_of.pivot_table(
            index="dim2_value", columns=["dim1_value", "measure"], values="shown", aggfunc="first"
        )
        regions = [*sorted(set(wide.index) - {ALL}), ALL]
        rows = [
            (region, *(_pair(wide, region, category) for category in categories))
            for region in regions
            if region in wide.index
        ]
        section.add(
            tag("h3", esc(month.label))
            + table(["region", *categories], rows, numeric=list(range(1, len(categories) + 1)))
        )
    return section


def _pair(wide: pd.DataFrame, region: str, category: str) -> str:
    """One cell's ``orders · units``, hidden values dashed. An absent cell is 0 (nothing happened
    there), except in the roll-up row, where it means nothing had to be rolled up: left blank."""
    absent = "" if region == ROLLED_UP else "0"
    values = [wide.get((category, m), pd.Series(dtype=object)).get(region) for m in ("orders", "units")]
    return " · ".join(absent if v is None or pd.isna(v) else str(v) for v in values)


def revenue(pub: TrendPublication) -> Section:
    """Revenue per quarter in each currency (amounts in different currencies are never added)."""
    cells = _cells(pub, COLLECTIONS.name)
    grand = cells[(cells["dim1_value"] == ALL) & cells["measure"].str.startswith("revenue")]
    section = Section().add(tag("h2", "Revenue per quarter by currency"))
    if grand.empty:
        return section.add(tag("p", "No orders in the period.", "pa-muted"))
    quarters = _periods(pub, "quarter")
    names = [q.name for q in quarters if q.name in set(grand["period"])]
    rows = [
        (_currency(measure) or "all orders", *values)
        for measure, *values in _grid(grand, "measure", "period", names)
    ]
    labels = {q.name: q.label for q in quarters}
    return section.add(
        table(["currency", *(labels[n] for n in names)], rows, numeric=list(range(1, len(names) + 1)))
        + tag("p", "Line value (quantity × unit price) of orders neither cancelled nor deleted.", "pa-muted")
        + _partial_note(quarters)
    )


def collections(pub: TrendPublication, top: int = 5) -> Section:
    """Each quarter's leading collections by units, ranked among the published cells only."""
    cells = _cells(pub, COLLECTIONS.name)
    section = Section().add(tag("h2", f"Top {top} collections per quarter"))
    if cells.empty:
        return section.add(tag("p", "No orders in the period.", "pa-muted"))
    quarters = _periods(pub, "quarter")
    labels = {q.name: q.label for q in quarters}
    measures = _measures(cells, ["units"])
    inner = cells[cells["dim1_value"] != ALL]
    rows = []
    for quarter, quarter_cells in inner.groupby("period", sort=True):
        units = quarter_cells[
            (quarter_cells["measure"] == "units") & (quarter_cells["status"] == "published")
        ]
        leaders = units.sort_values(["value", "dim1_value"], ascending=[False, True])["dim1_value"].head(top)
        grid = dict((row[0], row[1:]) for row in _grid(quarter_cells, "dim1_value", "measure", measures))
        label = labels.get(str(quarter), str(quarter))
        rows += [(label, rank, name, *grid[name]) for rank, name in enumerate(leaders, start=1)]
        hidden = (quarter_cells["measure"] == "units") & (quarter_cells["status"] != "published")
        if hidden.any():
            rows.append(
                (label, "", f"{hidden.sum()} collections hidden (not ranked)", *[HIDDEN] * len(measures))
            )
    return section.add(
        table(
            ["quarter", "rank", "collection", *measures],
            rows,
            numeric=list(range(3, 3 + len(measures))),
            text_class=NOWRAP,
        )
        + _partial_note(quarters)
    )


def partners(pub: TrendPublication) -> Section:
    """New and returning ordering partners per month."""
    cells = _cells(pub, PARTNERS.name)
    section = Section().add(tag("h2", "New and returning partners"))
    if cells.empty:
        return section.add(tag("p", "No orders in the period.", "pa-muted"))
    months = _periods(pub, "month")
    wide = _published(cells, "period", "dim1_value").reindex(
        index=[m.name for m in months], columns=["new", "returning", ALL], fill_value=0.0
    )
    wide[HIDDEN_PARTNERS] = (wide.pop(ALL) - wide.sum(axis=1)).clip(lower=0)
    with rc_context({"text.parse_math": False}):
        fig, ax = _figure()
        _stacked(ax, wide, ["#2ca02c", "#1f77b4", HIDDEN_COLOUR])
        hidden = _axis(ax, months, _hidden_periods(cells[cells["dim1_value"] == ALL]))
        ax.set_title("Ordering partners per month", loc="left", fontsize=11)
        ax.set_ylabel("partners")
        section.add(_chart(fig, "Stacked bars of new and returning partners per month" + hidden))
    rows = _relabel(_grid(cells, "period", "dim1_value", ["new", "returning", ALL]), months)
    return section.add(
        table(["month", "new", "returning", "all partners"], rows, numeric=[1, 2, 3], text_class=NOWRAP)
        + _partial_note(months)
    )


def funnel(pub: TrendPublication) -> Section:
    """Web sessions reaching each funnel step per month, from sessions that consented to analytics."""
    cells = _cells(pub, FUNNEL.name)
    steps = list(FUNNEL_STEPS)
    section = Section().add(tag("h2", "Web funnel (sessions with analytics consent)"))
    if cells.empty:
        return section.add(tag("p", "No consented web sessions in the period.", "pa-muted"))
    months = _periods(pub, "month")
    everyone = cells[cells["dim1_value"] == ALL]
    shown = everyone[everyone["status"] == "published"]
    lines = shown.pivot_table(index="period", columns="dim2_value", values="value", aggfunc="sum")
    lines = lines.reindex(index=[m.name for m in months], columns=steps)
    with rc_context({"text.parse_math": False}):
        fig, ax = _figure()
        for step, colour in zip(steps, _colours(len(steps)), strict=True):
            ax.plot(range(len(months)), lines[step], marker="o", color=colour, label=step.replace("_", " "))
        hidden = _axis(ax, months, _hidden_periods(everyone))
        ax.set_title("Sessions reaching each step, all devices (gaps: hidden)", loc="left", fontsize=11)
        ax.set_ylabel("sessions")
        section.add(_chart(fig, "Lines of sessions per funnel step per month" + hidden))
    section.add(
        table(
            ["month", *steps],
            _relabel(_grid(everyone, "period", "dim2_value", steps), months),
            numeric=[1, 2, 3],
            text_class=NOWRAP,
        )
    )
    devices = cells[cells["dim1_value"] != ALL]
    rows = [
        (device, *row)
        for device in sorted(set(devices["dim1_value"]))
        for row in _relabel(
            _grid(devices[devices["dim1_value"] == device], "period", "dim2_value", steps), months
        )
    ]
    return section.add(
        tag("h3", "By device type and month")
        + tag(
            "p",
            esc(
                "Each month's published cells as they are: they are not added up over months, since "
                "a sum over the months where a cell happens to be shown would compare unlike periods."
            ),
            "pa-muted",
        )
        + table(
            ["device type", "month", *steps], rows, numeric=list(range(2, len(steps) + 2)), text_class=NOWRAP
        )
        + _partial_note(months)
    )


def manifest(pub: TrendPublication) -> Section:
    """What was published from what: the period, the promises' numbers, policy and input digests."""
    p, r = pub.parameters, pub.rules
    rows = [
        ("period", f"{p.period_start} to {p.period_end}"),
        ("k (least contributors behind a published cell)", r.k),
        ("dominance share (largest partner's most of a revenue cell)", r.dominance_share),
        ("protection (± of a hidden cell's value)", f"{r.protection_pct:g}%"),
        ("policy file", p.policy.name if p.policy else "default_policy.yaml"),
        ("policy digest (sha256)", pub.policy_digest),
        ("effective policy digest (sha256, defaults and file merged)", pub.policy_effective_digest),
        ("policy text", p.policy_text.name if p.policy_text else pub.text.source),
        ("policy text digest (sha256)", pub.text.digest),
        ("tool version", f"privacy-audit {__version__}"),
    ]
    return Section().add(
        tag("h2", "Run manifest")
        + table(["", ""], rows, text_class="pa-mono")
        + tag("h3", "Input files")
        + table(["file", "sha256"], list(pub.input_digests.items()), text_class="pa-mono")
    )
