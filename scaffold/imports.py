"""First-party ``from`` imports written in the order and shape the project's import sorter (ruff's isort rules)
expects, so generated and edited files stay lint-clean whatever the service's name sorts next to.

Example:
    >>> print(from_imports({"messaging.aws": ["DynamoDbTableAdapter"], "inventory.models": ["CreateItem"]}))
    from inventory.models import CreateItem
    from messaging.aws import DynamoDbTableAdapter
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

LINE_LENGTH = 120
_DIGITS = re.compile(r"(\d+)")


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Case-insensitive natural order (``a2`` before ``a10``), as the sorter compares names."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(text.lower()) if part)


def module_key(module: str) -> tuple[tuple[tuple[int, int | str], ...], ...]:
    """Sort key of a module path: segment by segment (``messaging`` before ``messaging.aws``)."""
    return tuple(_natural(segment) for segment in module.split("."))


def member_key(name: str) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    """Sort key of an imported name: constants, then classes, then the rest, each in natural order."""
    if name.isupper() and len(name) > 1:
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, _natural(name)


def from_import(module: str, members: Iterable[str]) -> str:
    """One ``from module import ...`` statement, wrapped one name per line when it would be too long."""
    names = sorted(set(members), key=member_key)
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return line
    body = "".join(f"    {name},\n" for name in names)
    return f"from {module} import (\n{body})"


def from_imports(imports: Mapping[str, Iterable[str]]) -> str:
    """The ``from`` statements of ``imports`` (module -> names) in sorted order, one block."""
    return "\n".join(from_import(module, imports[module]) for module in sorted(imports, key=module_key))
