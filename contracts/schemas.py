"""JSON Schemas of the catalogue's ``data``, generated from the pydantic models (``model_json_schema``).

Two forms of one schema: :func:`type_schema` is the standalone JSON Schema 2020-12 document of
``contracts/schemas/<type>.json`` (nested models under ``$defs``; ``$id`` = the type's ``dataschema``; the catalogue
entry under ``x-message``); :func:`component_schemas` gives the same schemas for ``components.schemas`` of the AsyncAPI
document (nested models as sibling components). A type that is not strict is published open (no
``additionalProperties: false``: its readers ignore unknown fields); a strict type closes every object.

Example:
    >>> from catalogue import CATALOGUE
    >>> schema = type_schema(CATALOGUE["orders.OrderCreated"])
    >>> schema["$id"], schema["x-message"]["version"], "item_count" in schema["required"]
    ('urn:fifo-messaging:schema:orders.OrderCreated:2.0', '2.0', True)
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from messaging.contracts import MessageType

JSON_SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_COMPONENT_REF = "#/components/schemas/{model}"


class SchemaConflict(Exception):  # noqa: N818 - named after what it is
    """Two different models would publish a schema under one component name."""


def message_facts(message_type: MessageType) -> dict[str, Any]:
    """The catalogue entry of a type as published (``x-message``): what the compatibility gate compares."""
    return {
        "type": message_type.type,
        "kind": message_type.kind.value,
        "version": message_type.version,
        "strict": message_type.strict,
        "channel": message_type.channel,
        "shardKey": message_type.shard_key,
    }


def type_schema(message_type: MessageType) -> dict[str, Any]:
    """The standalone JSON Schema 2020-12 of ``data`` of ``message_type`` (see the module docstring)."""
    if message_type.model is None:
        raise ValueError(f"{message_type.type} has no model: nothing to publish")
    generated = message_type.model.model_json_schema(mode="validation")
    body = _openness(generated, strict=message_type.strict)
    return {
        "$schema": JSON_SCHEMA_2020_12,
        "$id": message_type.dataschema,
        "title": message_type.type,
        **{key: value for key, value in body.items() if key != "title"},
        "x-message": message_facts(message_type),
    }


def component_schemas(types: Iterable[MessageType]) -> dict[str, Any]:
    """``components.schemas`` of the AsyncAPI document: one schema per type (keyed by the type) and one per nested
    model (keyed by the model's name); raises :class:`SchemaConflict` if two models share a name."""
    components: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for message_type in types:
        if message_type.model is None:
            continue
        generated = message_type.model.model_json_schema(mode="validation", ref_template=_COMPONENT_REF)
        body = _openness(generated, strict=message_type.strict)
        for name, nested in body.pop("$defs", {}).items():
            if name in components and components[name] != nested:
                raise SchemaConflict(
                    f"{message_type.type} and {owners[name]} publish different models named {name}: rename one"
                )
            components[name], owners[name] = nested, message_type.type
        components[message_type.type] = {**body, "title": message_type.type}
        owners[message_type.type] = message_type.type
    return components


def _openness(schema: Mapping[str, Any], *, strict: bool) -> dict[str, Any]:
    """``schema`` with every object closed (strict) or open (tolerant readers)."""
    result: dict[str, Any] = copy.deepcopy(dict(schema))

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                if strict:
                    node["additionalProperties"] = False
                elif node.get("additionalProperties") is False:
                    del node["additionalProperties"]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(result)
    return result
