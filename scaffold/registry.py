"""The two places a new service is registered: the stack registry ``infra/services.py`` (so the app builds its
stack) and the message catalogue ``functions/catalogue.py`` (so clients and the CLI fill its ``partitionkey``).

Each edit is computed in memory from the file's current text and refuses, with one line, a file whose shape it does
not recognise (nothing is written then).

Example:
    >>> text = 'from infra.reply_channel import ReplyChannel\\n\\nSERVICES: dict[str, ServiceStackClass] = {}\\n'
    >>> print(register_stack(text, ServiceName.of("inventory")))
    from infra.reply_channel import ReplyChannel
    from infra.stacks.inventory import InventoryStack
    <BLANKLINE>
    SERVICES: dict[str, ServiceStackClass] = {
        "inventory": InventoryStack,
    }
    <BLANKLINE>
"""

from __future__ import annotations

import re
from collections.abc import Callable

from scaffold.imports import LINE_LENGTH, from_import, module_key
from scaffold.names import ScaffoldError, ServiceName

SERVICES_FILE = "infra/services.py"
CATALOGUE_FILE = "functions/catalogue.py"

_SERVICES = re.compile(r"^SERVICES: dict\[str, ServiceStackClass\] = \{(?P<body>.*?)\}$", re.MULTILINE | re.DOTALL)
_ENTRY = re.compile(r'^\s*"(?P<name>\w+)": (?P<cls>\w+),$')
_CATALOGUE = re.compile(r"^SHARD_KEYS: dict\[str, str\] = \{(?P<body>[^}]*)\}$", re.MULTILINE)
_ALIAS_IMPORT = re.compile(r"^from (?P<module>\w+)\.models import SHARD_KEYS as (?P<alias>\w+)$")


class RegistryError(ScaffoldError):
    """A registry file does not have the shape the generator edits (it was changed by hand)."""


def _insert_import(text: str, path: str, statement: str, belongs: Callable[[str], bool]) -> str:
    """``text`` with ``statement`` added to the contiguous block of import lines that ``belongs`` picks, sorted."""
    lines = text.split("\n")
    block = [index for index, line in enumerate(lines) if belongs(line)]
    if not block or block != list(range(block[0], block[-1] + 1)):
        raise RegistryError(f"{path}: no single block of imports to add the service to (edit it by hand)")
    statements = [lines[index] for index in block] + [statement]
    statements.sort(key=lambda line: module_key(line.split()[1]))
    return "\n".join(lines[: block[0]] + statements + lines[block[-1] + 1 :])


def register_stack(text: str, names: ServiceName) -> str:
    """``infra/services.py`` with the service's stack imported and entered in ``SERVICES`` (both sorted)."""
    match = _SERVICES.search(text)
    if match is None:
        raise RegistryError(f"{SERVICES_FILE}: no 'SERVICES: dict[str, ServiceStackClass] = {{...}}' to add to")
    entries: dict[str, str] = {}
    for line in match.group("body").split("\n"):
        if not line.strip():
            continue
        entry = _ENTRY.match(line)
        if entry is None:
            raise RegistryError(f"{SERVICES_FILE}: unexpected line in SERVICES: {line.strip()!r} (edit it by hand)")
        entries[entry.group("name")] = entry.group("cls")
    if names.name in entries:
        raise RegistryError(f"{SERVICES_FILE}: the service {names.name!r} is registered already")
    entries[names.name] = f"{names.title}Stack"
    body = "".join(f'    "{name}": {entries[name]},\n' for name in sorted(entries))
    text = text[: match.start()] + f"SERVICES: dict[str, ServiceStackClass] = {{\n{body}}}" + text[match.end() :]
    statement = from_import(f"infra.stacks.{names.name}", [f"{names.title}Stack"])
    return _insert_import(text, SERVICES_FILE, statement, lambda line: line.startswith("from infra."))


def register_shard_keys(text: str, names: ServiceName) -> str:
    """``functions/catalogue.py`` with the service's ``SHARD_KEYS`` imported and merged into the catalogue."""
    match = _CATALOGUE.search(text)
    if match is None:
        raise RegistryError(f"{CATALOGUE_FILE}: no 'SHARD_KEYS: dict[str, str] = {{...}}' to add to")
    parts = [part.strip() for part in match.group("body").split(",") if part.strip()]
    spread = f"**{names.alias}"
    if spread in parts:
        raise RegistryError(f"{CATALOGUE_FILE}: {names.alias} is in the catalogue already")
    assignment = f"SHARD_KEYS: dict[str, str] = {{{', '.join([*parts, spread])}}}"
    if len(assignment) > LINE_LENGTH:
        body = "".join(f"    {part},\n" for part in [*parts, spread])
        assignment = f"SHARD_KEYS: dict[str, str] = {{\n{body}}}"
    text = text[: match.start()] + assignment + text[match.end() :]
    statement = f"from {names.name}.models import SHARD_KEYS as {names.alias}"
    return _insert_import(text, CATALOGUE_FILE, statement, lambda line: _ALIAS_IMPORT.match(line) is not None)
