"""The figure blocks of the docs pages: the text between ``<!-- figures:NAME:begin -->`` and
``<!-- figures:NAME:end -->`` is rendered from the records in ``docs/results/`` and nothing else, so a figure in the
docs is always one a command printed. Each block lives on one page (:data:`BLOCKS`); a figure block anywhere else in
the README or ``docs/`` is an error.

Example:
    >>> text = "intro\\n<!-- figures:demo:begin -->\\nold\\n<!-- figures:demo:end -->\\nrest\\n"
    >>> blocks(text)
    {'demo': 'old'}
    >>> replace_block(text, "demo", "new")
    'intro\\n<!-- figures:demo:begin -->\\nnew\\n<!-- figures:demo:end -->\\nrest\\n'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from figures import bench, chaos, conformance, sagas
from figures.record import RESULTS_DIR, ROOT, Record, read_record

_BLOCK = re.compile(r"<!-- figures:(?P<name>[a-z0-9-]+):begin -->\n(?P<body>.*?)\n<!-- figures:(?P=name):end -->", re.S)


class FiguresError(Exception):
    """The pages' figure blocks do not match the renderers (a block missing, out of its page, or one nobody renders)."""


@dataclass(frozen=True, slots=True)
class Block:
    """A named block: the page it is on (relative to the checkout), the records it is made from and how."""

    page: str
    records: tuple[str, ...]
    render: Callable[[Mapping[str, Record]], str]
    optional: bool = False
    """The block renders without its records (it then says none is recorded)."""


BLOCKS: dict[str, Block] = {
    "bench": Block("docs/performance.md", bench.RECORDS, bench.render),
    "chaos": Block("docs/delivery-guarantee.md", chaos.RECORDS, chaos.render),
    "chaos-long": Block("docs/delivery-guarantee.md", chaos.LONG_RECORDS, chaos.render_long, optional=True),
    "conformance": Block("docs/local-cloud-fidelity.md", conformance.RECORDS, conformance.render),
    "sagas": Block("docs/sagas.md", sagas.RECORDS, sagas.render, optional=True),
}


def blocks(text: str) -> dict[str, str]:
    """The figure blocks of a text, name -> body."""
    return {match["name"]: match["body"] for match in _BLOCK.finditer(text)}


def replace_block(text: str, name: str, body: str) -> str:
    """The text with the body of block ``name`` replaced (:class:`FiguresError` when it has no such block)."""
    tag = re.escape(name)
    pattern = re.compile(rf"(<!-- figures:{tag}:begin -->\n).*?(\n<!-- figures:{tag}:end -->)", re.S)
    replaced, count = pattern.subn(lambda m: m[1] + body + m[2], text)
    if count != 1:
        raise FiguresError(f"the page has {count} blocks figures:{name} (expected one)")
    return replaced


def records_of(name: str, directory: Path = RESULTS_DIR) -> dict[str, Record]:
    """The records block ``name`` is made from (an optional block's missing records left out)."""
    block = BLOCKS[name]
    present = [r for r in block.records if not block.optional or (directory / f"{r}.json").is_file()]
    return {record: read_record(record, directory) for record in present}


def render(name: str, directory: Path = RESULTS_DIR) -> str:
    """What block ``name`` says, from its records."""
    return BLOCKS[name].render(records_of(name, directory))


def names_on(page: str) -> list[str]:
    """The blocks that live on ``page`` (``README.md``, ``docs/performance.md``, ...)."""
    return [name for name, block in BLOCKS.items() if block.page == page]


def rewrite(text: str, page: str, directory: Path = RESULTS_DIR) -> str:
    """The blocks of ``page`` rendered again from the records; a block there that another page holds, or that nobody
    renders, is an error, and so is one of its blocks missing."""
    stray = sorted(set(blocks(text)) - set(names_on(page)))
    if stray:
        raise FiguresError(f"{page} has figure blocks nothing renders there: {', '.join(stray)}")
    for name in names_on(page):
        try:
            text = replace_block(text, name, render(name, directory))
        except FiguresError as exc:
            raise FiguresError(f"{page}: {exc}") from None
    return text


def pages(root: Path = ROOT) -> list[str]:
    """The pages that may hold figure blocks: the README and every page of ``docs/`` (relative paths)."""
    return ["README.md", *(f"docs/{path.name}" for path in sorted((root / "docs").glob("*.md")))]


def rewrite_all(root: Path = ROOT, directory: Path = RESULTS_DIR) -> dict[str, tuple[str, str]]:
    """Each page -> (its text, its text with its blocks rendered again); :class:`FiguresError` as :func:`rewrite`,
    or when a block's page is missing."""
    found = pages(root)
    missing = sorted({block.page for block in BLOCKS.values()} - set(found))
    if missing:
        raise FiguresError(f"pages with figure blocks are missing: {', '.join(missing)}")
    texts = {page: (root / page).read_text(encoding="utf-8") for page in found}
    return {page: (text, rewrite(text, page, directory)) for page, text in texts.items()}
