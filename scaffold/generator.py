"""Generate a service into the project: render the templates, register the stack and the shard keys, write all of
it or nothing.

What a service ``inventory`` gets (the shape of the example services):

- ``functions/inventory/``: ``models.py`` (pydantic command and event, ``SHARD_KEYS``), ``service.py`` (logic, the
  item store port and its DynamoDB / in-memory adapters), ``handler.py`` (the Lambda adapter: typed model -> one
  service call -> reply + event);
- ``infra/stacks/inventory.py``: the stack of constructs (command queue with DLQ, consumer function with its own
  role, state and dedup tables, event topic, replies), registered in ``infra/services.py``;
- ``tests/services/test_inventory_service.py`` (unit) and ``tests/e2e/test_e2e_inventory.py`` (a command through
  the local cloud);
- its ``SHARD_KEYS`` merged into ``functions/catalogue.py``.

Example::

    changes = plan(check_new_service("inventory", ROOT), ROOT)
    write(changes)          # every file or none
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from scaffold.imports import from_imports
from scaffold.names import ScaffoldError, ServiceName
from scaffold.registry import CATALOGUE_FILE, SERVICES_FILE, register_shard_keys, register_stack

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "templates"


class WriteError(ScaffoldError):
    """The files could not be written (what was written is taken back)."""


@dataclass(frozen=True)
class Change:
    """One file the generator creates (``previous`` None) or rewrites (``previous`` its text before)."""

    path: Path
    text: str
    previous: str | None = None

    @property
    def created(self) -> bool:
        return self.previous is None


def _first_party(names: ServiceName) -> dict[str, dict[str, list[str]]]:
    """The name-dependent first-party imports of each template, by template."""
    n, t = names.name, names.title
    return {
        "functions_handler.py.tmpl": {
            f"{n}.models": ["SHARD_KEYS", f"Create{t}Item"],
            f"{n}.service": [f"DynamoDb{t}Items", f"{t}Service"],
        },
        "functions_service.py.tmpl": {
            f"{n}.models": [f"Create{t}Item"],
            "messaging": ["unit_of_work"],
            "messaging.aws": ["DynamoDbTableAdapter"],
        },
        "tests_test_service.py.tmpl": {
            f"{n}.models": ["SHARD_KEYS", f"Create{t}Item", f"{t}ItemCreated"],
            f"{n}.service": [f"DynamoDb{t}Items", f"InMemory{t}Items", f"{t}Service"],
            "messaging.unit_of_work": ["DedupRecord", "InMemoryCommitter", "unit_of_work"],
        },
    }


def targets(names: ServiceName) -> dict[str, str]:
    """Template file -> the path (relative to the project root) it is rendered to."""
    n = names.name
    return {
        "functions__init__.py.tmpl": f"functions/{n}/__init__.py",
        "functions_models.py.tmpl": f"functions/{n}/models.py",
        "functions_service.py.tmpl": f"functions/{n}/service.py",
        "functions_handler.py.tmpl": f"functions/{n}/handler.py",
        "infra_stack.py.tmpl": f"infra/stacks/{n}.py",
        "tests_test_service.py.tmpl": f"tests/services/test_{n}_service.py",
        "tests_test_e2e.py.tmpl": f"tests/e2e/test_e2e_{n}.py",
    }


def render(template: str, names: ServiceName) -> str:
    """The text of one template for the service ``names``.

    Example:
        >>> "class InventoryStack(Stack):" in render("infra_stack.py.tmpl", ServiceName.of("inventory"))
        True
    """
    imports = _first_party(names).get(template, {})
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(
        name=names.name, title=names.title, slug=names.slug, imports=from_imports(imports)
    )


def plan(names: ServiceName, root: Path = ROOT) -> list[Change]:
    """Every file the service needs, rendered, and the two registries, edited; nothing is written yet."""
    changes = [Change(root / path, render(template, names)) for template, path in targets(names).items()]
    for path, edit in ((SERVICES_FILE, register_stack), (CATALOGUE_FILE, register_shard_keys)):
        try:
            previous = (root / path).read_text(encoding="utf-8")
        except OSError as error:
            raise WriteError(f"cannot read {path}: {error.strerror or error}") from error
        changes.append(Change(root / path, edit(previous, names), previous))
    return changes


def write(changes: list[Change]) -> None:
    """Write every change or none: new files are created exclusively (an existing file is never overwritten), and on
    any failure what was written is removed or restored."""
    done: list[Change] = []
    try:
        for change in changes:
            if change.created:
                change.path.parent.mkdir(parents=True, exist_ok=True)
                with change.path.open("x", encoding="utf-8") as file:
                    done.append(change)
                    file.write(change.text)
            else:
                done.append(change)
                change.path.write_text(change.text, encoding="utf-8")
    except OSError as error:
        for change in reversed(done):
            if change.previous is None:
                change.path.unlink(missing_ok=True)
            else:
                change.path.write_text(change.previous, encoding="utf-8")
        for change in changes:  # package directories the generator made and left empty
            parent = change.path.parent
            if parent.is_dir() and next(parent.iterdir(), None) is None:
                parent.rmdir()
        where = getattr(error, "filename", None) or "the service"
        raise WriteError(f"cannot write {where}: {error.strerror or error}") from error
