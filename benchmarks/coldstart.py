"""Cold starts: a fresh interpreter imports a handler and processes its first message
(:mod:`benchmarks.coldstart_probe`), the product's handler and the baseline's (:mod:`chaos.naive`) interleaved,
medians over ``runs`` each.

The AWS APIs are a moto server in this process (``ThreadedMotoServer``), so the probe imports nothing but the handler
(moto in the probe would import boto3 before the clock starts and hide the import cost we measure).

Every probe is on its handler's normal path: the reply router's first message is a reply to a request (a fresh
random correlation id, as a client draws it), and after each probe :meth:`ProbeWorld.check_normal_path` fails the run
if the message was dead-lettered or, for the reply router, its reply was not stored.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from chaos.naive.common import cloud_event
from messaging.reply_store import DynamoDbReplyStore

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
HANDLERS = {
    # name: (product module, baseline module)
    "orders": ("orders.handler", "chaos.naive.orders"),
    "billing": ("billing.handler", "chaos.naive.billing"),
    "notifications": ("notifications.handler", "chaos.naive.notifications"),
    "quotes": ("quotes.handler", "chaos.naive.quotes"),
    "reply_router": ("reply_router.handler", "chaos.naive.reply_router"),
}


@dataclass(frozen=True)
class ColdStart:
    handler: str
    ours_ms: float
    baseline_ms: float
    ours_import_ms: float
    baseline_import_ms: float

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.baseline_ms


def _cloud_event(type_: str, kind: str, data: dict[str, Any], **extra: str) -> dict[str, Any]:
    return cloud_event(type_, "/bench/coldstart", data, "c-1", kind=kind, **extra)


def _sqs_event(body: dict[str, Any]) -> dict[str, Any]:
    now = str(int(datetime.now(UTC).timestamp() * 1000))
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "probe",
                "body": json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now,
                    "SenderId": "probe",
                    "ApproximateFirstReceiveTimestamp": now,
                    "MessageGroupId": "c-1",
                    "MessageDeduplicationId": body["id"],
                    "SequenceNumber": "1",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:probe.fifo",
                "awsRegion": REGION,
            }
        ]
    }


class ProbeWorld:
    """The resources the probed handlers touch, on a moto server, and one fresh first message per handler."""

    def __init__(self, endpoint: str) -> None:
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto accepts any
            region_name=REGION,
        )
        ddb: Any = session.client("dynamodb", endpoint_url=endpoint)
        sqs: Any = session.client("sqs", endpoint_url=endpoint)
        sns: Any = session.client("sns", endpoint_url=endpoint)

        def table(name: str, *keys: str) -> str:
            ddb.create_table(
                TableName=name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
                KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"), strict=False)],
            )
            return name

        fifo = {"FifoQueue": "true"}
        self._sqs = sqs
        self.reply_store = DynamoDbReplyStore(table("replies", "correlationid", "replyid"), client=ddb)
        self.correlation_id = ""
        self.reply_queue = sqs.create_queue(QueueName="replies.fifo", Attributes=fifo)["QueueUrl"]
        self.env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "STATE_TABLE_NAME": table("state", "pk", "sk"),
            "IDEMPOTENCY_TABLE_NAME": table("dedup", "id"),
            "REPLY_TABLE_NAME": self.reply_store.table_name,
            "EVENT_TOPIC_ARN": sns.create_topic(Name="events.fifo", Attributes={"FifoTopic": "true"})["TopicArn"],
            "DEAD_LETTER_QUEUE_URL": sqs.create_queue(QueueName="dlq.fifo", Attributes=fifo)["QueueUrl"],
            "REPLY_TO_ALLOWLIST": self.reply_queue,
            "QUOTE_RESPONDER_NAME": "express",
            "POWERTOOLS_METRICS_NAMESPACE": "FifoMessaging",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONPATH": os.pathsep.join((str(ROOT / "functions"), str(ROOT))),
        }

    def first_message(self, handler: str) -> dict[str, Any]:
        order = {
            "order_id": f"o-{uuid.uuid4().hex[:12]}",
            "customer_id": "c-1",
            "status": "open",
            "total": "12.50",
            "currency": "EUR",
            "item_count": 1,  # OrderCreated version 2
            "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}],
        }
        self.correlation_id = str(uuid.uuid4())
        bodies: dict[str, Callable[[], dict[str, Any]]] = {
            "orders": lambda: _cloud_event(
                "orders.CreateOrder",
                "command",
                {"customer_id": "c-1", "lines": [{"sku": "book", "quantity": 1, "unit_price": "12.50"}]},
                replyto=self.reply_queue,
            ),
            "billing": lambda: _cloud_event("orders.OrderCreated", "event", order),
            "notifications": lambda: _cloud_event("orders.OrderCreated", "event", order),
            "quotes": lambda: _cloud_event(
                "quotes.RequestQuote", "command", {"weight_kg": "2.5", "destination": "DE"}, replyto=self.reply_queue
            ),
            "reply_router": lambda: _cloud_event(
                "orders.CreateOrder.Reply",
                "reply",
                {"outcome": "success", "result": {}},
                correlationid=self.correlation_id,
            ),
        }
        return _sqs_event(bodies[handler]())

    def check_normal_path(self, handler: str, module: str) -> None:
        """Raise when the last probe left its normal path: a message in the dead-letter queue, or (reply router)
        no stored reply to the request."""
        dead = self._sqs.receive_message(QueueUrl=self.env["DEAD_LETTER_QUEUE_URL"], MaxNumberOfMessages=10)
        if dead.get("Messages"):
            raise RuntimeError(f"cold start of {module}: its first message was dead-lettered")
        if handler == "reply_router" and not self.reply_store.get(self.correlation_id):
            raise RuntimeError(f"cold start of {module}: no reply stored for the request")


def probe(world: ProbeWorld, handler: str, module: str) -> tuple[float, float]:
    """(first message ms, import ms) of one cold start."""
    # Bytecode is cached (a Lambda package ships compiled modules): without it every run would time the compiler.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "PYTHONDONTWRITE"))}
    env = {
        **inherited,
        **world.env,
        "POWERTOOLS_SERVICE_NAME": handler.replace("_", "-"),
    }
    done = subprocess.run(  # noqa: S603 - the project's own interpreter and module
        [sys.executable, "-m", "benchmarks.coldstart_probe", module],
        input=json.dumps(world.first_message(handler)),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("COLDSTART ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"cold start of {module} failed: {done.stderr.strip().splitlines()[-1:]}")
    figures = json.loads(lines[-1].removeprefix("COLDSTART "))
    world.check_normal_path(handler, module)
    return float(figures["first_ms"]), float(figures["import_ms"])


def measure(
    runs: int,
    handlers: tuple[str, ...] = tuple(HANDLERS),
    progress: Callable[[str], None] = print,
) -> list[ColdStart]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    bytecode = tempfile.TemporaryDirectory(prefix="coldstart-pycache-")
    try:
        host, port = server.get_host_and_port()
        world = ProbeWorld(f"http://{host}:{port}")
        # A Lambda package ships compiled modules (pip compiles what it installs): the untimed first probe of each
        # handler writes the bytecode of everything both designs import, outside the checkout, and the timed ones
        # read it, so what is timed is loading and running, not compiling.
        world.env["PYTHONPYCACHEPREFIX"] = bytecode.name
        results = []
        for handler in handlers:
            ours_module, baseline_module = HANDLERS[handler]
            ours: list[tuple[float, float]] = []
            baseline: list[tuple[float, float]] = []
            probe(world, handler, ours_module)  # untimed: writes the bytecode caches of both
            probe(world, handler, baseline_module)
            for n in range(runs):
                progress(f"cold starts: {handler} {n + 1}/{runs}")
                ours.append(probe(world, handler, ours_module))  # interleaved: load drifts hit both alike
                baseline.append(probe(world, handler, baseline_module))
            results.append(
                ColdStart(
                    handler,
                    statistics.median(f for f, _ in ours),
                    statistics.median(f for f, _ in baseline),
                    statistics.median(i for _, i in ours),
                    statistics.median(i for _, i in baseline),
                )
            )
        return results
    finally:
        server.stop()
        bytecode.cleanup()
