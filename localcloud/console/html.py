"""The console's page frame and the small pieces every page is made of.

Pages are built from :class:`markupsafe.Markup`: every value interpolated with :func:`html` (or ``Markup.format``) is
escaped unless it already is markup, so text that comes from messages (bodies, types, failure reasons, log lines)
can never become markup.

Example:
    >>> str(html("<td>{}</td>", "<script>alert(1)</script>"))
    '<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>'
    >>> age(3725.0)
    '1 h 2 min'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import LiteralString
from urllib.parse import quote

from markupsafe import Markup, escape

CONSOLE = "/_console"
"""The console's path prefix on the local cloud's endpoint."""

_STYLE = Markup("""
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#232f3e;color:#fff;padding:8px 16px;display:flex;gap:18px;align-items:center}
header a{color:#fff;text-decoration:none}header b{margin-right:12px}
main{padding:12px 18px}h1{font-size:20px;margin:8px 0 12px}h2{font-size:17px;margin:18px 0 8px}
h3{font-size:15px;margin:12px 0 6px}
table{border-collapse:collapse;background:#fff;margin:4px 0 12px}
th,td{border:1px solid #d5dbe1;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,monospace;font-size:12px}pre{white-space:pre-wrap;word-break:break-all;margin:0}
.bad{color:#b3261e;font-weight:600}.ok{color:#1e7d32}.muted{color:#69707d}
.card{background:#fff;border:1px solid #d5dbe1;border-radius:4px;padding:8px 12px;margin:8px 0}
.grid{display:grid;grid-template-columns:repeat(24,1fr);gap:8px}
.widget{background:#fff;border:1px solid #d5dbe1;border-radius:4px;padding:6px 8px;min-width:0}
.widget h3{margin:0 0 4px;font-size:13px}.widget h2{margin:2px 0}.big{font-size:30px;font-weight:600}
.state-ALARM{color:#b3261e;font-weight:600}.state-OK{color:#1e7d32}.state-INSUFFICIENT_DATA{color:#69707d}
form.inline{display:inline}button{cursor:pointer}
""")


def html(template: LiteralString, *values: object) -> Markup:
    """``template`` (a literal of this package: the type checker refuses any other string) with ``values`` escaped
    into its ``{}`` fields."""
    return Markup(template).format(*values)  # noqa: S704 - a literal template; the values are escaped


def join(parts: Iterable[object], separator: LiteralString = "") -> Markup:
    """Escaped parts (markup stays markup) joined by ``separator`` (a literal)."""
    return Markup(separator).join(escape(part) for part in parts)  # noqa: S704 - a literal separator


def link(path: str, text: object) -> Markup:
    """A link to the console page ``path`` (each path segment quoted)."""
    return html('<a href="{}">{}</a>', CONSOLE + path, text)


def queue_link(name: str) -> Markup:
    return link(f"/queues/{quote(name, safe='')}", name)


def message_link(message_id: str, text: object | None = None) -> Markup:
    return link(f"/messages/{quote(message_id, safe='')}", message_id if text is None else text)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, numeric: Iterable[int] = ()) -> Markup:
    """A table; cells are escaped unless markup; the columns in ``numeric`` are right-aligned."""
    right = set(numeric)
    head = join(html("<th>{}</th>", h) for h in headers)
    body = join(
        html("<tr>{}</tr>", join(html('<td class="n">{}</td>' if i in right else "<td>{}</td>", cell)
                                 for i, cell in enumerate(row)))
        for row in rows
    )
    return html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def age(seconds: float | None) -> str:
    """A duration for people: ``42 s``, ``3 min 5 s``, ``2 h 1 min`` (``-`` when unknown)."""
    if seconds is None:
        return "-"
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def page(title: str, body: Markup) -> str:
    """The full document: the console's navigation, the title and ``body``."""
    nav = join(link(path, text) for path, text in (("/", "Topology"), ("/dashboard", "Dashboard"),
                                                    ("/catalogue", "Catalogue")))
    search = html('<form class="inline" method="get" action="{}/messages">'
                  '<input name="id" size="38" placeholder="message id or correlation id" aria-label="message id">'
                  ' <button>Journey</button></form>', CONSOLE)
    return str(html('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{} - local cloud</title>'
                    "<style>{}</style></head><body><header><b>Local cloud console</b>{}{}</header>"
                    "<main><h1>{}</h1>{}</main></body></html>", title, _STYLE, nav, search, title, body))


def error_page(title: str, reason: str) -> str:
    """A page that says what went wrong in one line."""
    return page(title, html('<p class="bad">{}</p><p>{}</p>', reason, link("/", "Back to the topology")))
