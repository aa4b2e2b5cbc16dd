"""JSON Schemas of the catalogue's ``data``, generated from the pydantic models (``model_json_schema``).

Two forms of one schema: :func:`~messaging.contracts.type_schema` (the runtime's, so the CLI can show it) is the
standalone JSON Schema 2020-12 document of ``contracts/schemas/<type>.json`` (nested models under ``$defs``; ``$id`` =
the type's ``dataschema``; the catalogue entry under ``x-message``); :func:`component_schemas` gives the same schemas
for ``components.schemas`` of the AsyncAPI document (nested models as sibling components). A type that is not strict
is published open (no ``additionalProperties: false``: its readers ignore unknown fields); a strict type closes every
object.

Example:
    >>> from catalogue import CATALOGUE
    >>> schema = type_schema(CATALOGUE["orders.OrderCreated"])
    >>> schema["$id"], schema["x-message"]["version"], "item_count" in schema["required"]
    ('urn:fifo-messaging:schema:orders.OrderCreated:2.0', '2.0', True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from messaging.contracts import MessageType, openness, type_schema

__all__ = ["SchemaConflict", "component_schemas", "type_schema"]
_COMPONENT_REF = "#/components/schemas/{model}"


class SchemaConflict(Exception):  # noqa: N818 - named after what it is
    """Two different models would publish a schema under one component name."""


def component_schemas(types: Iterable[MessageType]) -> dict[str, Any]:
    """``components.schemas`` of the AsyncAPI document: one schema per type (keyed by the type) and one per nested
    model (keyed by the model's name); raises :class:`SchemaConflict` if two models share a name."""
    components: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for message_type in types:
        if message_type.model is None:
            continue
        generated = message_type.model.model_json_schema(mode="validation", ref_template=_COMPONENT_REF)
        body = openness(generated, strict=message_type.strict)
        for name, nested in body.pop("$defs", {}).items():
            if name in components and components[name] != nested:
                raise SchemaConflict(
                    f"{message_type.type} and {owners[name]} publish different models named {name}: rename one"
                )
            components[name], owners[name] = nested, message_type.type
        components[message_type.type] = {**body, "title": message_type.type}
        owners[message_type.type] = message_type.type
    return components
