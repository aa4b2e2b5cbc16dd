"""Reading the console's HTML as a person sees it: the visible text, the rows of its tables, its links."""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCKS = frozenset({"td", "th", "tr", "p", "div", "h1", "h2", "h3", "section", "header", "li", "summary", "form"})


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self.links: list[tuple[str, str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._href: str | None = None
        self._link_text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "title", "script"):
            self._hidden += 1
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self._href, self._link_text = dict(attrs).get("href"), []

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.text.append(" ")
        if tag in ("style", "title", "script"):
            self._hidden -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "a" and self._href is not None:
            self.links.append((" ".join("".join(self._link_text).split()), self._href))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._href is not None:
            self._link_text.append(data)


def parse(document: str) -> _Page:
    page = _Page()
    page.feed(document)
    page.close()
    return page


def visible_text(document: str) -> str:
    """The page's text with markup removed and entities decoded, whitespace collapsed."""
    return " ".join("".join(parse(document).text).split())


def table_rows(document: str) -> list[list[str]]:
    """Every table row of the page, as the text of its cells."""
    return parse(document).rows


def links(document: str) -> list[tuple[str, str]]:
    """Every link of the page: (its text, its href)."""
    return parse(document).links
