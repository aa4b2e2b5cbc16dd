"""The README's figure blocks: the text between ``<!-- figures:NAME:begin -->`` and ``<!-- figures:NAME:end -->`` is
rendered from the records in ``docs/results/`` and nothing else, so a figure in the README is always one a command
printed.

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

from figures import bench, chaos, conformance
from figures.record import RESULTS_DIR, ROOT, Record, read_record

README = ROOT / "README.md"
_BLOCK = re.compile(r"<!-- figures:(?P<name>[a-z0-9-]+):begin -->\n(?P<body>.*?)\n<!-- figures:(?P=name):end -->", re.S)


class FiguresError(Exception):
    """The README's figure blocks do not match the renderers (a block missing, or one nobody renders)."""


@dataclass(frozen=True, slots=True)
class Block:
    """A named block of the README: the records it is made from and how."""

    records: tuple[str, ...]
    render: Callable[[Mapping[str, Record]], str]
    optional: bool = False
    """The block renders without its records (it then says none is recorded)."""


BLOCKS: dict[str, Block] = {
    "bench": Block(bench.RECORDS, bench.render),
    "chaos": Block(chaos.RECORDS, chaos.render),
    "chaos-long": Block(chaos.LONG_RECORDS, chaos.render_long, optional=True),
    "conformance": Block(conformance.RECORDS, conformance.render),
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
        raise FiguresError(f"the README has {count} blocks figures:{name} (expected one)")
    return replaced


def records_of(name: str, directory: Path = RESULTS_DIR) -> dict[str, Record]:
    """The records block ``name`` is made from (an optional block's missing records left out)."""
    block = BLOCKS[name]
    present = [r for r in block.records if not block.optional or (directory / f"{r}.json").is_file()]
    return {record: read_record(record, directory) for record in present}


def render(name: str, directory: Path = RESULTS_DIR) -> str:
    """What block ``name`` says, from its records."""
    return BLOCKS[name].render(records_of(name, directory))


def rewrite(text: str, directory: Path = RESULTS_DIR) -> str:
    """Every figure block rendered again from the records; a block in the text nobody renders is an error."""
    unknown = sorted(set(blocks(text)) - set(BLOCKS))
    if unknown:
        raise FiguresError(f"the README has figure blocks nothing renders: {', '.join(unknown)}")
    for name in BLOCKS:
        text = replace_block(text, name, render(name, directory))
    return text
