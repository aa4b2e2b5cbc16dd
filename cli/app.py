"""The ``fifo-messaging`` command line (also ``python -m cli``): every messaging style, queue status, DLQ
inspection/redrive, the journey of a message and the topology.

Example:
    $ fifo-messaging --endpoint-url http://localhost:4566 request orders-command orders.CreateOrder \\
          --data '{"customer_id": "customer-42", "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]}'

Exit codes: 0 success; 1 a failure reply, a timeout, or a failed operation (AWS, configuration, missing output);
2 bad arguments (checked before anything is sent: the partition key, the JSON, the size), in one line on stderr;
3 ``reply``: no reply yet.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from cli import queues as q
from cli.arguments import (
    EXIT_BAD_ARGUMENTS,
    PROG,
    build_parser,
    where_options,
)
from cli.connect import aws_client, find_endpoints
from cli.endpoints import (
    Endpoints,
    EndpointsError,
    QueueEndpoint,
    UnknownName,
)
from cli.render import Output, table
from cli.saga import SagaNotFound, exit_status, find_saga, render, saga_record, saga_tables
from cli.topology import Topology, TopologyError, render_svg, to_dot, to_markdown, to_mermaid
from cli.trace import trace
from messaging.envelope import Kind
from messaging.errors import InvalidRequest, MessagingError, ReplyTimeout

EXIT_OK, EXIT_ERROR, EXIT_NO_REPLY = 0, 1, 3
"""0 success; 1 a failure reply, a timeout or a failed operation; 2 a usage error (:mod:`cli.arguments`); 3
``reply``: no reply yet."""
CLAIM_CHECK_OUTPUT = "ClaimCheckBucketName"
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
            from catalogue import SHARD_KEYS  # noqa: PLC0415
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
    deliver_at = _deliver_at(args)
    envelope = conn.messaging.notify(
        conn.endpoints.queue_url(args.queue),
        args.type,
        args.data,
        partitionkey=args.partition_key,
        kind=Kind(args.kind),
        deliver_at=deliver_at,
    )
    record = {
        "id": envelope.id,
        "type": envelope.type,
        "kind": args.kind,
        "partitionkey": envelope.partitionkey,
        "source": envelope.source,
        "dataref": envelope.dataref,
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
    deliver_at = _deliver_at(args)
    correlation_id = conn.messaging.send(
        conn.endpoints.queue_url(args.queue), args.type, args.data, partitionkey=args.partition_key,
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
            run.out.err.write(f"no reply to {run.args.correlation_id} yet\n")
        return EXIT_NO_REPLY
    _show_replies(run, [reply_record(reply)], single=True)
    return EXIT_OK if reply.outcome.ok else EXIT_ERROR


def cmd_request(run: Run) -> int:
    conn, args = run.conn, run.args
    url = conn.endpoints.queue_url(args.queue)
    with run.out.progress(f"waiting for the reply to {args.type}", total=args.timeout):
        reply = conn.messaging.request(url, args.type, args.data, partitionkey=args.partition_key, timeout=args.timeout)
    _show_replies(run, [reply_record(reply)], single=True)
    return EXIT_OK if reply.outcome.ok else EXIT_ERROR


def cmd_publish(run: Run) -> int:
    conn, args = run.conn, run.args
    envelope = conn.messaging.publish(
        conn.endpoints.topic_arn(args.topic),
        args.type,
        args.data,
        partitionkey=args.partition_key,
        kind=Kind(args.kind),
    )
    record = {"id": envelope.id, "type": envelope.type, "kind": args.kind, "partitionkey": envelope.partitionkey}
    if run.out.as_json:
        run.out.json(record)
    else:
        run.out.write(f"published {envelope.type} ({args.kind}) id={envelope.id} partitionkey={envelope.partitionkey}")
    return EXIT_OK


def cmd_scatter_gather(run: Run) -> int:
    conn, args = run.conn, run.args
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


def _queue_or_its_dlq(endpoints: Endpoints, name: str) -> QueueEndpoint:
    """The queue called ``name``, or the queue whose dead-letter queue is called ``name`` (``.fifo`` optional)."""
    try:
        return endpoints.queue(name)
    except UnknownName:
        wanted = name.removesuffix(".fifo")
        for queue in endpoints.queues:
            if queue.dead_letter_url and q.queue_name_of(queue.dead_letter_url).removesuffix(".fifo") == wanted:
                return queue
        raise


def cmd_dlq(run: Run) -> int:
    queue = _queue_or_its_dlq(run.conn.endpoints, run.args.queue)
    sqs = run.conn.client("sqs")
    if run.args.dlq_command == "list":
        listing = q.list_dead_letters(sqs, queue, limit=run.args.limit)
        if run.out.as_json:
            run.out.json(listing)
            return EXIT_OK
        rows = [
            [
                m.group_id,
                m.sent_at.strftime("%Y-%m-%d %H:%M:%S") if m.sent_at else None,
                m.type,
                m.failure_code,
                _shorten(m.failure_reason, 60),
                m.message_id,
            ]
            for m in listing.messages
        ]
        run.out.write(table(["group", "sent (UTC)", "type", "failure code", "reason", "message id"], rows))
        more = f" of about {listing.approximate_depth}" if listing.truncated else ""
        run.out.note(f"{len(listing.messages)}{more} message(s) in {listing.dead_letter_url} (left in place)")
        return EXIT_OK
    verb = "would move" if run.args.dry_run else "moved"

    def progress(moved: int, skipped: int, failed: int, budget: int) -> None:
        run.out.note(f"redrive {queue.name}: {moved}/{budget} {verb}, {skipped} skipped, {failed} failed")

    result = q.redrive(
        sqs, queue, destination_url=run.args.to, limit=run.args.limit, dry_run=run.args.dry_run, progress=progress
    )
    if run.out.as_json:
        run.out.json(result)
    else:
        run.out.write(
            f"{'dry run: ' if result.dry_run else ''}{verb} {result.moved}, skipped {result.skipped}, failed "
            f"{len(result.failed)} of the {result.budget} message(s) in {queue.name}'s DLQ at the start "
            f"({len(result.groups)} group(s))"
        )
        for failure in result.failed:
            run.out.err.write(f"not moved: {failure['message_id']}: {failure['error']}\n")
    return EXIT_ERROR if result.failed else EXIT_OK


def cmd_trace(run: Run) -> int:
    start_ms = int((time.time() - 60 * run.args.since) * 1000)
    journey = trace(run.conn.client("logs"), run.args.message_id, start_ms=start_ms)
    if run.out.as_json:
        run.out.json({"id": journey.root, "messages": journey.messages, "hops": [vars_of(h) for h in journey.hops]})
    else:
        run.out.write(journey.render())
    if not journey.hops:
        run.out.err.write(f"error: no log line of the last {run.args.since:g} minutes mentions {journey.root}\n")
        return EXIT_ERROR
    return EXIT_OK


def cmd_topology(run: Run) -> int:
    args = run.args
    topology = Topology.from_assembly(args.assembly)
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
    except InvalidRequest as exc:  # arguments the client refused before sending anything
        err.write(f"{PROG}: error: {_one_line(str(exc))}\n")
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
