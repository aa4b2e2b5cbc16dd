"""A new service's name, checked before anything is written, and the names derived from it.

A service name is a lowercase Python identifier (letters, digits, single inner underscores; at most
:data:`MAX_LENGTH` characters, so every physical name derived from it fits its AWS limit, stage prefix included),
not a Python keyword, not a service or stack the project already has, and not a module the functions could import
instead (the standard library, an installed package, a top-level package of the checkout).

Example:
    >>> names = ServiceName.of("stock_room")
    >>> names.title, names.slug, names.alias
    ('StockRoom', 'stock-room', 'STOCK_ROOM')
    >>> ServiceName.of("Stock")
    Traceback (most recent call last):
    ...
    scaffold.names.InvalidServiceName: service name 'Stock' must be a lowercase identifier: ...
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

PATTERN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
MAX_LENGTH = 24
#: The stacks the example system names in ``infra/system.py`` (``stack_name(stage, "Orders")``).
_STACK_NAME = re.compile(r"stack_name\(\s*stage,\s*\"(\w+)\"\s*\)")


class ScaffoldError(Exception):
    """A service cannot be generated; the message is one line for the person who asked."""


class InvalidServiceName(ScaffoldError):  # noqa: N818 - the project's typed errors name what is wrong
    """The name is not acceptable as a new service's name (a usage error: exit status 2)."""


@dataclass(frozen=True)
class ServiceName:
    """The service's name and the names derived from it.

    ``name``: the Python package and message-type prefix (``stock_room``); ``title``: classes, stack and output
    prefix (``StockRoom``); ``slug``: physical names, queues, topic, function (``stock-room``); ``alias``: its
    shard keys in the catalogue (``STOCK_ROOM``).
    """

    name: str
    title: str
    slug: str
    alias: str

    @classmethod
    def of(cls, name: str) -> ServiceName:
        """The names of ``name`` if it has the form of a service name (see the module docstring)."""
        if not name:
            raise InvalidServiceName("a service name is required: make service NAME=inventory")
        if not PATTERN.match(name) or len(name) > MAX_LENGTH:
            raise InvalidServiceName(
                f"service name {name!r} must be a lowercase identifier: a letter, then letters, digits and single "
                f"inner underscores, at most {MAX_LENGTH} characters (e.g. inventory, stock_room)"
            )
        if keyword.iskeyword(name):
            raise InvalidServiceName(f"service name {name!r} is a Python keyword")
        title = "".join(part.capitalize() for part in name.split("_"))
        return cls(name=name, title=title, slug=name.replace("_", "-"), alias=name.upper())


def check_new_service(name: str, root: Path) -> ServiceName:
    """The names of ``name`` if a service of that name can be added to the project at ``root``.

    Example:
        >>> check_new_service("orders", Path(__file__).resolve().parents[1])
        Traceback (most recent call last):
        ...
        scaffold.names.InvalidServiceName: service 'orders' already exists (functions/orders)
    """
    names = ServiceName.of(name)
    taken = [
        root / "functions" / name,
        root / "functions" / f"{name}.py",
        root / "infra" / "stacks" / f"{name}.py",
        root / "tests" / "services" / f"test_{name}_service.py",
        root / "tests" / "e2e" / f"test_e2e_{name}.py",
    ]
    for path in taken:
        if path.exists():
            raise InvalidServiceName(f"service {name!r} already exists ({path.relative_to(root)})")
    stacks = set(_STACK_NAME.findall((root / "infra" / "system.py").read_text(encoding="utf-8")))
    if names.title in stacks:
        raise InvalidServiceName(f"service name {name!r} would make the stack {names.title}, which exists already")
    if (root / name).exists():
        raise InvalidServiceName(f"service name {name!r} is taken by the top-level {name}/ of the project")
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        raise InvalidServiceName(f"service name {name!r} would shadow the standard-library module {name}")
    try:
        importable = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module in sys.modules without a spec, a broken package: taken all the same
        importable = True
    if importable:
        raise InvalidServiceName(f"service name {name!r} would shadow the module {name} this Python can import already")
    return names
