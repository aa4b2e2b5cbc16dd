"""Message types and how their ``data`` is read: tolerant readers, data versions and upcasters.

A :class:`MessageType` declares one ``type`` of the catalogue: its ``kind``, the pydantic model of its ``data``, the
channel it is sent to, its shard key, the version of its ``data`` (``major.minor``), whether it is strict, and the
upcasters that turn ``data`` of an older major version into the current one. A :class:`Catalogue` holds the types of a
system (``functions/catalogue.py``); consumers read with it and clients check against it before sending.

Reading (:meth:`MessageType.read`), the tolerant reader rule: a field of ``data`` the model does not know is left out
of the model and logged at DEBUG, unless the type is ``strict`` (then it is ``invalid_payload``, field named); a
missing optional field gets its default; a wrong type or a missing required field is ``invalid_payload``.

Versions on the wire: ``dataschema`` = ``urn:fifo-messaging:schema:<type>:<major>.<minor>``. A message without one
is version ``1.0`` (what every producer wrote before versions existed). A consumer reads any minor version of its
major; an older major goes through the type's upcasters (pure functions ``old data -> new data``, one per major
step); a newer major, or an older one without an upcaster, is ``unsupported_data_version``.

Example:
    >>> from pydantic import BaseModel
    >>> class Greeting(BaseModel):
    ...     name: str
    ...     polite: bool = True
    >>> greeting = MessageType("demo.Greeting", Kind.EVENT, Greeting, version="2.0",
    ...                        upcasters={1: lambda old: {"name": old["who"]}})
    >>> greeting.read({"who": "Ada"}, dataschema=None)
    Greeting(name='Ada', polite=True)
    >>> greeting.read({"name": "Bob", "mood": "fine"}, dataschema="urn:fifo-messaging:schema:demo.Greeting:2.3")
    Greeting(name='Bob', polite=True)
    >>> greeting.read({"name": "Eve"}, dataschema=greeting.dataschema.replace("2.0", "3.0"))
    Traceback (most recent call last):
    ...
    messaging.errors.UnsupportedDataVersion: demo.Greeting data version 3.0 is newer than this consumer reads (2.0)
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from messaging.envelope import Kind

__all__ = ["Catalogue", "Kind", "MessageType", "ModelClass", "UnknownFields", "Upcaster"]
from messaging.errors import InvalidAttribute, InvalidRequest, PayloadValidationError, UnsupportedDataVersion

if TYPE_CHECKING:
    from pydantic import BaseModel

DATASCHEMA_PREFIX = "urn:fifo-messaging:schema:"
"""``dataschema`` of a catalogued type: this prefix, the ``type``, ``:`` and the ``major.minor`` version."""
_VERSION = re.compile(r"^(?P<major>[1-9][0-9]{0,3})\.(?P<minor>[0-9]{1,4})$")
_EXTRA = "extra_forbidden"

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns ``data`` of major version N into ``data`` of major version N + 1 (a pure function of the old data)."""
ModelClass: TypeAlias = "type[BaseModel]"
"""The pydantic model of a type's ``data``."""
UnknownFields = Callable[[list[str]], None]
"""Told the paths (``data.lines.0.discount``) of the fields a tolerant read left out."""


def parse_version(text: str) -> tuple[int, int]:
    """``"2.1"`` as ``(2, 1)``; raises :class:`ValueError` for anything else.

    Example:
        >>> parse_version("2.1")
        (2, 1)
    """
    match = _VERSION.match(text)
    if match is None:
        raise ValueError(f"a data version is <major>.<minor> (1.0, 2.3), not {text!r}")
    return int(match["major"]), int(match["minor"])


def dataschema_for(type_name: str, version: str) -> str:
    """The ``dataschema`` of ``data`` of ``type_name`` at ``version``.

    Example:
        >>> dataschema_for("orders.OrderCreated", "2.0")
        'urn:fifo-messaging:schema:orders.OrderCreated:2.0'
    """
    return f"{DATASCHEMA_PREFIX}{type_name}:{version}"


def version_of(type_name: str, dataschema: str | None) -> tuple[int, int]:
    """The data version a message of ``type_name`` declares in its ``dataschema`` (``1.0`` without one); raises
    :class:`~messaging.errors.InvalidAttribute` for a ``dataschema`` of another form or another type."""
    if dataschema is None:
        return (1, 0)
    named, _, version = dataschema.removeprefix(DATASCHEMA_PREFIX).rpartition(":")
    if not dataschema.startswith(DATASCHEMA_PREFIX) or named != type_name:
        raise InvalidAttribute(
            f"dataschema must be {DATASCHEMA_PREFIX}{type_name}:<major>.<minor>, not {dataschema[:200]!r}",
            field="dataschema",
        )
    try:
        return parse_version(version)
    except ValueError as exc:
        raise InvalidAttribute(f"dataschema: {exc}", field="dataschema") from None


@dataclass(frozen=True)
class MessageType:
    """One message type of the catalogue (see the module docstring).

    ``channel`` names where it is sent: the base name of a queue (``orders-commands``) or a topic (``order-events``);
    ``upcasters`` maps a major version N to the function that turns its data into version N + 1.
    """

    type: str
    kind: Kind
    model: ModelClass | None = None
    channel: str = ""
    shard_key: str | None = None
    version: str = "1.0"
    strict: bool = False
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)

    def __post_init__(self) -> None:
        major, _ = parse_version(self.version)
        missing = [old for old in range(1, major) if old not in self.upcasters]
        if self.upcasters and missing:
            raise ValueError(f"{self.type}: upcasters from major {missing} to {major} are missing")
        if any(old >= major for old in self.upcasters):
            raise ValueError(f"{self.type}: an upcaster starts at or above the current major version {major}")

    @property
    def major(self) -> int:
        return parse_version(self.version)[0]

    @property
    def dataschema(self) -> str:
        """The ``dataschema`` of the ``data`` this type's producers send."""
        return dataschema_for(self.type, self.version)

    @property
    def summary(self) -> str:
        """The first paragraph of the model's docstring as plain text (empty without a model or docstring)."""
        doc = (self.model.__doc__ or "") if self.model is not None else ""
        paragraph = doc.strip().split("\n\n", 1)[0]
        return " ".join(paragraph.replace("``", "").split())

    def upcast(self, data: Mapping[str, Any], from_major: int) -> dict[str, Any]:
        """``data`` of major version ``from_major`` as the current major version, through each upcaster in turn
        (each one gets its own copy, so none can change the message); raises
        :class:`~messaging.errors.UnsupportedDataVersion` if a step is missing or the version is newer."""
        if from_major > self.major:
            raise UnsupportedDataVersion(
                f"{self.type} data version {from_major}.x is newer than this consumer reads ({self.version})"
            )
        upgraded = copy.deepcopy(dict(data))
        for major in range(from_major, self.major):
            step = self.upcasters.get(major)
            if step is None:
                raise UnsupportedDataVersion(
                    f"{self.type} data version {major}.x has no upcaster to {major + 1} (this consumer reads "
                    f"{self.version})"
                )
            try:
                upgraded = step(upgraded)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
                # data that is not what its version says: permanent, never retried
                raise PayloadValidationError(
                    f"{self.type} data of version {major}.x cannot be upcast to {major + 1}: {type(exc).__name__}: "
                    f"{str(exc)[:200]}",
                    field="data",
                ) from exc
        return upgraded

    def read(
        self, data: Mapping[str, Any], *, dataschema: str | None, unknown: UnknownFields | None = None
    ) -> Any:
        """``data`` of a message of this type, as its model (or a dict without a model): versions checked and
        upcast, unknown fields left out (told to ``unknown``) unless strict. Raises a
        :class:`~messaging.errors.PermanentMessageError`."""
        major, minor = version_of(self.type, dataschema)
        if major > self.major:
            raise UnsupportedDataVersion(
                f"{self.type} data version {major}.{minor} is newer than this consumer reads ({self.version})"
            )
        current = self.upcast(data, major) if major < self.major else dict(data)
        if self.model is None:
            return current
        return read_model(self.model, current, strict=self.strict, unknown=unknown)


def read_model(
    model: type[BaseModel], data: Mapping[str, Any], *, strict: bool = False, unknown: UnknownFields | None = None
) -> Any:
    """``data`` validated as ``model``: unknown fields are errors when ``strict``, else left out and told to
    ``unknown``. Raises :class:`~messaging.errors.PayloadValidationError` naming the first wrong field.

    Example:
        >>> from pydantic import BaseModel
        >>> class Line(BaseModel):
        ...     sku: str
        >>> seen = []
        >>> read_model(Line, {"sku": "book", "discount": "1.00"}, unknown=seen.extend), seen
        (Line(sku='book'), ['data.discount'])
        >>> read_model(Line, {"sku": "book", "discount": "1.00"}, strict=True)
        Traceback (most recent call last):
        ...
        messaging.errors.PayloadValidationError: data does not match Line: data.discount: Extra inputs are not permitted
    """
    from pydantic import ValidationError  # noqa: PLC0415 - loaded already by the model

    try:
        return model.model_validate(data, extra="forbid")  # the common case: one pass, nothing unknown
    except ValidationError as exc:
        errors = exc.errors()
        real = [error for error in errors if error["type"] != _EXTRA]
        if strict or real:  # a real failure is named before any unknown field
            raise _payload_error(model, errors[0] if strict else real[0]) from exc
        if unknown is not None:
            unknown([_path(error["loc"]) for error in errors])
        return model.model_validate(data, extra="ignore")


def _path(location: tuple[int | str, ...]) -> str:
    joined = ".".join(str(part) for part in location)
    return f"data.{joined}" if joined else "data"


def _payload_error(model: type[BaseModel], error: Any) -> PayloadValidationError:
    field_name = _path(tuple(error.get("loc", ())))
    reason = f"data does not match {model.__name__}: {field_name}: {error.get('msg', 'invalid')}"
    return PayloadValidationError(reason, field=field_name)


class Catalogue(Mapping[str, MessageType]):
    """The message types of a system, by ``type``.

    Example:
        >>> catalogue = Catalogue(MessageType("demo.Ping", Kind.COMMAND, shard_key="who", channel="demo-commands"))
        >>> catalogue.shard_keys, catalogue["demo.Ping"].dataschema
        ({'demo.Ping': 'who'}, 'urn:fifo-messaging:schema:demo.Ping:1.0')
        >>> catalogue.check(Kind.EVENT, "demo.Ping", {})
        Traceback (most recent call last):
        ...
        messaging.errors.InvalidRequest: demo.Ping is a command, not an event (see the catalogue)
    """

    def __init__(self, *types: MessageType) -> None:
        self._types: dict[str, MessageType] = {}
        for message_type in types:
            if message_type.type in self._types:
                raise ValueError(f"{message_type.type} is in the catalogue twice")
            self._types[message_type.type] = message_type

    def __getitem__(self, type_name: str) -> MessageType:
        return self._types[type_name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    @property
    def shard_keys(self) -> dict[str, str]:
        """``{type: shard-key field}`` of the types that declare one."""
        return {name: t.shard_key for name, t in self._types.items() if t.shard_key}

    def check(self, kind: Kind, type_name: str, data: Mapping[str, Any]) -> MessageType:
        """What a client checks before sending: the type is catalogued, of this ``kind``, and ``data`` reads as
        its model (the tolerant reader's rules); raises :class:`~messaging.errors.InvalidRequest` naming the field."""
        message_type = self._types.get(type_name)
        if message_type is None:
            raise InvalidRequest(f"unknown message type {type_name!r}: not in the catalogue (fifo-messaging catalogue)")
        if message_type.kind is not kind:
            article = "an" if message_type.kind.value[0] in "aeiou" else "a"
            wanted = "an" if kind.value[0] in "aeiou" else "a"
            raise InvalidRequest(
                f"{type_name} is {article} {message_type.kind.value}, not {wanted} {kind.value} (see the catalogue)"
            )
        if message_type.model is not None:
            try:
                read_model(message_type.model, data, strict=message_type.strict)
            except PayloadValidationError as exc:
                raise InvalidRequest(exc.reason) from exc
        return message_type


JSON_SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def message_facts(message_type: MessageType) -> dict[str, Any]:
    """The catalogue entry of a type as its contract publishes it (``x-message``; what the compatibility gate reads)."""
    return {
        "type": message_type.type,
        "kind": message_type.kind.value,
        "version": message_type.version,
        "strict": message_type.strict,
        "channel": message_type.channel,
        "shardKey": message_type.shard_key,
    }


def type_schema(message_type: MessageType) -> dict[str, Any]:
    """The JSON Schema 2020-12 of ``data`` of ``message_type``, as ``contracts/schemas/<type>.json`` publishes it:
    from the model (``model_json_schema``), ``$id`` = the type's ``dataschema``, open for a tolerant type (no
    ``additionalProperties: false``: its readers ignore unknown fields), every object closed for a strict one.

    Example:
        >>> from pydantic import BaseModel
        >>> class Ping(BaseModel):
        ...     who: str
        >>> schema = type_schema(MessageType("demo.Ping", Kind.COMMAND, Ping, strict=True))
        >>> schema["$id"], schema["required"], schema["additionalProperties"]
        ('urn:fifo-messaging:schema:demo.Ping:1.0', ['who'], False)
    """
    if message_type.model is None:
        raise ValueError(f"{message_type.type} has no model: nothing to publish")
    body = openness(message_type.model.model_json_schema(mode="validation"), strict=message_type.strict)
    return {
        "$schema": JSON_SCHEMA_2020_12,
        "$id": message_type.dataschema,
        "title": message_type.type,
        **{key: value for key, value in body.items() if key != "title"},
        "x-message": message_facts(message_type),
    }


def openness(schema: Mapping[str, Any], *, strict: bool) -> dict[str, Any]:
    """A copy of ``schema`` with every object closed (strict) or open (tolerant readers)."""
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
