"""Every relative link of README.md and docs/*.md leads somewhere: its file exists, and its ``#anchor`` is a heading of
that page as GitHub names headings (``tests/support/doclinks.py``)."""

from __future__ import annotations

import doctest
import posixpath
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.support import doclinks
from tests.support.doclinks import anchors, links

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def broken_links(pages: dict[str, str], exists: Callable[[str], bool]) -> list[str]:
    """``page:line: target (why)`` for each link of ``pages`` (path -> text) that resolves to nothing.

    ``exists`` says whether another file or directory of the checkout is there (its path relative to the checkout)."""
    headings = {name: anchors(text) for name, text in pages.items()}
    broken = []
    for name, text in pages.items():
        for line, target in links(text):
            path, _, anchor = target.partition("#")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), unquote(path))) if path else name
            if resolved.startswith("../"):
                broken.append(f"{name}:{line}: {target} (outside the checkout)")
            elif resolved not in pages and not exists(resolved):
                broken.append(f"{name}:{line}: {target} (no such file)")
            elif anchor and resolved not in pages:
                broken.append(f"{name}:{line}: {target} (an anchor into a file that is not a checked page)")
            elif anchor and unquote(anchor) not in headings[resolved]:
                broken.append(f"{name}:{line}: {target} (no heading of {resolved} has that anchor)")
    return broken


def test_every_relative_link_and_anchor_of_the_readme_and_the_docs_resolves() -> None:
    # Given the README and every page of docs/
    pages = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in PAGES}
    # When each relative link is resolved against the checkout and each anchor against its page's headings
    broken = broken_links(pages, lambda path: (ROOT / path).exists())
    # Then none is broken
    assert not broken, "\n".join(broken)
    assert sum(len(links(text)) for text in pages.values()) > 50, "the pages link to one another"


def test_a_link_to_a_missing_page_or_heading_is_caught() -> None:
    # Given a README and a docs page linking to each other, some links right and some wrong
    pages = {
        "README.md": "# Title\n\n## Deploying with `cdk deploy`\n\nSee [sagas](docs/sagas.md#sagas), "
                     "[here](#deploying-with-cdk-deploy), [gone](docs/gone.md), [typo](docs/sagas.md#saga),\n"
                     "[old anchor](#deploying-with-cdk-deploy-1) and [code](functions/catalogue.py).\n",
        "docs/sagas.md": "# Sagas\n\nBack to [the README](../README.md#title), [wrong](README.md#title).\n\n"
                         "```bash\n# [not a link](#nowhere)\n```\n",
    }
    # When the links are checked
    broken = broken_links(pages, {"functions/catalogue.py"}.__contains__)
    # Then exactly the wrong ones are reported, each with its page and line
    assert broken == [
        "README.md:5: docs/gone.md (no such file)",
        "README.md:5: docs/sagas.md#saga (no heading of docs/sagas.md has that anchor)",
        "README.md:6: #deploying-with-cdk-deploy-1 (no heading of README.md has that anchor)",
        "docs/sagas.md:3: README.md#title (no such file)",
    ]


def test_the_anchor_rules_are_githubs() -> None:
    # Then the examples of the anchor and link rules hold (headings with code, punctuation, quotes, duplicates)
    results = doctest.testmod(doclinks)
    assert results.attempted and not results.failed
