"""The command line's arguments: the parser of every subcommand and the argument types that check values before
anything is sent (a JSON object within the size limit, a partition key that is a FIFO group id, a stage name, a
positive number). Usage errors are one line on stderr and exit status 2 (:class:`OneLineErrors`).

Example:
    >>> build_parser().parse_args(["trace", "c-1"]).since
    1440.0
    >>> positive_int("3")
    3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from cli.endpoints import DEFAULT_STACKS, endpoint_url_from
from cli.stages import StageError, check_stage, registry_path
from messaging.claim_check import MAX_DATA_BYTES
from messaging.fifo import is_valid_fifo_id
from messaging.tracecontext import is_valid

EXIT_BAD_ARGUMENTS = 2
PROG = "fifo-messaging" if Path(sys.argv[0]).name == "fifo-messaging" else "python -m cli"
"""How the user called the CLI: the console script ``make setup`` installs, or the module."""
DEFAULT_SOURCE = "/cli"
_Number = TypeVar("_Number", int, float)


def json_object(text: str) -> dict[str, Any]:
    """``--data``: a JSON object, ``@file.json`` or ``-`` (stdin)."""
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read {text[1:]}: {exc.strerror}") from exc
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_DATA_BYTES:
        raise argparse.ArgumentTypeError(f"is {size:,} bytes; the maximum is {MAX_DATA_BYTES:,} bytes (5 MiB)")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, not {type(value).__name__}")
    return value


def stage_name(text: str) -> str:
    """An argparse type: a stage name as ``cdk deploy -c stage=NAME`` accepts it."""
    try:
        return check_stage(text)
    except StageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def partition_key(text: str) -> str:
    """``--partition-key``: a valid FIFO ``MessageGroupId`` (1-128 letters, digits and ASCII punctuation)."""
    if not is_valid_fifo_id(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not 1-128 letters, digits and ASCII punctuation")
    return text


def traceparent(text: str) -> str:
    """``--traceparent``: a W3C trace parent, ``00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>``.

    Example:
        >>> traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")[:6]
        '00-4bf'
    """
    if not is_valid(text):
        raise argparse.ArgumentTypeError(f"{text[:80]!r} is not 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>")
    return text


def _positive(convert: Callable[[str], _Number], what: str) -> Callable[[str], _Number]:
    """An argparse type: ``convert`` the text, and require a value greater than 0."""

    def parse(text: str) -> _Number:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
        return value

    return parse


positive_float = _positive(float, "a number")
positive_int = _positive(int, "an integer")


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options accepted both before and after the subcommand (``cli --json status`` = ``cli status --json``)."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    where = parser.add_argument_group(
        "where the system is (default: the stacks registered in SSM, read from CloudFormation)"
    )
    where.add_argument(
        "--stacks",
        default=default(None),
        metavar="A,B,...",
        help="stack names to read outputs from (default: every stack of the stage registered under "
        f"{registry_path(None)} in SSM, else {','.join(DEFAULT_STACKS)})",
    )
    where.add_argument(
        "--stage",
        default=default(os.environ.get("MESSAGING_STAGE")),
        type=stage_name,
        metavar="NAME",
        help="the stage deployed with cdk deploy -c stage=NAME (stacks NAME-MessagingCore, ...); default: none",
    )
    where.add_argument(
        "--endpoint-url",
        default=default(endpoint_url_from(os.environ)),
        metavar="URL",
        help="a local cloud server, e.g. http://localhost:4566 (make local); default: MESSAGING_ENDPOINT_URL, else "
        "AWS_ENDPOINT_URL",
    )
    where.add_argument(
        "--outputs",
        default=default(os.environ.get("MESSAGING_OUTPUTS")),
        metavar="FILE.json",
        help="stack outputs as JSON (flat, or cdk deploy --outputs-file form)",
    )
    where.add_argument("--region", default=default(None), help="AWS region (default: the configured one)")
    where.add_argument("--profile", default=default(None), help="AWS profile")
    shown = parser.add_argument_group("output")
    shown.add_argument("--json", action="store_true", default=default(False), help="JSON on stdout, for scripts")
    shown.add_argument("-q", "--quiet", action="store_true", default=default(False), help="no progress on stderr")
    shown.add_argument(
        "--source", default=default(DEFAULT_SOURCE), help=f"CloudEvents source (default {DEFAULT_SOURCE})"
    )


def _message_args(parser: argparse.ArgumentParser, target: str) -> None:
    example = "order-events" if target == "topic" else "orders-command"
    parser.add_argument(target, help=f"{target} name from the stack outputs (e.g. {example}) or its URL/ARN")
    parser.add_argument("type", help="message type, e.g. orders.CreateOrder")
    parser.add_argument(
        "-d",
        "--data",
        type=json_object,
        default={},
        metavar="JSON",
        help="payload: a JSON object, @file.json or - for stdin (default {})",
    )
    parser.add_argument(
        "-k",
        "--partition-key",
        type=partition_key,
        default=None,
        metavar="KEY",
        help="partitionkey = FIFO MessageGroupId (the shard, e.g. the customer id); default: the type's declared "
        "shard-key field of the data (orders.*: customer_id)",
    )
    parser.add_argument(
        "--traceparent",
        type=traceparent,
        default=None,
        metavar="TRACEPARENT",
        help="W3C trace context to continue (00-<trace id>-<parent id>-<flags>); default: a new trace",
    )


def _delay_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--delay",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help="deliver SECONDS from now (an EventBridge Scheduler one-shot schedule; up to 365 days)",
    )


class OneLineErrors(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (and exit status 2), not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_ARGUMENTS, f"error: {message} (see {self.prog} --help)\n")


def _dlq_actions(dlq: argparse.ArgumentParser) -> None:
    """The actions of ``dlq``: list, redrive, retry, delete, edit-retry."""
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    sub = dlq_commands.add_parser("list", help="messages in a queue's DLQ with their failure reason, left in place")
    _common(sub, suppress=True)
    sub.add_argument("queue", help="the source queue's name, e.g. orders-command")
    sub.add_argument("--limit", type=positive_int, default=100, help="at most this many messages (default 100)")
    sub.add_argument("--group-by", choices=["code"], default=None, help="count the messages per failure code")
    ids_help = "SQS message ids or CloudEvent ids, as dlq list shows them"
    sub = dlq_commands.add_parser("retry", help="move the named messages back to their queue (same source and id)")
    _common(sub, suppress=True)
    sub.add_argument("queue", help="the source queue's name, e.g. orders-command")
    sub.add_argument("ids", nargs="+", metavar="ID", help=ids_help)
    sub = dlq_commands.add_parser("delete", help="delete the named messages from the DLQ (asks first)")
    _common(sub, suppress=True)
    sub.add_argument("queue", help="the source queue's name, e.g. orders-command")
    sub.add_argument("ids", nargs="+", metavar="ID", help=ids_help)
    sub.add_argument("-y", "--yes", action="store_true", help="do not ask (needed without a terminal)")
    sub = dlq_commands.add_parser(
        "edit-retry", help="send a corrected body (same source and id) in place of a dead letter, then delete it"
    )
    _common(sub, suppress=True)
    sub.add_argument("queue", help="the source queue's name, e.g. orders-command")
    sub.add_argument("id", metavar="ID", help="the dead letter's SQS message id or CloudEvent id")
    sub.add_argument("-b", "--body", type=json_object, required=True, metavar="JSON",
                     help="the corrected CloudEvent: JSON, @file.json or - for stdin")
    sub = dlq_commands.add_parser(
        "redrive",
        help="move a queue's DLQ messages back to it, FIFO order kept per group: at most those present at the start, "
        "each once (one that fails again stays in the DLQ)",
    )
    _common(sub, suppress=True)
    sub.add_argument("queue", help="the source queue's name (orders-command) or its DLQ's (orders-commands-dlq)")
    sub.add_argument("--to", metavar="QUEUE_URL", help="redrive to this queue instead of the source queue")
    sub.add_argument(
        "--max",
        "--limit",
        dest="limit",
        type=positive_int,
        default=None,
        metavar="N",
        help="move at most N messages (default: all those in the DLQ at the start)",
    )
    sub.add_argument("--dry-run", action="store_true", help="count what would move, move nothing")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(
        prog=PROG,
        description="Send, request, publish and inspect messages of the FIFO messaging system.",
        epilog="exit codes: 0 ok, 1 a failure reply, a timeout or an error, 2 bad arguments, 3 no reply yet",
    )
    _common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _common(sub, suppress=True)
        return sub

    sub = command("notify", "one-way command (or document) to a queue (no reply)")
    _message_args(sub, "queue")
    sub.add_argument(
        "--kind", choices=["command", "document"], default=None, help="message kind (default: the catalogue's)"
    )
    _delay_arg(sub)
    sub = command("send", "command with replyto; prints the correlation id (get the reply later with `reply`)")
    _message_args(sub, "queue")
    _delay_arg(sub)
    sub = command("reply", "the reply to an earlier `send`, by correlation id (exit 3 if none yet)")
    sub.add_argument("correlation_id")
    sub.add_argument("--all", action="store_true", help="every reply so far (scatter-gather), oldest first")
    sub = command("request", "command with replyto, waiting for the reply (exit 1 on a failure reply or a timeout)")
    _message_args(sub, "queue")
    sub.add_argument("-t", "--timeout", type=positive_float, default=10.0, help="seconds to wait (default 10)")
    sub = command("publish", "publish to a topic (pub/sub)")
    _message_args(sub, "topic")
    sub.add_argument(
        "--kind", choices=["event", "command", "document"], default=None, help="message kind (default: the catalogue's)"
    )
    sub = command("scatter-gather", "publish a request to a topic and collect the replies of every responder")
    _message_args(sub, "topic")
    sub.add_argument("-w", "--window", type=positive_float, default=2.0, help="seconds to collect (default 2)")
    sub.add_argument(
        "-n", "--min-replies", type=positive_int, default=None, help="stop as soon as this many replies arrived"
    )
    command("catalogue", "the message types: kind, channel, shard key, data version, reader, schema (--json: with it)")
    sub = command("status", "per queue: visible, in flight, DLQ depth, oldest message age (CloudWatch)")
    sub.add_argument("queues", nargs="*", metavar="QUEUE", help="queue names (default: all)")
    sub.add_argument("--no-age", action="store_true", help="skip CloudWatch (age shown as n/a)")
    dlq = command("dlq", "dead-letter queues: list, redrive, or retry, delete, edit-retry one by one")
    _dlq_actions(dlq)
    sub = command("saga", "a saga's state, steps, replies and timeouts (exit 0 ended, 3 running, 1 failed)")
    sub.add_argument("saga_id", help="the saga's id (the id of the command that started it)")
    sub = command("trace", "what happened to a message: every hop across services, from the functions' logs")
    sub.add_argument("message_id", help="a message id, or the correlation id of a request")
    sub.add_argument(
        "--since",
        type=positive_float,
        default=24 * 60.0,
        metavar="MINUTES",
        help="search the logs of the last MINUTES (default 1440: a day)",
    )
    sub = command("topology", "topics, subscriptions (filters), queues, DLQs and functions as a picture, from cdk.out "
                              "or, where there is none, from the deployed stacks")
    sub.add_argument("--assembly", default=None, type=Path,
                     help="cloud assembly directory (default: cdk.out if there is one, else the deployed stacks' "
                     "templates, read with CloudFormation GetTemplate)")
    sub.add_argument(
        "--format",
        choices=["mermaid", "markdown", "dot", "svg"],
        default="markdown",
        help="markdown (a .md with a Mermaid diagram; default), mermaid, dot, svg (needs Graphviz)",
    )
    sub.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    return parser


def where_options(args: argparse.Namespace) -> str:
    """The options that said where the system is, as typed again (for a hint to run another command).

    Example:
        >>> where_options(argparse.Namespace(endpoint_url="http://localhost:4566", stage="dev", outputs=None))
        ' --endpoint-url http://localhost:4566 --stage dev'
    """
    shown = ""
    for option in ("endpoint_url", "stage", "outputs", "stacks", "region", "profile"):
        value = getattr(args, option, None)
        if value:
            shown += f" --{option.replace('_', '-')} {value}"
    return shown
