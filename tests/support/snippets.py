"""The code blocks of the README and of the docs pages, and what the page says to do with each.

Every fenced block names its language. A shell (``bash``, ``sh``, ``shell``, ``console``) or ``python`` block has a
marker on the line above it::

    <!-- snippet: run; cwd: any; expect: "open", "success" -->    run it (cwd: checkout | any | functions) and find
                                                                   each expected text in what it prints
    <!-- snippet: run; cwd: any; needs: dist -->                   ... with what it names ready: ``dist`` = the wheels
                                                                   of ``make dist`` built, their directory in ``$DIST``
                                                                   (a slow snippet: it runs in ``make test-e2e``)
    <!-- snippet: skip: REASON -->                                 not run here, for the reason given
    <!-- snippet: fixture: REASON -->                              what the test's fixture does (start a server, set
                                                                   the environment), checked against the fixture

Other languages (``json``, ``text``) are not run; a block of any other language, or without one, is an error, so a
new snippet cannot go untested unnoticed. :func:`documented` reads the README's blocks, then those of each page of
``docs/`` in the order of :data:`DOCS_PAGES` (the order of the README's Reference list), which is the order they run in.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

RUNNABLE = {"bash", "sh", "shell", "console", "python"}
NOT_CODE = {"json", "text"}
CWDS = ("checkout", "any", "functions")
NEEDS = ("dist",)
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[^`\s]*)[ \t]*$")
_MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<body>.*?)\s*-->\s*$")
DOCS_PAGES = (
    "failure-codes.md",
    "message-catalogue.md",
    "message-contracts.md",
    "delivery-guarantee.md",
    "outbox-and-http-api.md",
    "delivery-per-batch.md",
    "large-payloads.md",
    "cli.md",
    "own-code.md",
    "delayed-delivery.md",
    "sagas.md",
    "architecture.md",
    "local-cloud.md",
    "local-cloud-fidelity.md",
    "performance.md",
    "decisions.md",
)
"""The pages of ``docs/`` whose blocks run after the README's, in this order."""


class SnippetError(Exception):
    """A block without a language, without a marker, or with a marker that does not parse; a docs page not listed."""


@dataclass(frozen=True)
class Snippet:
    """A fenced block: where it starts (1-based line of the fence), its language and code (dedented), and its marker."""

    line: int
    language: str
    code: str
    action: str | None = None  # run | skip | fixture; None for blocks that are not code (json, text)
    reason: str = ""
    cwd: str = "checkout"
    expect: tuple[str, ...] = field(default_factory=tuple)
    needs: tuple[str, ...] = field(default_factory=tuple)
    page: str = "README.md"

    @property
    def label(self) -> str:
        first = next((ln for ln in self.code.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
        return f"{self.page}:{self.line} {self.language}: {first.strip()[:60]}"

    def script(self) -> str:
        """What runs: the code; for ``console`` the ``$`` lines (and their continuations) without the prompt."""
        if self.language != "console":
            return self.code
        commands, continuing = [], False
        for line in self.code.splitlines():
            if line.startswith("$ ") or continuing:
                commands.append(line[2:] if line.startswith("$ ") and not continuing else line)
                continuing = line.endswith("\\")
        return "\n".join(commands) + "\n"


def parse_marker(body: str, where: str) -> dict[str, object]:
    """``run; cwd: any; expect: "a", "b"`` -> {"action": "run", "cwd": "any", "expect": ("a", "b")}."""
    action, _, reason = body.partition(":")
    action, reason = action.strip(), reason.strip()
    if action in ("skip", "fixture"):
        if not reason:
            raise SnippetError(f"{where}: `snippet: {action}` needs a reason after a colon")
        return {"action": action, "reason": reason}
    action, _, rest = body.partition(";")
    action = action.strip()
    if action != "run":
        raise SnippetError(f"{where}: a marker is `snippet: run[; ...]`, `snippet: skip: REASON` or `snippet: fixture: "
                           f"REASON`, not {body!r}")
    parsed: dict[str, object] = {"action": "run"}
    for option in filter(None, (part.strip() for part in rest.split(";"))):
        key, _, value = option.partition(":")
        key, value = key.strip(), value.strip()
        if key == "cwd" and value in CWDS:
            parsed["cwd"] = value
        elif key == "expect":
            try:
                expected = json.loads(f"[{value}]")
            except ValueError as exc:
                raise SnippetError(f"{where}: expect takes JSON strings, comma-separated: {exc}") from None
            if not expected or not all(isinstance(text, str) and text for text in expected):
                raise SnippetError(f"{where}: expect takes non-empty JSON strings")
            parsed["expect"] = tuple(expected)
        elif key == "needs" and value and all(need.strip() in NEEDS for need in value.split(",")):
            parsed["needs"] = tuple(need.strip() for need in value.split(","))
        else:
            raise SnippetError(f"{where}: unknown option {option!r} (cwd: {' | '.join(CWDS)}; expect: \"TEXT\", ...; "
                               f"needs: {' | '.join(NEEDS)})")
    return parsed


def snippets(text: str, page: str = "README.md") -> list[Snippet]:
    """Every fenced block of a Markdown page, with its marker; :class:`SnippetError` on the first one not in order."""
    lines = text.splitlines()
    found: list[Snippet] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        start, indent, language = index, opening["indent"], opening["lang"]
        where = f"{page}:{start + 1}"
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            index += 1
        if index == len(lines):
            raise SnippetError(f"{where}: the block is never closed")
        body = "\n".join(ln[len(indent):] if ln.startswith(indent) else ln for ln in lines[start + 1:index])
        code = textwrap.dedent(body) + "\n"
        index += 1
        if language not in RUNNABLE | NOT_CODE:
            raise SnippetError(f"{where}: a block must name its language ({', '.join(sorted(RUNNABLE | NOT_CODE))}), "
                               f"not {language or 'none'!r}")
        marker = _MARKER.match(lines[start - 1]) if start > 0 else None
        if language in NOT_CODE:
            if marker:
                raise SnippetError(f"{where}: a {language} block is not run; its snippet marker means nothing")
            found.append(Snippet(start + 1, language, code, page=page))
            continue
        if not marker:
            raise SnippetError(
                f"{where}: a {language} block needs a marker on the line above: <!-- snippet: run -->, "
                "<!-- snippet: skip: REASON --> or <!-- snippet: fixture: REASON -->"
            )
        found.append(Snippet(start + 1, language, code, page=page,
                             **parse_marker(marker["body"], where)))  # type: ignore[arg-type]
    return found


def documented(root: Path) -> list[Snippet]:
    """The blocks of ``root``'s README, then of each page of :data:`DOCS_PAGES`, in that order.

    A page of ``docs/`` missing from the list, or listed and missing, is a :class:`SnippetError`: no page's blocks go
    unread."""
    present = sorted(path.name for path in (root / "docs").glob("*.md"))
    unlisted, missing = sorted(set(present) - set(DOCS_PAGES)), sorted(set(DOCS_PAGES) - set(present))
    if unlisted or missing:
        raise SnippetError(f"docs pages not in DOCS_PAGES: {unlisted}; listed but missing: {missing}")
    found = snippets((root / "README.md").read_text(encoding="utf-8"))
    for name in DOCS_PAGES:
        found += snippets((root / "docs" / name).read_text(encoding="utf-8"), page=f"docs/{name}")
    return found
