"""Executed notebook → one self-contained, sanitized HTML file, and the check that proves it.

nbconvert's ``lab`` template fetches require.js, MathJax and (for widgets and mermaid) more
scripts from CDNs; the template below removes every one of them, allows images only as data
URIs from the notebook's own outputs, and adds a Content-Security-Policy that blocks scripts
and network fetches even if something slipped through. nbconvert's ``sanitize_html`` switch
escapes headings, paragraphs and the ``<tbody>`` html5lib inserts (they are not on its
allow-list), so the runner configures nbconvert's SanitizeHTML preprocessor (bleach, the
CVE-2021-32862 fix) with a report's allow-list instead: no script, no style attribute, no
event handler, no link leaving the page. ``check_self_contained`` then re-reads the HTML.
"""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbconvert.preprocessors.sanitize import SanitizeHTML

from privacy_audit.reporting.common.html import CSS

CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_TEMPLATE_NAME = "privacy-audit-report.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<meta http-equiv="Content-Security-Policy" content="{{ resources.csp }}">
<style type="text/css">{{ resources.report_css }}</style>
{%- endblock extra_css -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ output.metadata.get('image/png', {}).get('alt', 'chart') | escape_html }}">
</div>
{%- endblock data_png -%}
"""
# A link to a CSV published in a subfolder beside the report (evidence/RULE-ID.csv): no scheme,
# no host, no way up; anything else a link may point to is an anchor of the page itself.
LOCAL_FILE = re.compile(r"[a-z]+/[A-Za-z0-9-]+\.csv")
ALLOWED_TAGS = sorted(
    {"a", "abbr", "b", "blockquote", "br", "caption", "code", "div", "em", "h1", "h2", "h3", "h4", "hr"}
    | {"i", "li", "ol", "p", "pre", "small", "span", "strong", "sub", "sup", "table", "tbody", "td"}
    | {"tfoot", "th", "thead", "tr", "ul", "details", "summary"}
)


def allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Bleach's attribute filter: classes and titles, table spans, links within the page or to a
    CSV published beside it."""
    if name in ("class", "title", "id"):  # ids: the anchors of the report's table of contents
        return True
    if tag in ("td", "th") and name in ("colspan", "rowspan"):
        return True
    return tag == "a" and name == "href" and _in_report(value)


def _in_report(href: str) -> bool:
    return href.startswith("#") or LOCAL_FILE.fullmatch(href) is not None


# Output kinds kept in the HTML: text/html is sanitized, the others are escaped or inert.
_KEPT = {"metadata", "text/plain", "image/png"}
_FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "frame",
    "object",
    "embed",
    "link",
    "base",
    "form",
    "svg",
    "math",
    "video",
    "audio",
    "source",
}
_URL_ATTRIBUTES = {
    "src",
    "href",
    "srcset",
    "action",
    "formaction",
    "poster",
    "background",
    "xlink:href",
    "data",
}


def to_html(nb: nbformat.NotebookNode, title: str) -> str:
    """Render an executed notebook without inputs, prompts or stream output, sanitized."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.outputs = [
            o for o in cell.get("outputs", []) if o.output_type in ("display_data", "execute_result")
        ]
    sanitizer = SanitizeHTML(
        tags=ALLOWED_TAGS,
        attributes=allowed_attribute,
        safe_output_keys=_KEPT,
        sanitized_output_types={"text/html"},
        strip=False,
    )
    nb, _ = sanitizer.preprocess(nb, {})
    exporter = HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
    )
    resources = {"metadata": {"name": title}, "csp": CONTENT_SECURITY_POLICY, "report_css": CSS}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        if tag in _FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element")
        if tag == "meta" and any(k == "http-equiv" and (v or "").lower() == "refresh" for k, v in attrs):
            self.problems.append("meta refresh")
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
            elif name == "style":
                self._css(value)
            elif name in _URL_ATTRIBUTES and not _local(tag, name, value):
                self.problems.append(f"{name}={value[:40]!r} on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css(data)

    def _css(self, css: str) -> None:
        lowered = css.lower()
        if "@import" in lowered:
            self.problems.append("CSS @import")
        for part in lowered.split("url(")[1:]:
            if not part.lstrip(" '\"").startswith("data:"):
                self.problems.append(f"CSS url({part[:40]}")


def _local(tag: str, name: str, value: str) -> bool:
    if name == "src":
        return tag == "img" and value.startswith("data:image/png;base64,")
    return name == "href" and _in_report(value)


def check_self_contained(html: str) -> list[str]:
    """What in ``html`` could run code or reach a network (an empty list: nothing)."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems
