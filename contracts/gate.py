"""The compatibility gate: may a new contract of a message type replace the committed one?

The committed ``contracts/schemas/<type>.json`` files are the registry of what was published. Within one major version
of ``data`` a new schema must keep every reader and writer of the old one working; what breaks them:

- a field removed (or renamed: removed under its old name),
- a field's type changed (its JSON type, its format, the model it refers to),
- an optional field made required, or a new required field (messages of older writers lack it),
- an enum value removed (a reader would refuse what older writers send),
- any field added to a strict type (its older readers refuse unknown fields),
- the type removed from the catalogue, or its version going back.

Compatible: an optional field added, a required field made optional, an enum value added, descriptions, defaults and
titles changed. A breaking change passes only with the type's major version bumped (``version="2.0"``) and upcasters
from every older major registered with the type (:class:`messaging.contracts.MessageType`).

Example:
    >>> old = {"x-message": {"version": "1.0", "strict": False}, "type": "object",
    ...        "properties": {"sku": {"type": "string"}}, "required": ["sku"]}
    >>> new = {**old, "properties": {"sku": {"type": "integer"}}}
    >>> [str(b) for b in breaking_changes("demo.Line", old, new)]
    ['demo.Line: field sku: type changed from string to integer (bump the major version and add an upcaster)']
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from messaging.contracts import MessageType, parse_version

_IGNORED = ("description", "title", "default", "examples", "deprecated", "x-message", "$id", "$schema")


@dataclass(frozen=True)
class Break:
    """One incompatible change: the type, the field (``lines[].sku``; empty for the type itself) and what changed."""

    type: str
    field: str
    change: str
    bump_helps: bool = True

    def __str__(self) -> str:
        where = f"field {self.field}: " if self.field else ""
        hint = " (bump the major version and add an upcaster)" if self.bump_helps else ""
        return f"{self.type}: {where}{self.change}{hint}"


def breaking_changes(type_name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Break]:
    """How ``new`` breaks readers or writers of ``old`` (two standalone schemas of ``type_name``), ignoring versions."""
    strict = bool((new.get("x-message") or {}).get("strict")) or bool((old.get("x-message") or {}).get("strict"))
    return list(_compare(type_name, "", old, new, old, new, strict=strict))


def check_type(
    type_name: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, declared: MessageType | None
) -> list[Break]:
    """The breaks of replacing the committed schema ``old`` of a type with ``new`` (None: absent), allowing what a
    major version bump with upcasters from every older major covers."""
    if old is None:
        return []
    if new is None or declared is None:
        return [
            Break(
                type_name,
                "",
                f"type removed from the catalogue (to retire it, delete contracts/schemas/{type_name}.json first)",
                bump_helps=False,
            )
        ]
    old_major = parse_version(str((old.get("x-message") or {}).get("version", "1.0")))[0]
    new_major = parse_version(declared.version)[0]
    if new_major < old_major:
        return [Break(type_name, "", f"version went back from major {old_major} to {declared.version}", False)]
    changes = breaking_changes(type_name, old, new)
    if new_major > old_major:
        missing = [major for major in range(old_major, new_major) if major not in declared.upcasters]
        if missing:
            what = ", ".join(f"{major} -> {major + 1}" for major in missing)
            change = f"major version bumped to {declared.version} without an upcaster ({what})"
            return [Break(type_name, "", change, bump_helps=False)]
        return []
    return changes


def _compare(  # noqa: PLR0917 - the two sides of a comparison and where it is
    type_name: str,
    path: str,
    old: Any,
    new: Any,
    old_root: Mapping[str, Any],
    new_root: Mapping[str, Any],
    *,
    strict: bool,
) -> Iterator[Break]:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return
    old_kind, new_kind = _kind(old, old_root), _kind(new, new_root)
    if old_kind != new_kind:
        yield Break(type_name, path or "data", f"type changed from {old_kind} to {new_kind}")
        return
    if old.get("x-nullable") and not new.get("x-nullable"):
        yield Break(type_name, path or "data", "null no longer allowed (older writers send it)")
    removed = [v for v in _enum(old, old_root) if v not in _enum(new, new_root)]
    if removed and _enum(new, new_root):
        shown = ", ".join(json.dumps(v) for v in removed)
        yield Break(type_name, path or "data", f"enum value {shown} removed")
    old_props, new_props = _properties(old, old_root), _properties(new, new_root)
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name, schema in old_props.items():
        where = f"{path}.{name}" if path else name
        if name not in new_props:
            yield Break(type_name, where, "removed (or renamed)")
            continue
        if name in new_required and name not in old_required:
            yield Break(type_name, where, "optional field made required")
        yield from _compare(type_name, where, schema, new_props[name], old_root, new_root, strict=strict)
    for name in new_props:
        if name in old_props:
            continue
        where = f"{path}.{name}" if path else name
        if name in new_required:
            yield Break(type_name, where, "new required field (messages of older writers lack it)")
        elif strict:
            yield Break(type_name, where, "field added to a strict type (its older readers refuse it)")
    old_items, new_items = _items(old, old_root), _items(new, new_root)
    if old_items is not None and new_items is not None:
        yield from _compare(type_name, f"{path}[]", old_items, new_items, old_root, new_root, strict=strict)


def _resolve(schema: Any, root: Mapping[str, Any]) -> Any:
    """Follow local ``$ref`` s; an optional object (``anyOf: [{$ref: X}, {type: null}]``) reads as X, nullable."""
    for _ in range(32):
        if not isinstance(schema, Mapping):
            return schema
        alternatives = schema.get("anyOf")
        if isinstance(alternatives, list) and len(alternatives) == 2 and {"type": "null"} in alternatives:
            [other] = [a for a in alternatives if a != {"type": "null"}]
            if isinstance(other, Mapping) and "$ref" in other:
                rest = {k: v for k, v in schema.items() if k != "anyOf"}
                schema = {**rest, **other, "x-nullable": True}
                continue
        reference = schema.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/"):
            target: Any = root
            for part in reference[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, Mapping) else {}
            schema = {**{k: v for k, v in schema.items() if k != "$ref"}, **target}
            continue
        return schema
    return schema


def _kind(schema: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    """A field's type as a comparable text: JSON types (and formats) of every alternative, sorted."""
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(alternatives, list):
        return " | ".join(sorted({_kind(_resolve(a, root), root) for a in alternatives}))
    if "const" in schema:
        return type(schema["const"]).__name__.replace("str", "string").replace("int", "integer")
    kind = schema.get("type")
    default = "string" if "enum" in schema else "any"
    text = " | ".join(sorted(kind)) if isinstance(kind, list) else str(kind or default)
    if schema.get("format"):
        text += f" ({schema['format']})"
    return text


def _enum(schema: Mapping[str, Any], root: Mapping[str, Any]) -> list[Any]:
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    values: list[Any] = []
    for alternative in schema.get("anyOf") or schema.get("oneOf") or []:
        values.extend(_enum(_resolve(alternative, root), root))
    return values


def _properties(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties")
    return dict(properties) if isinstance(properties, Mapping) else {}


def _items(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    return schema.get("items") if isinstance(schema.get("items"), Mapping) else None
