"""The example system end to end on an embedded local cloud: every messaging style, run and checked.

``make demo`` synthesizes the CDK app (asset bundling skipped), deploys the templates into an in-process moto, runs
the Lambda handlers through the event-source-mapping emulator, and then runs one scenario per messaging style. Every
scenario checks what it claims against the state the services left behind (tables, reply store, dead-letter queues,
invocation records); the exit code is 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))

from catalogue import SHARD_KEYS  # noqa: E402
from localcloud import LocalCloud, LocalCloudError, synthesize  # noqa: E402
from messaging.channels import QueueSender  # noqa: E402
from messaging.claim_check import ClaimCheck  # noqa: E402
from messaging.client import MessagingClient, Reply  # noqa: E402
from messaging.envelope import command  # noqa: E402
from messaging.errors import ReplyTimeout  # noqa: E402
from messaging.reply_store import DynamoDbReplyStore  # noqa: E402

DEMO_ASSEMBLY = ROOT / ".localcloud" / "demo.out"
FUNCTION_LOG = ROOT / ".localcloud" / "demo-functions.log"
DRAIN_TIMEOUT = 30.0
FIFO_DEDUP_WINDOW_SECONDS = 300


class CheckFailedError(AssertionError):
    """A demo check did not hold."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailedError(message)


@dataclass
class StepResult:
    style: str
    check: str
    passed: bool = False
    detail: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class Transcript:
    """Prints each step as it runs and keeps the results for the summary table."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.results: list[StepResult] = []

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @contextmanager
    def step(self, style: str, check: str) -> Iterator[StepResult]:
        result = StepResult(style, check)
        self.say(f"\n== {style}: {check}")
        started = time.perf_counter()
        try:
            yield result
            result.passed = True
        except CheckFailedError as failure:
            result.detail = str(failure)
        except Exception as error:  # any error fails the step and the demo, with its type named
            result.detail = f"{type(error).__name__}: {error}"
        result.seconds = time.perf_counter() - started
        verdict = "ok" if result.passed else f"FAILED: {result.detail}"
        self.say(f"   -> {verdict} ({result.seconds:.2f} s)")
        self.results.append(result)

    def summary(self) -> bool:
        width_style = max(len(r.style) for r in self.results)
        width_check = max(len(r.check) for r in self.results)
        self.say("\nSummary")
        header = f"  {'style':<{width_style}}  {'check':<{width_check}}  result  seconds"
        self.say(header)
        self.say("  " + "-" * (len(header) - 2))
        for r in self.results:
            verdict = "PASS" if r.passed else "FAIL"
            self.say(f"  {r.style:<{width_style}}  {r.check:<{width_check}}  {verdict:<6}  {r.seconds:7.2f}")
        passed = sum(r.passed for r in self.results)
        self.say(f"\n{passed} passed, {len(self.results) - passed} failed")
        return passed == len(self.results)


def order_data(customer: str, sku: str = "book", quantity: int = 1, price: str = "12.50") -> dict[str, Any]:
    return {"customer_id": customer, "lines": [{"sku": sku, "quantity": quantity, "unit_price": price}]}


class System:
    """The deployed example system as the demo sees it: the client, the outputs, and read access to service state."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.outputs = cloud.outputs
        self.sqs = cloud.client("sqs")
        self.dynamodb = cloud.client("dynamodb")
        self.client = MessagingClient(
            self.outputs["ReplyQueueUrl"],
            DynamoDbReplyStore(self.outputs["ReplyTableName"], client=self.dynamodb),
            source="/demo/client",
            sqs_client=self.sqs,
            sns_client=cloud.client("sns"),
            shard_keys=SHARD_KEYS,
            claim_check=ClaimCheck(self.outputs["ClaimCheckBucketName"], client=cloud.client("s3")),
        )
        self.orders_queue = self.outputs["OrdersCommandQueueUrl"]

    def drain(self) -> None:
        expect(self.cloud.drain(timeout=DRAIN_TIMEOUT, advance_clock=True), f"queues not idle after {DRAIN_TIMEOUT} s")

    def items(self, table_output: str, customer: str) -> list[dict[str, Any]]:
        response = self.dynamodb.query(
            TableName=self.outputs[table_output],
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CUSTOMER#{customer}"}},
            ConsistentRead=True,
        )
        items: list[dict[str, Any]] = response["Items"]
        return items

    def orders(self, customer: str) -> list[dict[str, Any]]:
        return [item for item in self.items("OrdersTableName", customer) if item["sk"]["S"].startswith("ORDER#")]

    def function_names(self, handler: str) -> list[str]:
        return [name for name, fn in self.cloud.functions.items() if fn.spec.handler == handler]

    def dead_letters(self, output: str) -> list[dict[str, Any]]:
        """Every message of a dead-letter queue (received, then made visible again)."""
        url = self.outputs[output]
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
                VisibilityTimeout=30,
            ).get("Messages", [])
            if not batch:
                break
            messages.extend(batch)
        for message in messages:
            self.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        return messages


def success(reply: Reply | None, what: str) -> dict[str, Any]:
    expect(reply is not None, f"no reply to {what}")
    assert reply is not None
    expect(reply.outcome.ok, f"{what} failed: {reply.outcome.error_code} {reply.outcome.error_message}")
    return dict(reply.outcome.result or {})


def notification(system: System, t: Transcript) -> None:
    with t.step("notification", "one-way CreateOrder creates one order, no reply"):
        sent = system.client.notify(
            system.orders_queue, "orders.CreateOrder", order_data("cust-notify"), partitionkey="cust-notify"
        )
        t.say(f"   sent {sent.type} id={sent.id} (no replyto)")
        system.drain()
        orders = system.orders("cust-notify")
        expect(len(orders) == 1, f"expected 1 order, found {len(orders)}")
        expect(system.client.get_replies(sent.id) == [], "a notification must not produce a reply")
        t.say(f"   order {orders[0]['order_id']['S']} created; no reply stored for {sent.id}")


def async_request(system: System, t: Transcript) -> None:
    with t.step("request / async response", "send now, fetch the correlated reply later"):
        correlation_id = system.client.send(
            system.orders_queue, "orders.CreateOrder", order_data("cust-async"), partitionkey="cust-async"
        )
        t.say(f"   sent CreateOrder, correlation id {correlation_id}; the requester goes on with other work")
        system.drain()
        result = success(system.client.get_reply(correlation_id), "CreateOrder")
        t.say(
            f"   later: get_reply -> success, order {result['order_id']} total {result['total']} {result['currency']}"
        )
        expect(result["customer_id"] == "cust-async", "reply belongs to another request")


def blocking_request(system: System, t: Transcript) -> None:
    with t.step("request / response (blocking)", "reply within the timeout; timeout typed; late reply kept"):
        started = time.perf_counter()
        reply = system.client.request(
            system.orders_queue, "orders.CreateOrder", order_data("cust-block"), partitionkey="cust-block", timeout=15
        )
        result = success(reply, "CreateOrder")
        t.say(f"   request -> order {result['order_id']} in {1000 * (time.perf_counter() - started):.0f} ms")
        system.cloud.stop_pollers()
        t.say("   consumers stopped (the orders service is down); a request with a 0.5 s timeout ...")
        try:
            system.client.request(
                system.orders_queue,
                "orders.CreateOrder",
                order_data("cust-block"),
                partitionkey="cust-block",
                timeout=0.5,
            )
        except ReplyTimeout as timeout:
            late_id = timeout.correlation_id
            t.say(f"   ... raises ReplyTimeout ({timeout})")
        else:
            raise CheckFailedError("request returned although no consumer was running")
        system.cloud.start_pollers()
        system.drain()
        late = success(system.client.get_reply(late_id), "late CreateOrder")
        t.say(f"   consumer back: the late reply is retrievable by its correlation id: order {late['order_id']}")


def publish_subscribe(system: System, t: Transcript) -> None:
    with t.step("publish / subscribe", "OrderCreated to billing + notifications, OrderCancelled to billing only"):
        created = success(
            system.client.request(
                system.orders_queue,
                "orders.CreateOrder",
                order_data("cust-pubsub", quantity=2),
                partitionkey="cust-pubsub",
                timeout=15,
            ),
            "CreateOrder",
        )
        order_id = created["order_id"]
        cancelled = success(
            system.client.request(
                system.orders_queue,
                "orders.CancelOrder",
                {"customer_id": "cust-pubsub", "order_id": order_id, "reason": "demo"},
                partitionkey="cust-pubsub",
                timeout=15,
            ),
            "CancelOrder",
        )
        expect(cancelled["status"] == "cancelled", "order not cancelled")
        system.drain()
        billing = sorted(item["sk"]["S"] for item in system.items("BillingTableName", "cust-pubsub"))
        notifications = sorted(item["sk"]["S"] for item in system.items("NotificationsTableName", "cust-pubsub"))
        t.say(f"   billing ledger:        {billing}")
        t.say(f"   notifications outbox:  {notifications}")
        expect(billing == [f"CREDIT_NOTE#{order_id}", f"INVOICE#{order_id}"], "billing must see both events")
        expect(notifications == [f"NOTIFICATION#{order_id}"], "notifications must see OrderCreated only (filter)")


def scatter_gather(system: System, t: Transcript) -> None:
    topic = system.outputs["QuoteRequestsTopicArn"]

    def ask_for_quotes(parcel: dict[str, Any]) -> list[Reply]:
        return system.client.scatter_gather(
            topic, "quotes.RequestQuote", parcel, partitionkey="cust-quote", window=15, min_replies=3
        )

    with t.step("publish / async response", "quote request answered by three responders"):
        replies = ask_for_quotes({"weight_kg": "2.5", "destination": "FR"})
        quotes = sorted((success(r, "RequestQuote") for r in replies), key=lambda q: float(q["price"]))
        for quote in quotes:
            days = quote["delivery_days"]
            t.say(f"   {quote['responder']:<9} {quote['price']:>6} {quote['currency']}  {days} day(s)")
        expect(
            sorted(q["responder"] for q in quotes) == ["economy", "express", "standard"], "expected three responders"
        )
        t.say(f"   cheapest: {quotes[0]['responder']}")
    with t.step("publish / async response", "heavy parcel: two quotes and one refusal"):
        replies = ask_for_quotes({"weight_kg": "40", "destination": "DE"})
        refusals = [r for r in replies if not r.outcome.ok]
        expect(len(replies) == 3, f"expected 3 replies, got {len(replies)}")
        expect([r.outcome.error_code for r in refusals] == ["too_heavy"], "express must refuse a 40 kg parcel")
        refusal = refusals[0]
        accepted = len(replies) - len(refusals)
        t.say(f"   {accepted} quotes, refusal from {refusal.responder}: {refusal.outcome.error_message}")


def ordering(system: System, t: Transcript, customers: int = 8, per_customer: int = 10) -> None:
    total = customers * per_customer
    with t.step("sharding", f"{total} orders on {customers} shards: order kept per shard, shards in parallel"):
        keys = [f"cust-shard-{n}" for n in range(customers)]
        system.cloud.stop_pollers()
        for sequence in range(per_customer):
            for key in keys:
                data = order_data(key, sku=f"seq-{sequence:02d}")
                system.client.notify(system.orders_queue, "orders.CreateOrder", data, partitionkey=key)
        t.say(f"   backlog of {total} CreateOrder built while the consumer was paused, shards interleaved")
        system.cloud.start_pollers()
        system.drain()
        for key in keys:
            orders = sorted(system.orders(key), key=lambda item: item["created_at"]["S"])
            skus = [json.loads(item["lines"]["S"])[0]["sku"] for item in orders]
            expect(skus == [f"seq-{n:02d}" for n in range(per_customer)], f"{key} processed out of order: {skus}")
        (orders_function,) = system.function_names("orders.handler.lambda_handler")
        batches = [
            i for i in system.cloud.invocations if i.function_name == orders_function and set(i.group_ids) & set(keys)
        ]
        peak = peak_overlap([(b.started, b.ended) for b in batches])
        for key in keys:
            spans = [(b.started, b.ended) for b in batches if key in b.group_ids]
            expect(peak_overlap(spans) <= 1, f"two batches of group {key} ran at once")
        t.say(f"   {len(batches)} batches, never two of one shard at once, up to {peak} batches in parallel")
        t.say("   every shard's orders were created in the order they were sent")
        expect(peak >= 2, "shards were not processed in parallel")


def peak_overlap(spans: list[tuple[float, float]]) -> int:
    """The largest number of (start, end) spans running at one moment."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    peak = current = 0
    for _, delta in edges:
        current += delta
        peak = max(peak, current)
    return peak


def duplicate_delivery(system: System, t: Transcript) -> None:
    with t.step("idempotency", "a CreateOrder delivered twice: one order, one event, one reply"):
        message = command(
            "orders.CreateOrder",
            order_data("cust-dup"),
            source="/demo/client",
            partitionkey="cust-dup",
            replyto=system.outputs["ReplyQueueUrl"],
        )
        sender = QueueSender(system.orders_queue, client=system.sqs)
        sender.send(message)
        sender.send(message)
        t.say("   sent twice within 5 minutes: SQS FIFO drops the second copy (same deduplication id)")
        system.drain()
        system.cloud.clock.advance(FIFO_DEDUP_WINDOW_SECONDS + 1)
        sender.send(message)
        t.say(
            "   clock moved past the 5-minute dedup window, sent again: SQS delivers it, the consumer must not re-run"
        )
        system.drain()
        orders = system.orders("cust-dup")
        invoices = [i for i in system.items("BillingTableName", "cust-dup") if i["sk"]["S"].startswith("INVOICE#")]
        notes = system.items("NotificationsTableName", "cust-dup")
        replies = system.client.get_replies(message.id)
        t.say(f"   orders={len(orders)} invoices={len(invoices)} notifications={len(notes)} replies={len(replies)}")
        expect(len(orders) == 1, f"{len(orders)} orders for one command")
        expect(len(invoices) == 1 and len(notes) == 1, "the OrderCreated event was applied more than once")
        expect(len(replies) == 1, f"{len(replies)} replies for one command")


def poison_message(system: System, t: Transcript) -> None:
    with t.step("dead-letter queue", "poison messages go to the DLQ with a reason; their group moves on"):
        system.sqs.send_message(
            QueueUrl=system.orders_queue,
            MessageBody="this is not JSON",
            MessageGroupId="cust-poison",
            MessageDeduplicationId="poison-1",
        )
        unknown = system.client.send(
            system.orders_queue, "orders.ShipOrder", {"customer_id": "cust-poison"}, partitionkey="cust-poison"
        )
        good = system.client.send(
            system.orders_queue, "orders.CreateOrder", order_data("cust-poison"), partitionkey="cust-poison"
        )
        system.drain()
        dead = system.dead_letters("OrdersCommandDeadLetterQueueUrl")
        codes = {}
        for message in dead:
            attributes = message.get("MessageAttributes", {})
            code = attributes.get("failure-code", {}).get("StringValue", "?")
            codes[code] = attributes.get("failure-reason", {}).get("StringValue", "")
        for code, reason in sorted(codes.items()):
            t.say(f"   DLQ: {code:<14} {reason}")
        expect({"not_json", "unknown_type"} <= set(codes), f"DLQ holds {sorted(codes)}")
        refusal = system.client.get_reply(unknown)
        expect(
            refusal is not None and refusal.outcome.error_code == "unknown_type",
            "the requester of an unknown type gets a failure reply",
        )
        success(system.client.get_reply(good), "CreateOrder after the poison messages")
        t.say("   the unknown command's requester got a failure reply; the next order in the same group went through")


SCENARIOS: list[Callable[[System, Transcript], None]] = [
    notification,
    async_request,
    blocking_request,
    publish_subscribe,
    scatter_gather,
    ordering,
    duplicate_delivery,
    poison_message,
]


def main(argv: list[str], out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--assembly", type=Path, help="use this synthesized cloud assembly instead of synthesizing one")
    args = parser.parse_args(argv)
    try:
        return run(args.assembly, out)
    except LocalCloudError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")


def run(assembly: Path | None, out: TextIO) -> int:
    """Synthesize (unless ``assembly`` is given), deploy, run every scenario; 0 only if every check passed."""
    t = Transcript(out)
    started = time.perf_counter()
    if assembly is None:
        t.say(f"synthesizing the CDK app into {DEMO_ASSEMBLY.relative_to(ROOT)} (asset bundling skipped) ...")
        assembly = synthesize(DEMO_ASSEMBLY, app_dir=ROOT)
    FUNCTION_LOG.parent.mkdir(parents=True, exist_ok=True)
    t.say(f"function logs (what CloudWatch Logs would hold) go to {FUNCTION_LOG.relative_to(ROOT)}")
    with FUNCTION_LOG.open("w") as function_log, redirect_stdout(function_log), LocalCloud() as cloud:
        deployment = cloud.deploy(assembly)
        cloud.start_pollers()
        t.say(
            f"deployed {len(deployment.stacks)} stacks into the local cloud: {len(deployment.functions)} functions, "
            f"{len(deployment.queues)} queues, {len(deployment.mappings)} event source mappings "
            f"({time.perf_counter() - started:.1f} s)"
        )
        system = System(cloud)
        for scenario in SCENARIOS:
            scenario(system, t)
    all_passed = t.summary()
    t.say(f"total {time.perf_counter() - started:.1f} s")
    return 0 if all_passed else 1
