"""The headings' anchors and the relative links of Markdown pages, as GitHub renders them.

A heading's anchor is its text lower-cased, every character that is not a letter, a digit, a space, a hyphen or an
underscore removed (backticks, colons, quotes, parentheses, ...), each space turned into a hyphen; a second heading
with the same anchor gets ``-1``, a third ``-2``. Text inside fenced code blocks is neither a heading nor a link.

Example:
    >>> slug('Deploying to AWS with `cdk deploy`')
    'deploying-to-aws-with-cdk-deploy'
    >>> slug('Delayed delivery: "send this in ten minutes" on FIFO')
    'delayed-delivery-send-this-in-ten-minutes-on-fifo'
    >>> sorted(anchors("# A\\n\\n## A\\n\\n```bash\\n# not a heading\\n```\\n"))
    ['a', 'a-1']
    >>> links("See [x](docs/x.md#y), [web](https://example.com) and [z](#z).\\n")
    [(1, 'docs/x.md#y'), (1, '#z')]
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*```")
_HEADING = re.compile(r"^(#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")  # the link text may start on an earlier line
_CODE_SPAN = re.compile(r"`[^`]*`")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def _prose(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, with their 1-based numbers."""
    kept, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            kept.append((number, line))
    return kept


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading's text (before duplicates are numbered)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of a page, duplicates numbered as GitHub numbers them."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _prose(text):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match["text"])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text: str) -> list[tuple[int, str]]:
    """Every relative link target of a page (``path``, ``path#anchor`` or ``#anchor``), with its line number.

    A link is found by its ``](target)``, so one whose text begins on the line before is found too; code spans and
    fenced blocks are not prose and hold no links."""
    found = []
    for number, line in _prose(text):
        for match in _LINK.finditer(_CODE_SPAN.sub("", line)):
            target = match["target"]
            if not _EXTERNAL.match(target):
                found.append((number, target))
    return found
