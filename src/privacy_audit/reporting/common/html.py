"""Escaped HTML fragments, and the Section object a report cell displays.

Every string that reaches a report may come from the export, the policy file or a CSV header,
so every builder here escapes its text; only the tags written in this module reach the page.
A Section displays as plain ``text/html`` and ``image/png`` outputs, the two output kinds the
runner keeps, so the HTML needs no script to show it.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from privacy_audit.outputs.findings import SEVERITIES

QUOTE_CLASS = "pa-quoted"
"""Marks an element whose whole text quotes a known text word for word (the policy text, a rule
description): the leak scan checks the words against that text and only then reads them as ours."""

# Styling for the classes below; the runner puts it in the report's <head> (inline attributes
# would be stripped by the sanitizer, which allows no style attribute).
CSS = """
.pa-section { max-width: 60rem; }
.jp-RenderedHTMLCommon .pa-section table th, .jp-RenderedHTMLCommon .pa-section table td { text-align: left; }
.jp-RenderedHTMLCommon .pa-section table .pa-num { text-align: right; }
.pa-verdict { font-size: 1.6rem; font-weight: 700; padding: .5rem .8rem; border-radius: 4px; }
.pa-good { color: #1b5e20; background: #e8f5e9; }
.pa-bad { color: #b71c1c; background: #ffebee; }
.pa-warn { color: #8a4b00; background: #fff3e0; }
.pa-muted { color: #616161; }
.pa-num { font-variant-numeric: tabular-nums; }
.pa-tiles { display: flex; flex-wrap: wrap; gap: .6rem; margin: .6rem 0; }
.pa-tile { border: 1px solid #ddd; border-radius: 4px; padding: .4rem .8rem; min-width: 7rem; }
.pa-tile strong { display: block; font-size: 1.4rem; }
.pa-quote { border-left: 4px solid #90a4ae; margin: .4rem 0; padding: .2rem .8rem; color: #37474f; }
.pa-rule { border-top: 1px solid #ccc; margin-top: 1.2rem; padding-top: .4rem; }
.pa-sev-critical { color: #fff; background: #7f0000; padding: 0 .4rem; border-radius: 3px; }
.pa-sev-high { color: #fff; background: #c62828; padding: 0 .4rem; border-radius: 3px; }
.pa-sev-medium { color: #000; background: #ffb74d; padding: 0 .4rem; border-radius: 3px; }
.pa-sev-low { color: #000; background: #cfd8dc; padding: 0 .4rem; border-radius: 3px; }
.jp-RenderedHTMLCommon .pa-section table tr.pa-expiring td { background: #fff3e0; }
.pa-scroll { overflow-x: auto; max-width: 100%; }
@media (max-width: 600px) { .pa-scroll td:not(.pa-num), .pa-scroll th:not(.pa-num) { min-width: 7rem; } }
.pa-section img { max-width: 100%; height: auto; }
.pa-toc { columns: 2; }
@media (max-width: 480px) { .pa-toc { columns: 1; } .pa-verdict { font-size: 1.2rem; } }
.pa-mono { font-family: var(--jp-code-font-family, monospace); word-break: break-all; }
.pa-nowrap { white-space: nowrap; }
"""


def esc(value: object) -> str:
    """Text as HTML: every ``<``, ``>``, ``&`` and quote escaped; None as an empty string.

    A ``Markup`` value (built by this module's ``quoted``, say) is HTML already: kept as it is."""
    if isinstance(value, Markup):
        return str(value)
    return "" if value is None else html.escape(str(value), quote=True)


def quoted(text: str) -> Markup:
    """``text``, escaped, as a span the leak scan checks against the texts the report quotes."""
    return Markup(tag("span", esc(text), QUOTE_CLASS))


def tag(name: str, content: str, cls: str | None = None) -> str:
    """``<name class=…>content</name>``; ``content`` must already be escaped HTML."""
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<{name}{attr}>{content}</{name}>"


def with_code(text: str) -> str:
    """Escape ``text``, then show its `backticked` parts as code (rule documentation style)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(" ".join(text.split())))


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    numeric: Sequence[int] = (),
    text_class: str | None = None,
    row_classes: Sequence[str | None] = (),
) -> str:
    """A table of escaped cells, in its ``scroll_box``; ``numeric`` columns align right, others
    get ``text_class``.

    ``row_classes`` gives row i the class ``row_classes[i]`` (a highlight), when there is one.
    """

    def cell(name: str, i: int, value: object) -> str:
        return tag(name, esc(value), "pa-num" if i in numeric else text_class if name == "td" else None)

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join(
        tag(
            "tr",
            "".join(cell("td", i, v) for i, v in enumerate(row)),
            row_classes[n] if n < len(row_classes) else None,
        )
        for n, row in enumerate(rows)
    )
    return scroll_box(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def scroll_box(table_html: str) -> str:
    """A table in its own box that scrolls sideways when the table is wider than the screen:
    the page itself never scrolls sideways, and no column is cut off."""
    return tag("div", table_html, "pa-scroll")


def tiles(items: Sequence[tuple[str, object]]) -> str:
    """Big numbers with a label under each; labels are HTML (like ``tag`` content), values are escaped."""
    return tag(
        "div",
        "".join(tag("div", f"<strong>{esc(v)}</strong>{label}", "pa-tile") for label, v in items),
        "pa-tiles",
    )


def severity_badge(severity: str) -> str:
    """A coloured severity label (an unknown severity is shown plain)."""
    return tag("span", esc(severity), f"pa-sev-{severity}" if severity in SEVERITIES else None)


@dataclass(frozen=True)
class Chart:
    """A rendered chart: PNG bytes and the words a screen reader says instead."""

    png: bytes
    alt: str


@dataclass
class Section:
    """One part of a report: escaped HTML fragments and charts, in display order."""

    parts: list[str | Chart] = field(default_factory=list)

    def add(self, part: str | Chart) -> Section:
        self.parts.append(part)
        return self

    @property
    def html(self) -> str:
        """The HTML fragments joined (charts left out): what tests read."""
        return "".join(p for p in self.parts if isinstance(p, str))

    @property
    def charts(self) -> list[Chart]:
        return [p for p in self.parts if isinstance(p, Chart)]

    def _ipython_display_(self) -> None:
        """Publish raw ``text/html`` and ``image/png`` outputs, nothing else (no text repr)."""
        from IPython.display import display

        for part in self.parts:
            if isinstance(part, Chart):
                data = {"image/png": base64.b64encode(part.png).decode("ascii"), "text/plain": part.alt}
                display(data, metadata={"image/png": {"alt": part.alt}}, raw=True)
            else:
                display({"text/html": f'<div class="pa-section">{part}</div>'}, raw=True)
