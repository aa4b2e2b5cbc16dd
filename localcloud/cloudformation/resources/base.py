"""The contract of a resource type: create, update in place (or ask for replacement), delete.

Example::

    class Topic(ResourceType):
        replace_on = frozenset({"TopicName", "FifoTopic"})

        def create(self, ctx: ResourceContext) -> None:
            arn = ctx.client("sns").create_topic(Name=ctx.props["TopicName"])["TopicArn"]
            ctx.set(arn, TopicArn=arn)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from localcloud.cloudformation.deployment import DeployedStack, Deployment, ResourceState

ClientFactory = Callable[[str], Any]


@dataclass(frozen=True)
class FunctionCode:
    """A function's code, unpacked: the directory with the handler modules at its top, and the package's identity."""

    directory: Path
    sha256: str = ""
    """Base64 SHA-256 of the deployment package (Lambda's ``CodeSha256``)."""
    size: int = 0


class CodeSource(Protocol):
    """Where a function's code comes from: the cloud assembly's staged asset, or the zip the template names in S3."""

    def locate(self, ctx: ResourceContext) -> FunctionCode:
        """The function's code, for the resource in ``ctx``."""
        ...


@dataclass
class ResourceContext:
    """What a resource type sees while it creates, updates or deletes one resource."""

    client: ClientFactory
    region: str
    account_id: str
    deployment: Deployment
    stack: DeployedStack
    logical_id: str
    resource_type: str
    resource: dict[str, Any]
    props: dict[str, Any]
    code: CodeSource
    previous: ResourceState | None = None
    """The resource as it was before this update (None on create)."""
    replacing: bool = False
    """True when ``previous`` is being replaced by a new resource rather than updated in place."""
    physical_id: Any = None
    attrs: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    """The physical name :meth:`physical_name` chose (kept across in-place updates)."""

    def set(self, physical_id: Any, **attrs: Any) -> None:
        """Record the physical id (``Ref``) and the attributes (``Fn::GetAtt``) of the resource."""
        self.physical_id = physical_id
        self.attrs = dict(attrs)

    def physical_name(self, key: str, *, limit: int, suffix: str = "") -> str:
        """The name property ``key`` gives, else the one generated from the stack and logical id, as CloudFormation
        does: kept on an in-place update, new (with a random part) on a replacement.

        Example::

            ctx.physical_name("QueueName", limit=80, suffix=".fifo")  # "Orders-CommandsQueue.fifo"
        """
        if self.props.get(key):
            self.name = str(self.props[key])
        elif self.previous is not None and not self.replacing and self.previous.name:
            self.name = self.previous.name
        else:
            base = f"{self.stack.name}-{self.logical_id}"
            if self.replacing:
                base = f"{base[: limit - len(suffix) - 9]}-{uuid.uuid4().hex[:8]}"
            self.name = base[: limit - len(suffix)] + suffix
        return self.name


class ResourceType:
    """Base of every emulated resource type: ``create`` is required, ``update`` defaults to applying ``create``
    again (for types whose create call is an upsert), ``delete`` defaults to nothing to delete."""

    replace_on: ClassVar[frozenset[str]] = frozenset()
    """Properties whose change needs a new resource (CloudFormation's "Replacement: True")."""
    name_property: ClassVar[str | None] = None
    """The property that names the resource (a replacement cannot keep a custom name)."""

    def create(self, ctx: ResourceContext) -> None:
        raise NotImplementedError

    def update(self, ctx: ResourceContext) -> None:
        """Apply changed properties to the existing resource ``ctx.previous``."""
        self.create(ctx)

    def delete(self, ctx: ResourceContext) -> None:
        """Remove the resource ``ctx.previous`` (its properties are ``ctx.props``)."""

    def needs_replacement(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        """True when a property of :attr:`replace_on` changed."""
        return any(old.get(key) != new.get(key) for key in self.replace_on)


def text(value: Any) -> str:
    """A property value as the string an AWS API attribute takes (booleans lower case, documents as JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def is_true(value: Any) -> bool:
    """A template boolean (``true``, ``"true"``, ``"True"``) as a bool."""
    return text(value).lower() == "true"
