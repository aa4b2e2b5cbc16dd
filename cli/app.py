"""The ``fifo-messaging`` command line (also ``python -m cli``): every messaging style, queue status, DLQ
inspection/redrive, the journey of a message and the topology.

Example:
    $ fifo-messaging --endpoint-url http://localhost:4566 request orders-command orders.CreateOrder \\
          --data '{"customer_id": "customer-42", "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]}'

Exit codes: 0 success; 1 a failure reply, a timeout, or a failed operation (AWS, configuration, missing output, a
dead letter not found); 2 bad arguments (checked before anything is sent: the
partition key, the JSON, the size, and against the catalogue: the type, its kind, the data's schema; an unknown queue or
topic, one named where the other is expected; a refused
confirmation), in one line on stderr; 3 ``reply``: no reply yet. Every error line reads ``error: ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from cli import dlq_actions
from cli import queues as q
from cli.arguments import (
    EXIT_BAD_ARGUMENTS,
    PROG,
    build_parser,
    where_options,
)
from cli.connect import aws_client, find_endpoints
from cli.discovery import deployed_templates, discover_stacks
from cli.endpoints import (
    Endpoints,
    EndpointsError,
    UnknownName,
    stack_names,
)
from cli.errors import UsageError
from cli.render import Output, table
from cli.saga import SagaNotFound, exit_status, find_saga, render, saga_record, saga_tables
from cli.topology import Topology, TopologyError, render_svg, to_dot, to_markdown, to_mermaid
from cli.trace import trace
from cli.whereabouts import lambda_trigger_state, locate, summarize
from messaging.envelope import Kind
from messaging.errors import InvalidRequest, MessagingError, ReplyTimeout

EXIT_OK, EXIT_ERROR, EXIT_NO_REPLY = 0, 1, 3
"""0 success; 1 a failure reply, a timeout or a failed operation; 2 a usage error (:mod:`cli.arguments`); 3
``reply``: no reply yet."""
CLAIM_CHECK_OUTPUT = "ClaimCheckBucketName"
DEFAULT_ASSEMBLY = Path("cdk.out")
DELAYED_GROUP_OUTPUT = "DelayedDeliveryGroupName"
DELAYED_ROLE_OUTPUT = "DelayedDeliveryRoleArn"


class ReplyLike(Protocol):
    @property
    def envelope(self) -> Any: ...
    @property
    def outcome(self) -> Any: ...
    @property
    def correlation_id(self) -> str: ...
    @property
    def responder(self) -> str: ...


class Connection:
    """The AWS side of a command: boto3 clients, the endpoints and the messaging client, all created lazily."""

    def __init__(
        self,
        args: argparse.Namespace,
        *,
        endpoints: Endpoints | None = None,
        client_factory: Callable[[str], Any] | None = None,
    ) -> None:
        """``endpoints`` and ``client_factory`` (service name -> boto3 client) override what the arguments say, e.g.
        for an in-process local cloud: ``Connection(args, endpoints=Endpoints.from_outputs(cloud.outputs),
        client_factory=cloud.client)``."""
        self.args = args
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._endpoints = endpoints
        self._client_factory = client_factory
        self._messaging: Any = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            if self._client_factory is not None:
                self._clients[service] = self._client_factory(service)
                return self._clients[service]
            if self._session is None:
                self._session = boto3.session.Session(profile_name=self.args.profile, region_name=self.args.region)
            self._clients[service] = aws_client(service, endpoint_url=self.args.endpoint_url, session=self._session)
        return self._clients[service]

    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            self._endpoints = self._load_endpoints()
        return self._endpoints

    def _load_endpoints(self) -> Endpoints:
        stacks = [s for s in (self.args.stacks or "").split(",") if s]
        return find_endpoints(
            outputs=self.args.outputs,
            endpoint_url=self.args.endpoint_url,
            stage=self.args.stage,
            stacks=stacks,
            client=self.client,
            environ={},  # the arguments hold the environment's defaults already
        )

    @property
    def messaging(self) -> Any:
        """A ``messaging.client.MessagingClient`` on the reply queue and the reply table of the endpoints."""
        if self._messaging is None:
            # Imported here: status, dlq and topology work without the runtime client and its dependencies.
            from catalogue import CATALOGUE, SHARD_KEYS  # noqa: PLC0415
            from messaging.claim_check import ClaimCheck  # noqa: PLC0415
            from messaging.client import MessagingClient  # noqa: PLC0415
            from messaging.delayed import DelayedDelivery  # noqa: PLC0415
            from messaging.reply_store import DynamoDbReplyStore  # noqa: PLC0415

            endpoints = self.endpoints
            bucket = endpoints.outputs.get(CLAIM_CHECK_OUTPUT)
            group, role = endpoints.outputs.get(DELAYED_GROUP_OUTPUT), endpoints.outputs.get(DELAYED_ROLE_OUTPUT)
            self._messaging = MessagingClient(
                endpoints.reply_queue_url,
                DynamoDbReplyStore(endpoints.reply_table_name, client=self.client("dynamodb")),
                source=self.args.source,
                sqs_client=self.client("sqs"),
                sns_client=self.client("sns"),
                shard_keys=SHARD_KEYS,
                catalogue=CATALOGUE,
                claim_check=ClaimCheck(bucket, client=self.client("s3")) if bucket else None,
                delayed=DelayedDelivery(group, role, client=self.client("scheduler"), sqs_client=self.client("sqs"))
                if group and role
                else None,
            )
        return self._messaging


ConnectionFactory = Callable[[argparse.Namespace], Connection]


@dataclass
class Run:
    args: argparse.Namespace
    out: Output
    conn: Connection


# ---------------------------------------------------------------------------------------------------------- commands


def reply_record(reply: ReplyLike) -> dict[str, Any]:
    outcome = reply.outcome
    record: dict[str, Any] = {
        "correlation_id": reply.correlation_id,
        "responder": reply.responder,
        "outcome": "success" if outcome.ok else "failure",
        "reply_id": reply.envelope.id,
        "type": reply.envelope.type,
        "time": reply.envelope.time.isoformat(),
        "traceparent": reply.envelope.traceparent,
    }
    if outcome.ok:
        record["result"] = dict(outcome.result or {})
    else:
        record["error"] = {"code": outcome.error_code, "message": outcome.error_message}
    return record


def _reply_rows(records: Sequence[dict[str, Any]]) -> str:
    rows = [
        [
            r["responder"],
            r["outcome"],
            r.get("result") if r["outcome"] == "success" else f"{r['error']['code']}: {r['error']['message']}",
        ]
        for r in records
    ]
    return table(["responder", "outcome", "result / error"], rows)


def kind_of(type_name: str, given: str | None, default: Kind) -> Kind:
    """The kind to send ``type_name`` as: ``--kind`` if given, else the catalogue's (``default`` for a type the
    catalogue does not declare; the client then refuses it if it is unknown).

    Example:
        >>> kind_of("orders.OrderCreated", None, Kind.COMMAND), kind_of("x.Y", None, Kind.COMMAND)
        (<Kind.EVENT: 'event'>, <Kind.COMMAND: 'command'>)
    """
    if given:
        return Kind(given)
    from catalogue import CATALOGUE  # noqa: PLC0415 - the runtime is loaded only by the commands that send

    declared = CATALOGUE.get(type_name)
    return declared.kind if declared is not None else default


def check_message(kind: Kind, type_name: str, data: Any) -> None:
    """Refuse, before anything is looked up or sent, a message the catalogue says is wrong: an unknown type, another
    kind, data failing its schema (:meth:`messaging.contracts.Catalogue.check`; a type whose shard key ``make
    service`` registered but the catalogue does not declare passes)."""
    from catalogue import CATALOGUE, SHARD_KEYS  # noqa: PLC0415

    if type_name in CATALOGUE or type_name not in SHARD_KEYS:
        CATALOGUE.check(kind, type_name, data)


def _deliver_at(args: argparse.Namespace) -> datetime | None:
    """The moment ``--delay SECONDS`` names (None without it)."""
    delay: float | None = getattr(args, "delay", None)
    return None if delay is None else datetime.now(UTC) + timedelta(seconds=delay)


def _scheduled_note(run: Run, deliver_at: datetime | None) -> None:
    if deliver_at is not None:
        when = deliver_at.isoformat(timespec="seconds")
        run.out.note(f"scheduled: reaches the queue at {when} (EventBridge Scheduler)")


def cmd_notify(run: Run) -> int:
    conn, args = run.conn, run.args
    kind = kind_of(args.type, args.kind, Kind.COMMAND)
    if kind is Kind.EVENT:  # an event is published to its topic, never sent to one queue
        raise InvalidRequest(f"{args.type} is an event: publish it to its topic (see {PROG} catalogue)")
    check_message(kind, args.type, args.data)
    deliver_at = _deliver_at(args)
    envelope = conn.messaging.notify(
        conn.endpoints.queue_url(args.queue),
        args.type,
        args.data,
        partitionkey=args.partition_key,
        kind=kind,
        traceparent=args.traceparent,
        deliver_at=deliver_at,
    )
    record = {
        "id": envelope.id,
        "type": envelope.type,
        "kind": kind.value,
        "partitionkey": envelope.partitionkey,
        "source": envelope.source,
        "dataref": envelope.dataref,
        "traceparent": envelope.traceparent,
    }
    if deliver_at is not None:
        record["deliver_at"] = deliver_at.isoformat(timespec="seconds")
    if run.out.as_json:
        run.out.json(record)
    else:
        through = f" (data in the claim-check bucket: {envelope.dataref})" if envelope.dataref else ""
        verb = "scheduled" if deliver_at is not None else "sent"
        run.out.write(f"{verb} {envelope.type} id={envelope.id} partitionkey={envelope.partitionkey}{through}")
        _scheduled_note(run, deliver_at)
    return EXIT_OK


def cmd_send(run: Run) -> int:
    conn, args = run.conn, run.args
    check_message(Kind.COMMAND, args.type, args.data)
    deliver_at = _deliver_at(args)
    correlation_id = conn.messaging.send(
        conn.endpoints.queue_url(args.queue),
        args.type,
        args.data,
        partitionkey=args.partition_key,
        traceparent=args.traceparent,
        deliver_at=deliver_at,
    )
    if run.out.as_json:
        record = {"correlation_id": correlation_id, "type": args.type}
        if deliver_at is not None:
            record["deliver_at"] = deliver_at.isoformat(timespec="seconds")
        run.out.json(record)
    else:
        run.out.write(correlation_id)
        _scheduled_note(run, deliver_at)
        run.out.note(f"get the reply with: {PROG}{where_options(args)} reply {correlation_id}")
    return EXIT_OK


def cmd_reply(run: Run) -> int:
    if run.args.all:
        replies = run.conn.messaging.get_replies(run.args.correlation_id)
        if replies:
            _show_replies(run, [reply_record(r) for r in replies], single=False)
            return EXIT_OK
        reply = None
    else:
        reply = run.conn.messaging.get_reply(run.args.correlation_id)
    if reply is None:
        if run.out.as_json:
            run.out.json({"correlation_id": run.args.correlation_id, "outcome": None})
        else:
            run.out.err.write(f"no reply to {run.args.correlation_id} yet (replies are kept for a day; an id no "
                              "request was sent with never gets one)\n")
        return EXIT_NO_REPLY
    _show_replies(run, [reply_record(reply)], single=True)
    return EXIT_OK if reply.outcome.ok else EXIT_ERROR


def cmd_request(run: Run) -> int:
    conn, args = run.conn, run.args
    check_message(Kind.COMMAND, args.type, args.data)
    url = conn.endpoints.queue_url(args.queue)
    with run.out.progress(f"waiting for the reply to {args.type}", total=args.timeout):
        reply = conn.messaging.request(
            url, args.type, args.data, partitionkey=args.partition_key, timeout=args.timeout,
            traceparent=args.traceparent,
        )
    _show_replies(run, [reply_record(reply)], single=True)
    return EXIT_OK if reply.outcome.ok else EXIT_ERROR


def cmd_publish(run: Run) -> int:
    conn, args = run.conn, run.args
    kind = kind_of(args.type, args.kind, Kind.EVENT)
    check_message(kind, args.type, args.data)
    envelope = conn.messaging.publish(
        conn.endpoints.topic_arn(args.topic),
        args.type,
        args.data,
        partitionkey=args.partition_key,
        kind=kind,
        traceparent=args.traceparent,
    )
    record = {
        "id": envelope.id,
        "type": envelope.type,
        "kind": kind.value,
        "partitionkey": envelope.partitionkey,
        "traceparent": envelope.traceparent,
    }
    if run.out.as_json:
        run.out.json(record)
    else:
        run.out.write(f"published {envelope.type} ({kind.value}) id={envelope.id} partitionkey={envelope.partitionkey}")
    return EXIT_OK


def cmd_scatter_gather(run: Run) -> int:
    conn, args = run.conn, run.args
    check_message(Kind.COMMAND, args.type, args.data)
    arn = conn.endpoints.topic_arn(args.topic)
    wanted = f", until {args.min_replies} replies" if args.min_replies else ""
    with run.out.progress(f"collecting replies to {args.type}{wanted}", total=args.window):
        replies = conn.messaging.scatter_gather(
            arn,
            args.type,
            args.data,
            partitionkey=args.partition_key,
            window=args.window,
            min_replies=args.min_replies,
            traceparent=args.traceparent,
        )
    _show_replies(run, [reply_record(r) for r in replies], single=False)
    return EXIT_OK


def _show_replies(run: Run, records: list[dict[str, Any]], *, single: bool) -> None:
    if run.out.as_json:
        run.out.json(records[0] if single else records)
        return
    if records:
        run.out.write(_reply_rows(records))
    run.out.note(
        f"{len(records)} repl{'y' if len(records) == 1 else 'ies'}"
        + (f" to {records[0]['correlation_id']}" if records else "")
    )


def cmd_catalogue(run: Run) -> int:
    """The message types of the catalogue (``functions/catalogue.py``) with their published schema."""
    from catalogue import CATALOGUE  # noqa: PLC0415
    from messaging.contracts import type_schema  # noqa: PLC0415

    records = [
        {
            "type": name,
            "kind": declared.kind.value,
            "channel": declared.channel,
            "shard_key": declared.shard_key,
            "version": declared.version,
            "reader": "strict" if declared.strict else "tolerant",
            "dataschema": declared.dataschema,
            "schema_file": f"contracts/schemas/{name}.json",
            "summary": declared.summary,
            **({"schema": type_schema(declared)} if run.out.as_json and declared.model is not None else {}),
        }
        for name, declared in sorted(CATALOGUE.items())
    ]
    if run.out.as_json:
        run.out.json(records)
        return EXIT_OK
    rows = [
        [r["type"], r["kind"], r["channel"], r["shard_key"] or "-", r["version"], r["reader"], r["schema_file"]]
        for r in records
    ]
    run.out.write(table(["type", "kind", "channel", "shard key", "version", "reader", "schema"], rows))
    run.out.note(f"{len(records)} message types; contracts/asyncapi.yaml describes the channels (make contracts)")
    return EXIT_OK


def cmd_status(run: Run) -> int:
    endpoints = run.conn.endpoints
    selected = [endpoints.queue(name) for name in run.args.queues] if run.args.queues else list(endpoints.queues)
    cloudwatch = None if run.args.no_age else run.conn.client("cloudwatch")
    statuses = q.status(run.conn.client("sqs"), cloudwatch, selected)
    if run.out.as_json:
        run.out.json(statuses)
        return EXIT_OK
    rows = [
        [s.name, s.visible, s.in_flight, s.dead_letters, s.oldest_age_seconds, s.dead_letter_oldest_age_seconds]
        for s in statuses
    ]
    run.out.write(table(["queue", "visible", "in flight", "dlq", "oldest age s", "dlq oldest age s"], rows))
    return EXIT_OK


def cmd_dlq(run: Run) -> int:
    queue = dlq_actions.queue_or_its_dlq(run.conn.endpoints, run.args.queue)
    return dlq_actions.ACTIONS[run.args.dlq_command](run.args, run.out, run.conn.client("sqs"), queue)


def cmd_trace(run: Run) -> int:
    start_ms = int((time.time() - 60 * run.args.since) * 1000)
    journey = trace(run.conn.client("logs"), run.args.message_id, start_ms=start_ms)
    sqs = run.conn.client("sqs")
    trigger_state = lambda_trigger_state(sqs, run.conn.client("lambda"))
    location = locate(sqs, run.conn.endpoints.queues, run.args.message_id, trigger_state=trigger_state)
    now = summarize(journey, location)
    if run.out.as_json:
        run.out.json({"id": journey.root, "now": now, "location": location.as_dict() if location else None,
                      "messages": journey.messages, "hops": [vars_of(h) for h in journey.hops]})
    else:
        if journey.hops:
            run.out.write(journey.render())
        run.out.write(f"now: {now}")
    if not journey.hops and location is None:
        run.out.err.write(f"error: no queue holds {journey.root} and no log line of the last {run.args.since:g} "
                          "minutes mentions it\n")
        return EXIT_ERROR
    return EXIT_OK


def cmd_topology(run: Run) -> int:
    args = run.args
    if args.assembly is not None or DEFAULT_ASSEMBLY.is_dir():
        topology = Topology.from_assembly(args.assembly or DEFAULT_ASSEMBLY)
    else:  # outside a checkout: what is deployed
        stacks = tuple(s for s in (args.stacks or "").split(",") if s) or discover_stacks(
            run.conn.client("ssm"), args.stage, stack_names(args.stage))
        topology = Topology.from_templates(deployed_templates(run.conn.client("cloudformation"), stacks))
    if args.json:
        text = (
            json.dumps(
                {"nodes": [vars_of(n) for n in topology.nodes], "edges": [vars_of(e) for e in topology.edges]}, indent=2
            )
            + "\n"
        )
    elif args.format == "mermaid":
        text = to_mermaid(topology)
    elif args.format == "markdown":
        text = to_markdown(topology)
    elif args.format == "dot":
        text = to_dot(topology)
    else:
        text = render_svg(to_dot(topology))
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        run.out.note(f"wrote {args.output} ({len(topology.nodes)} nodes, {len(topology.edges)} edges)")
    else:
        run.out.out.write(text)
    return EXIT_OK


def vars_of(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = asdict(value)
    return result


def _shorten(text: str | None, width: int) -> str | None:
    if text is None or len(text) <= width:
        return text
    return text[: width - 1] + "…"


def cmd_saga(run: Run) -> int:
    conn = run.conn
    try:
        state = find_saga(run.args.saga_id, saga_tables(conn.endpoints.outputs), conn.client("dynamodb"))
    except SagaNotFound as exc:
        run.out.err.write(f"error: {exc}\n")
        return EXIT_ERROR
    if run.out.as_json:
        run.out.json(saga_record(state))
    else:
        run.out.write(render(state, table))
    return exit_status(state)


COMMANDS: dict[str, Callable[[Run], int]] = {
    "notify": cmd_notify,
    "send": cmd_send,
    "reply": cmd_reply,
    "request": cmd_request,
    "publish": cmd_publish,
    "scatter-gather": cmd_scatter_gather,
    "status": cmd_status,
    "dlq": cmd_dlq,
    "trace": cmd_trace,
    "topology": cmd_topology,
    "catalogue": cmd_catalogue,
    "saga": cmd_saga,
}


# ---------------------------------------------------------------------------------------------------------- main


def main(  # noqa: PLR0911 - one exit per kind of failure
    argv: Sequence[str] | None = None,
    *,
    connect: ConnectionFactory = Connection,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the CLI; returns the exit code. ``connect`` builds the AWS side (tests inject fakes)."""
    args = build_parser().parse_args(argv)
    err = stderr if stderr is not None else sys.stderr
    out = Output(as_json=args.json, quiet=args.quiet, out=stdout, err=err)
    try:
        return COMMANDS[args.command](Run(args=args, out=out, conn=connect(args)))
    except ReplyTimeout as exc:
        err.write(f"error: timed out: no reply to {exc.correlation_id} within {exc.timeout:g}s\n")
        return EXIT_ERROR
    except (InvalidRequest, UsageError, UnknownName) as exc:  # arguments refused before anything was done
        err.write(f"error: {_one_line(str(exc))}\n")
        return EXIT_BAD_ARGUMENTS
    except ClientError as exc:
        error = exc.response.get("Error", {})
        err.write(f"error: {exc.operation_name} failed: {error.get('Code', 'Unknown')}: {error.get('Message', '')}\n")
        return EXIT_ERROR
    except (BotoCoreError, EndpointsError, TopologyError, MessagingError) as exc:
        err.write(f"error: {_one_line(str(exc))}\n")
        return EXIT_ERROR
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        err.write(f"error: {where}{_one_line(exc.strerror or str(exc))}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return 130


def _one_line(text: str) -> str:
    return " ".join(text.split())


def console() -> None:
    """The ``fifo-messaging`` console script (``make setup`` installs it into ``.venv/bin``)."""
    sys.exit(main())
