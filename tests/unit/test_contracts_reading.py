"""Reading ``data`` by the catalogue: tolerant readers for every kind, strict types, data versions and upcasters, and
the trace context a consumer continues (the example system's catalogue on in-memory fakes)."""

from __future__ import annotations

import copy
import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from pydantic import BaseModel

from billing.models import SettlementReport
from catalogue import CATALOGUE
from messaging.codec import CloudEventJsonCodec
from messaging.consumer import MessageConsumer, MessageContext
from messaging.contracts import Catalogue, MessageType, dataschema_for, read_model
from messaging.envelope import Envelope, Kind, ReplyOutcome, command, document, event, message
from messaging.errors import InvalidRequest, PayloadValidationError, UnsupportedDataVersion
from messaging.settings import ConsumerSettings
from messaging.tracecontext import is_valid, trace_id_of
from messaging.unit_of_work import InMemoryCommitter
from orders.models import CreateOrder, OrderCreated, order_created_v1_to_v2
from tests.support.fakes import InMemoryEventPublisher, RecordingSqsClient
from tests.support.lambda_context import FakeLambdaContext
from tests.support.sqs_events import sqs_event, synthetic_record

pytestmark = pytest.mark.unit

DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/billing-dlq.fifo"
REPLIES = "https://sqs.eu-west-1.amazonaws.com/123456789012/replies.fifo"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
codec = CloudEventJsonCodec()
LINE = {"sku": "book", "quantity": 2, "unit_price": "12.50"}


@dataclass
class Reader:
    consumer: MessageConsumer
    sqs: RecordingSqsClient
    publisher: InMemoryEventPublisher
    logs: io.StringIO
    payloads: list[Any] = field(default_factory=list)

    def handle(self, envelope: Envelope | str) -> dict[str, Any]:
        body = envelope if isinstance(envelope, str) else codec.encode(envelope)
        record = synthetic_record(body, group_id="customer-1")
        return self.consumer.handle(sqs_event([record]), FakeLambdaContext())  # type: ignore[arg-type]

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.sqs.to(DLQ)

    def failure_code(self) -> str:
        [dead] = self.dead_letters()
        return str(dead["MessageAttributes"]["failure-code"]["StringValue"])

    def replies(self) -> list[Envelope]:
        return [codec.decode(call["MessageBody"]) for call in self.sqs.to(REPLIES)]

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.logs.getvalue().splitlines() if line.strip()]


def build_reader(catalogue: Any = CATALOGUE) -> Reader:
    sqs, publisher, logs = RecordingSqsClient(), InMemoryEventPublisher(), io.StringIO()
    consumer = MessageConsumer(
        "billing",
        settings=ConsumerSettings(dead_letter_queue_url=DLQ, reply_to_allowlist=frozenset({REPLIES})),
        sqs_client=sqs,  # type: ignore[arg-type]
        committer=InMemoryCommitter(),
        event_publisher=publisher,
        logger=Logger(service=f"reader-{uuid.uuid4().hex}", stream=logs, level="DEBUG"),
        catalogue=catalogue,
    )
    reader = Reader(consumer, sqs, publisher, logs)

    @consumer.command("orders.CreateOrder", model=CreateOrder)
    def create_order(cmd: CreateOrder, ctx: MessageContext) -> dict[str, Any]:
        reader.payloads.append(cmd)
        ctx.emit("orders.OrderCreated", {"order_id": "o-1"})
        return {"order_id": "o-1"}

    @consumer.event("orders.OrderCreated", model=OrderCreated)
    def on_created(evt: OrderCreated, ctx: MessageContext) -> None:
        reader.payloads.append(evt)

    @consumer.document("billing.SettlementReport", model=SettlementReport)
    def on_report(report: SettlementReport, ctx: MessageContext) -> None:
        reader.payloads.append(report)

    return reader


def order_created(*, version: str | None = "2.0", **data: Any) -> Envelope:
    body = {
        "order_id": "o-1",
        "customer_id": "customer-1",
        "total": "25.00",
        "currency": "EUR",
        "lines": [dict(LINE)],
        "item_count": 2,
        **data,
    }
    evt = event("orders.OrderCreated", body, source="/orders", partitionkey="customer-1")
    schema = dataschema_for("orders.OrderCreated", version) if version else None
    return Envelope(**{**_fields(evt), "dataschema": schema})


def _fields(envelope: Envelope) -> dict[str, Any]:
    return {name: getattr(envelope, name) for name in Envelope.__slots__}


def settlement_report(**extra: Any) -> Envelope:
    settlement = {"order_id": "o-1", "customer_id": "customer-1", "amount": "25.00", "currency": "EUR", **extra}
    data = {"provider": "acme", "report_id": "r-1", "settlements": [settlement]}
    return document("billing.SettlementReport", data, source="/acme", partitionkey="acme")


# -- tolerant readers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Kind.COMMAND, Kind.EVENT, Kind.DOCUMENT])
def test_unknown_fields_are_left_out_of_the_model_and_logged_at_debug_for_every_kind(kind: Kind) -> None:
    # Given a message of each kind whose data and nested line carry fields the model does not know
    reader = build_reader(_tolerant_catalogue())
    if kind is not Kind.COMMAND:
        register = reader.consumer.event if kind is Kind.EVENT else reader.consumer.document
        register("orders.CreateOrder", model=CreateOrder)(lambda payload, ctx: reader.payloads.append(payload))
    line = {**LINE, "discount": "1.00"}
    data = {"customer_id": "customer-1", "lines": [line], "loyalty_tier": "gold"}
    message = Envelope(type="orders.CreateOrder", source="/web", kind=kind, data=data, partitionkey="customer-1")
    # When the consumer reads it
    response = reader.handle(message)
    # Then the handler got its model without the unknown fields, and nothing was dead-lettered
    assert response == {"batchItemFailures": []}
    assert reader.dead_letters() == []
    [payload] = reader.payloads
    assert payload == CreateOrder.model_validate({"customer_id": "customer-1", "lines": [LINE]})
    # And the unknown fields were logged at DEBUG, by path
    [debug] = [line for line in reader.log_lines() if line.get("message") == "unknown fields left out of the model"]
    assert debug["level"] == "DEBUG"
    assert sorted(debug["unknown_fields"]) == ["data.lines.0.discount", "data.loyalty_tier"]


def _tolerant_catalogue() -> Catalogue:
    """orders.CreateOrder readable as each kind (one catalogue per kind would do the same)."""
    return Catalogue(MessageType("orders.CreateOrder", Kind.COMMAND, CreateOrder, shard_key="customer_id"))


def test_an_event_with_an_extra_field_in_data_and_in_a_line_is_processed() -> None:
    # Given the case: an OrderCreated whose line carries a new optional field
    reader = build_reader()
    evt = order_created(lines=[{**LINE, "discount": "1.00"}], campaign="winter")
    # When billing reads it
    reader.handle(evt)
    # Then it was applied with the fields it knows
    [payload] = reader.payloads
    assert isinstance(payload, OrderCreated) and payload.item_count == 2
    assert reader.dead_letters() == []


def test_missing_optional_fields_get_their_defaults() -> None:
    # Given a CreateOrder without currency
    reader = build_reader()
    cmd = command("orders.CreateOrder", {"customer_id": "customer-1", "lines": [LINE]}, source="/web",
                  partitionkey="customer-1")
    # When it is read
    reader.handle(cmd)
    # Then the model has the default
    [payload] = reader.payloads
    assert payload.currency == "EUR"


def test_a_real_failure_next_to_an_unknown_field_is_dead_lettered_naming_the_real_field() -> None:
    # Given a CreateOrder with an unknown field and a quantity that is not a number
    reader = build_reader()
    data = {"customer_id": "customer-1", "admin": True, "lines": [{**LINE, "quantity": "lots"}]}
    cmd = command("orders.CreateOrder", data, source="/web", partitionkey="customer-1", replyto=REPLIES)
    # When it is read
    reader.handle(cmd)
    # Then it is dead-lettered as invalid_payload naming the quantity, and the sender hears it
    [dead] = reader.dead_letters()
    assert dead["MessageAttributes"]["failure-code"]["StringValue"] == "invalid_payload"
    assert dead["MessageAttributes"]["failure-field"]["StringValue"] == "data.lines.0.quantity"
    [reply] = reader.replies()
    assert ReplyOutcome.from_data(reply.data).error_code == "invalid_payload"
    assert reader.payloads == []


def test_a_missing_required_field_is_still_dead_lettered() -> None:
    # Given an OrderCreated v2 without order_id
    reader = build_reader()
    evt = order_created()
    evt = Envelope(**{**_fields(evt), "data": {k: v for k, v in (evt.data or {}).items() if k != "order_id"}})
    # When it is read
    reader.handle(evt)
    # Then it is invalid_payload
    assert reader.failure_code() == "invalid_payload"


def test_a_strict_type_refuses_an_unknown_field_naming_it() -> None:
    # Given a settlement report (strict in the catalogue) with a field Billing does not know
    reader = build_reader()
    assert CATALOGUE["billing.SettlementReport"].strict
    # When it is read
    reader.handle(settlement_report(fee="0.30"))
    # Then it is dead-lettered naming the field, and the handler never ran
    [dead] = reader.dead_letters()
    assert dead["MessageAttributes"]["failure-code"]["StringValue"] == "invalid_payload"
    assert dead["MessageAttributes"]["failure-field"]["StringValue"] == "data.settlements.0.fee"
    assert reader.payloads == []


def test_a_strict_type_reads_a_report_without_unknown_fields() -> None:
    reader = build_reader()
    reader.handle(settlement_report())
    assert [type(p) for p in reader.payloads] == [SettlementReport]


# -- data versions and upcasters ----------------------------------------------------------------------------------


def test_a_v1_order_created_is_read_through_the_upcaster() -> None:
    # Given an OrderCreated as version 1 producers sent it: no dataschema, no item_count
    reader = build_reader()
    v1 = order_created(version=None)
    v1 = Envelope(**{**_fields(v1), "data": {k: v for k, v in (v1.data or {}).items() if k != "item_count"}})
    # When billing (which reads version 2) handles it
    reader.handle(v1)
    # Then the upcaster filled item_count from the lines
    [payload] = reader.payloads
    assert payload.item_count == 2
    assert reader.dead_letters() == []


def test_an_explicit_v1_dataschema_is_upcast_too_and_a_newer_minor_is_read() -> None:
    reader = build_reader()
    v1 = order_created(version="1.0")
    v1 = Envelope(**{**_fields(v1), "data": {k: v for k, v in (v1.data or {}).items() if k != "item_count"}})
    reader.handle(v1)
    reader.handle(order_created(version="2.7", gift_wrap=True))
    assert [p.item_count for p in reader.payloads] == [2, 2]


def test_a_newer_major_version_is_dead_lettered_as_unsupported_data_version() -> None:
    # Given an OrderCreated of version 3.0 (this consumer reads 2.x)
    reader = build_reader()
    # When it is read
    reader.handle(order_created(version="3.0"))
    # Then it is dead-lettered with unsupported_data_version, the field named
    [dead] = reader.dead_letters()
    assert dead["MessageAttributes"]["failure-code"]["StringValue"] == "unsupported_data_version"
    assert dead["MessageAttributes"]["failure-field"]["StringValue"] == "dataschema"
    assert reader.payloads == []


def test_a_command_of_a_newer_major_version_gets_a_failure_reply() -> None:
    # Given a catalogue whose CreateOrder is at 1.0, and a command claiming data version 2.0
    reader = build_reader()
    data = {"customer_id": "customer-1", "lines": [LINE]}
    cmd = message(Kind.COMMAND, "orders.CreateOrder", data, source="/web", partitionkey="customer-1", replyto=REPLIES,
                  dataschema=dataschema_for("orders.CreateOrder", "2.0"))
    # When it is read
    reader.handle(cmd)
    # Then the sender hears unsupported_data_version and the message is dead-lettered
    [reply] = reader.replies()
    outcome = ReplyOutcome.from_data(reply.data)
    assert (outcome.ok, outcome.error_code) == (False, "unsupported_data_version")
    assert reader.failure_code() == "unsupported_data_version"


@pytest.mark.parametrize(
    "dataschema",
    ["urn:fifo-messaging:schema:orders.OrderCancelled:2.0", "https://example.com/order.json", "urn:fifo-messaging:"
     "schema:orders.OrderCreated:two"],
)
def test_a_dataschema_of_another_type_or_form_is_an_invalid_attribute(dataschema: str) -> None:
    reader = build_reader()
    evt = order_created()
    reader.handle(Envelope(**{**_fields(evt), "dataschema": dataschema}))
    assert reader.failure_code() == "invalid_attribute"


def test_v1_data_that_the_upcaster_cannot_read_is_invalid_payload_not_retried() -> None:
    # Given a v1 OrderCreated without lines (the upcaster needs them)
    reader = build_reader()
    evt = Envelope(type="orders.OrderCreated", source="/tests", kind=Kind.EVENT, data={"order_id": "o-1"},
                   partitionkey="customer-1")
    # When it is read
    response = reader.handle(evt)
    # Then it is dead-lettered at once (not reported for a retry)
    assert response == {"batchItemFailures": []}
    assert reader.failure_code() == "invalid_payload"


def test_the_upcaster_is_pure_and_upcasting_does_not_change_the_message() -> None:
    # Given version 1 data
    v1 = {"order_id": "o-1", "lines": [{"sku": "a", "quantity": 2}, {"sku": "b", "quantity": 3}]}
    before = copy.deepcopy(v1)
    # When it is upcast twice, directly and through the catalogue entry
    direct = order_created_v1_to_v2(v1)
    through = CATALOGUE["orders.OrderCreated"].upcast(v1, 1)
    # Then both give item_count 5, the same result, and the input is unchanged
    assert direct == through == {**before, "item_count": 5}
    assert v1 == before


@pytest.mark.parametrize("lines", [[{"quantity": "2"}], [{"quantity": True}], "none", [{}]])
def test_the_upcaster_refuses_data_that_is_not_version_1(lines: Any) -> None:
    with pytest.raises(PayloadValidationError):
        CATALOGUE["orders.OrderCreated"].upcast({"lines": lines}, 1)


def test_a_message_type_needs_an_upcaster_for_every_older_major() -> None:
    class Model(BaseModel):
        name: str

    with pytest.raises(ValueError, match="upcasters from major"):
        MessageType("demo.X", Kind.EVENT, Model, version="3.0", upcasters={2: dict})
    with pytest.raises(ValueError, match="at or above"):
        MessageType("demo.X", Kind.EVENT, Model, version="2.0", upcasters={1: dict, 2: dict})
    with pytest.raises(ValueError, match="major"):
        MessageType("demo.X", Kind.EVENT, Model, version="2")


def test_without_upcasters_an_older_major_is_unsupported() -> None:
    class Model(BaseModel):
        name: str

    declared = MessageType("demo.X", Kind.EVENT, Model, version="2.0")
    with pytest.raises(UnsupportedDataVersion, match="no upcaster"):
        declared.read({"name": "a"}, dataschema=dataschema_for("demo.X", "1.0"))


def test_read_model_names_the_first_real_failure() -> None:
    with pytest.raises(PayloadValidationError) as caught:
        read_model(CreateOrder, {"customer_id": "c-1", "lines": [], "x": 1})
    assert caught.value.field == "data.lines"


# -- the catalogue as clients check it ------------------------------------------------------------------------------


def test_the_catalogue_checks_type_kind_and_schema_before_sending() -> None:
    data = {"customer_id": "customer-1", "lines": [LINE]}
    assert CATALOGUE.check(Kind.COMMAND, "orders.CreateOrder", data).channel == "orders-commands"
    with pytest.raises(InvalidRequest, match=r"unknown message type 'orders\.Teleport'"):
        CATALOGUE.check(Kind.COMMAND, "orders.Teleport", data)
    with pytest.raises(InvalidRequest, match=r"orders\.OrderCreated is an event, not a command"):
        CATALOGUE.check(Kind.COMMAND, "orders.OrderCreated", data)
    with pytest.raises(InvalidRequest, match=r"data\.lines\.0\.quantity"):
        CATALOGUE.check(Kind.COMMAND, "orders.CreateOrder", {"customer_id": "c", "lines": [{**LINE, "quantity": "x"}]})


def test_every_catalogued_type_has_a_model_a_channel_and_a_version() -> None:
    for name, declared in CATALOGUE.items():
        assert declared.model is not None and declared.channel, name
        assert declared.dataschema == f"urn:fifo-messaging:schema:{name}:{declared.version}"


# -- trace context ------------------------------------------------------------------------------------------------


def test_a_consumer_continues_the_trace_in_its_reply_events_and_log_line() -> None:
    # Given a command sent with a traceparent
    reader = build_reader()
    data = {"customer_id": "customer-1", "lines": [LINE]}
    cmd = message(Kind.COMMAND, "orders.CreateOrder", data, source="/web", partitionkey="customer-1", replyto=REPLIES,
                  traceparent=TRACEPARENT)
    # When it is handled
    reader.handle(cmd)
    # Then the reply and the event carry the same trace id with a new parent id
    [reply] = reader.replies()
    [emitted] = reader.publisher.published
    trace_id = trace_id_of(TRACEPARENT)
    assert trace_id_of(reply.traceparent) == trace_id_of(emitted.traceparent) == trace_id
    assert reply.traceparent != TRACEPARENT and is_valid(reply.traceparent)
    # And the event names its data version
    assert emitted.dataschema == CATALOGUE["orders.OrderCreated"].dataschema
    # And the log line of the message carries the trace id
    [processed] = [line for line in reader.log_lines() if line.get("message") == "message processed"]
    assert processed["trace_id"] == trace_id


def test_a_message_without_a_traceparent_starts_a_trace_that_is_the_same_on_every_delivery() -> None:
    reader = build_reader()
    data = {"customer_id": "customer-1", "lines": [LINE]}
    cmd = command("orders.CreateOrder", data, source="/web", partitionkey="customer-1", replyto=REPLIES)
    reader.handle(cmd)
    reader.handle(cmd)  # a redelivery replays the stored outcome
    first, second = reader.replies()
    assert first.traceparent == second.traceparent and is_valid(first.traceparent)


def test_the_trace_context_survives_the_codec() -> None:
    cmd = message(Kind.COMMAND, "orders.CreateOrder", {}, source="/web", partitionkey="c-1", traceparent=TRACEPARENT,
                  dataschema=dataschema_for("orders.CreateOrder", "1.0"))
    decoded = codec.decode(codec.encode(cmd))
    assert (decoded.traceparent, decoded.dataschema) == (cmd.traceparent, cmd.dataschema)
    assert json.loads(codec.encode(cmd))["traceparent"] == TRACEPARENT


class FakeTracer:
    """The part of a Powertools Tracer the consumer uses, recording."""

    def __init__(self) -> None:
        self.subsegments: list[str] = []
        self.annotations: list[tuple[str, str]] = []
        self.provider = self

    def in_subsegment(self, name: str) -> Any:
        import contextlib  # noqa: PLC0415

        self.subsegments.append(name)
        return contextlib.nullcontext()

    def put_annotation(self, key: str, value: str) -> None:
        self.annotations.append((key, value))


def test_each_message_gets_an_xray_subsegment_annotated_with_its_trace_id() -> None:
    # Given a consumer with a tracer, and a command carrying a traceparent
    reader = build_reader()
    tracer = FakeTracer()
    reader.consumer._tracer = tracer  # type: ignore[assignment]
    data = {"customer_id": "customer-1", "lines": [LINE]}
    cmd = message(Kind.COMMAND, "orders.CreateOrder", data, source="/web", partitionkey="customer-1",
                  traceparent=TRACEPARENT)
    # When it is handled
    reader.handle(cmd)
    # Then its subsegment is annotated with the W3C trace id, searchable across functions in X-Ray
    assert len(tracer.subsegments) == 1
    assert tracer.annotations == [("trace_id", trace_id_of(TRACEPARENT))]
