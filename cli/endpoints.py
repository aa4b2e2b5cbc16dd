"""Where the messaging system lives: the stack outputs a client needs, from CloudFormation, a file or a local cloud.

Example:
    >>> endpoints = Endpoints.from_outputs({
    ...     "OrdersCommandQueueUrl": "https://sqs/orders.fifo", "OrdersCommandDeadLetterQueueUrl": "https://sqs/orders-dlq.fifo",
    ...     "OrderEventsTopicArn": "arn:aws:sns:eu-west-1:1:order-events.fifo",
    ...     "QuoteRequestsTopicArn": "arn:aws:sns:eu-west-1:1:quote-requests.fifo",
    ...     "ReplyQueueUrl": "https://sqs/reply.fifo", "ReplyTableName": "replies"})
    >>> endpoints.queue("orders-command").url
    'https://sqs/orders.fifo'
    >>> Endpoints.from_outputs({})
    Traceback (most recent call last):
    ...
    cli.endpoints.MissingOutput: stack output(s) missing: OrdersCommandQueueUrl, OrderEventsTopicArn, ...
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from cli.stages import stack_name

REQUIRED_OUTPUTS = (
    "OrdersCommandQueueUrl",
    "OrderEventsTopicArn",
    "QuoteRequestsTopicArn",
    "ReplyQueueUrl",
    "ReplyTableName",
)
DEFAULT_STACKS = (
    "MessagingCore", "Orders", "Billing", "Notifications", "Quotes", "BillingCredit", "Inventory", "OrderSaga",
)

_QUEUE_URL = re.compile(r"^(?P<name>.+?)(?<!DeadLetter)QueueUrl$")
_DLQ_URL = re.compile(r"^(?P<name>.+)DeadLetterQueueUrl$")
_TOPIC_ARN = re.compile(r"^(?P<name>.+)TopicArn$")


class EndpointsError(Exception):
    """The endpoints of the system could not be determined."""


class MissingOutput(EndpointsError):  # noqa: N818 - the name says what is missing, like KeyError
    """Stack outputs the client needs are absent; :attr:`names` lists them."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        shown = ", ".join(self.names[:2]) + (", ..." if len(self.names) > 2 else "")
        super().__init__(f"stack output(s) missing: {shown}")


class UnknownName(EndpointsError):  # noqa: N818
    """A queue or topic name given on the command line is not among the outputs."""


@dataclass(frozen=True, slots=True)
class QueueEndpoint:
    """A service queue and its dead-letter queue, as the stack outputs name them (``<Name>QueueUrl``,
    ``<Name>DeadLetterQueueUrl``); a dead-letter queue with no queue behind it (an event source's, as the outbox
    relay's ``OrdersOutboxRelay``) has no :attr:`url`."""

    name: str
    url: str | None
    dead_letter_url: str | None


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The stack outputs a client needs; :attr:`outputs` keeps every output for anything else."""

    orders_command_queue_url: str
    order_events_topic_arn: str
    quote_requests_topic_arn: str
    reply_queue_url: str
    reply_table_name: str
    queues: tuple[QueueEndpoint, ...] = ()
    topics: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> Endpoints:
        """Build from a flat mapping of output key -> value; raises :class:`MissingOutput` naming what is absent."""
        flat = {str(k): str(v) for k, v in outputs.items() if v is not None and v != ""}
        missing = [name for name in REQUIRED_OUTPUTS if name not in flat]
        if missing:
            raise MissingOutput(missing)
        return cls(
            orders_command_queue_url=flat["OrdersCommandQueueUrl"],
            order_events_topic_arn=flat["OrderEventsTopicArn"],
            quote_requests_topic_arn=flat["QuoteRequestsTopicArn"],
            reply_queue_url=flat["ReplyQueueUrl"],
            reply_table_name=flat["ReplyTableName"],
            queues=_queues_of(flat),
            topics={m["name"]: v for k, v in flat.items() if (m := _TOPIC_ARN.match(k))},
            outputs=flat,
        )

    @classmethod
    def from_stacks(cls, cloudformation: Any, stack_names: Iterable[str] = DEFAULT_STACKS) -> Endpoints:
        """Read the outputs of deployed stacks with ``DescribeStacks`` (a stack that does not exist is an error)."""
        outputs: dict[str, str] = {}
        for name in stack_names:
            for stack in cloudformation.describe_stacks(StackName=name)["Stacks"]:
                for output in stack.get("Outputs", []):
                    outputs[output["OutputKey"]] = output["OutputValue"]
        return cls.from_outputs(outputs)

    @classmethod
    def from_file(cls, path: Path) -> Endpoints:
        """Read outputs from JSON: a flat ``{key: value}`` object, or ``cdk deploy --outputs-file`` form
        (``{stack: {key: value}}``)."""
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise EndpointsError(f"cannot read outputs file {path}: {exc.strerror}") from exc
        except ValueError as exc:
            raise EndpointsError(f"outputs file {path} is not JSON: {exc}") from exc
        return cls.from_outputs(flatten_outputs(document))

    def queue(self, name: str) -> QueueEndpoint:
        """The queue called ``name`` (output prefix, case and ``-``/``_`` insensitive: ``orders-command``)."""
        wanted = _normalise(name)
        for queue in self.queues:
            if _normalise(queue.name) == wanted:
                return queue
        known = ", ".join(q.name for q in self.queues) or "none"
        if any(_normalise(topic) == wanted for topic in self.topics):
            raise UnknownName(f"{name!r} is a topic, not a queue: publish to it with `publish` or `scatter-gather` "
                              f"(queues: {known})")
        raise UnknownName(f"unknown queue {name!r} (known: {known})")

    def queue_url(self, name_or_url: str) -> str:
        """A queue URL given as a URL or as a queue name."""
        if "://" in name_or_url:
            return name_or_url
        url = self.queue(name_or_url).url
        if url is None:
            raise UnknownName(f"queue {name_or_url!r} has no {name_or_url}QueueUrl output")
        return url

    def topic_arn(self, name_or_arn: str) -> str:
        """A topic ARN given as an ARN or as a topic name (``order-events``, ``OrderEvents``)."""
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        wanted = _normalise(name_or_arn)
        for name, arn in self.topics.items():
            if _normalise(name) == wanted:
                return arn
        known = ", ".join(self.topics) or "none"
        if any(_normalise(queue.name) == wanted for queue in self.queues):
            raise UnknownName(f"{name_or_arn!r} is a queue, not a topic: send to it with `notify`, `send` or "
                              f"`request` (topics: {known})")
        raise UnknownName(f"unknown topic {name_or_arn!r} (known: {known})")


def flatten_outputs(document: Any) -> dict[str, str]:
    """Outputs as one flat mapping, from either a flat object or ``{stack: {key: value}}``."""
    if not isinstance(document, dict):
        raise EndpointsError("outputs must be a JSON object")
    flat: dict[str, str] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            flat.update({str(k): str(v) for k, v in value.items() if not isinstance(v, dict | list)})
        elif not isinstance(value, list):
            flat[str(key)] = str(value)
    return flat


def _queues_of(flat: Mapping[str, str]) -> tuple[QueueEndpoint, ...]:
    names: dict[str, None] = {}
    for key in sorted(flat):
        match = _DLQ_URL.match(key) or _QUEUE_URL.match(key)
        if match:
            names.setdefault(match["name"], None)
    return tuple(
        QueueEndpoint(name=name, url=flat.get(f"{name}QueueUrl"), dead_letter_url=flat.get(f"{name}DeadLetterQueueUrl"))
        for name in names
    )


def _normalise(name: str) -> str:
    return re.sub(r"[-_\s]", "", name).lower()


LOCAL_STATE_DIR = Path(".localcloud")
"""Where local cloud servers keep their state, one directory per port, relative to where they run."""
CHECKOUT_STATE_DIR = Path(__file__).resolve().parent.parent / ".localcloud"
"""The same in this checkout (``make local`` runs there), for a command run from another directory."""
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def endpoint_url_from(environ: Mapping[str, str]) -> str | None:
    """The endpoint to use when none is given: ``MESSAGING_ENDPOINT_URL``, else ``AWS_ENDPOINT_URL`` (the variable
    every AWS SDK and the AWS CLI read).

    Example:
        >>> endpoint_url_from({"AWS_ENDPOINT_URL": "http://localhost:4566"})
        'http://localhost:4566'
        >>> endpoint_url_from({}) is None
        True
    """
    return environ.get("MESSAGING_ENDPOINT_URL") or environ.get("AWS_ENDPOINT_URL") or None


def stack_names(stage: str | None, bases: Iterable[str] = DEFAULT_STACKS) -> tuple[str, ...]:
    """The stack names of a stage: ``<stage>-<Stack>`` (``cdk deploy -c stage=NAME``), unprefixed without one.

    Example:
        >>> stack_names("dev")[:2]
        ('dev-MessagingCore', 'dev-Orders')
        >>> stack_names(None)[0]
        'MessagingCore'
    """
    return tuple(stack_name(stage, base) for base in bases)


def local_outputs_file(endpoint_url: str, root: Path = LOCAL_STATE_DIR) -> Path | None:
    """The outputs file a local cloud server on this machine writes (``.localcloud/<port>/outputs.json``).

    Example:
        >>> str(local_outputs_file("http://localhost:4567"))
        '.localcloud/4567/outputs.json'
        >>> local_outputs_file("https://cloudformation.eu-west-1.amazonaws.com") is None
        True
    """
    parsed = urlparse(endpoint_url)
    if parsed.hostname not in _LOCAL_HOSTS or parsed.port is None:
        return None
    return root / str(parsed.port) / "outputs.json"


def from_local_cloud(
    endpoint_url: str,
    cloudformation: Any,
    stacks: Iterable[str] = DEFAULT_STACKS,
    *,
    outputs_file: Path | None = None,
) -> Endpoints:
    """Endpoints of a local cloud server: the outputs of ``stacks`` from the server's outputs file if present
    (``{stack: {key: value}}``; under ``.localcloud/`` of the current directory, else of this checkout), else
    ``DescribeStacks`` at the endpoint."""
    wanted = tuple(stacks)
    candidates = [outputs_file] if outputs_file else [local_outputs_file(endpoint_url, root) for root in
                                                      (LOCAL_STATE_DIR, CHECKOUT_STATE_DIR)]
    path = next((p for p in candidates if p is not None and p.is_file()), None)
    if path is not None:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EndpointsError(f"cannot read the local cloud's outputs file {path}: {exc}") from exc
        if isinstance(document, dict) and all(isinstance(v, dict) for v in document.values()):
            if any(name in document for name in wanted):
                return Endpoints.from_outputs({k: v for name in wanted for k, v in document.get(name, {}).items()})
        else:
            return Endpoints.from_outputs(flatten_outputs(document))
    try:
        return Endpoints.from_stacks(cloudformation, wanted)
    except (MissingOutput, ClientError) as exc:
        raise EndpointsError(
            f"the local cloud at {endpoint_url} has no stacks {', '.join(wanted)} deployed ({exc}): deploy them "
            "(make deploy-local) or pass --outputs FILE.json"
        ) from exc
