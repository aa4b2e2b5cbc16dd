"""The committed contracts (``contracts/``) are what the code generates from the catalogue, the models and the
synthesized app, valid AsyncAPI 3.0.0 and JSON Schema 2020-12, naming every type, channel and service."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from catalogue import CATALOGUE
from cli.topology import load_templates
from contracts.generate import CONTRACTS_DIR, Contracts, differing, generate, read_committed, run, validate
from contracts.schemas import type_schema

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def templates(example_assembly: Path) -> dict[str, dict[str, Any]]:
    return load_templates(example_assembly)


@pytest.fixture(scope="module")
def generated(templates: dict[str, dict[str, Any]]) -> Contracts:
    return generate(CATALOGUE, templates)


def test_the_committed_contracts_are_what_the_code_generates(generated: Contracts) -> None:
    # Given the files in contracts/ and what the catalogue, the models and the app generate
    committed = read_committed(CONTRACTS_DIR)
    # Then they are the same, file for file (make contracts updates them)
    assert differing(committed, generated) == []


def test_make_contracts_check_passes_on_the_committed_contracts(templates: dict[str, dict[str, Any]]) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run(CATALOGUE, templates, CONTRACTS_DIR, check=True, out=out, err=err) == 0, err.getvalue()
    assert f"contracts up to date: {len(CATALOGUE)} message types" in out.getvalue()


def test_the_contracts_are_valid_asyncapi_and_json_schema(generated: Contracts) -> None:
    assert validate(generated) == []
    for schema in generated.schemas.values():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_validator_catches_an_invalid_document_and_a_dangling_reference(generated: Contracts) -> None:
    # Given the document without info, with an unknown top-level field and a reference to nothing
    document = copy.deepcopy(generated.asyncapi)
    del document["info"]
    document["kafka"] = True
    document["channels"]["billing"]["messages"]["orders.OrderCreated"] = {"$ref": "#/components/messages/Nope"}
    broken = Contracts({**generated.files, "asyncapi.yaml": json.dumps(document)})
    # When it is validated
    problems = validate(broken)
    # Then each problem is reported
    assert any("'info' is a required property" in p for p in problems)
    assert any("kafka" in p for p in problems)
    assert any("#/components/messages/Nope: $ref does not resolve" in p for p in problems)


def test_the_document_names_every_catalogued_type_and_every_topic_and_queue(
    generated: Contracts, templates: dict[str, dict[str, Any]]
) -> None:
    document = generated.asyncapi
    # Every type of the catalogue is a message with its schema, and travels on its declared channel
    for name, declared in CATALOGUE.items():
        message = document["components"]["messages"][name]
        assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
        assert message["x-version"] == declared.version
        assert message["headers"]["properties"]["type"]["const"] == name
        assert name in document["channels"][declared.channel]["messages"]
    # Every SNS topic and SQS queue of the app is a channel, with its binding
    names = {
        resource["Properties"].get("TopicName") or resource["Properties"].get("QueueName")
        for template in templates.values()
        for resource in template["Resources"].values()
        if resource["Type"] in ("AWS::SNS::Topic", "AWS::SQS::Queue")
    }
    addresses = {channel["address"].removeprefix("{stage}") for channel in document["channels"].values()}
    assert names == addresses
    billing = document["channels"]["billing"]["bindings"]["sqs"]
    assert billing["queue"]["fifoQueue"] is True
    assert billing["queue"]["redrivePolicy"]["deadLetterQueue"] == {"name": "billing-dlq.fifo"}
    # The subscriptions' filter policies decide what each subscriber queue carries
    assert list(document["channels"]["notifications"]["messages"]) == ["orders.OrderCreated"]
    consumers = document["operations"]["orders.publish"]["bindings"]["sns"]["consumers"]
    assert {c["endpoint"]["name"]: c["filterPolicy"]["type"] for c in consumers} == {
        "billing.fifo": ["orders.OrderCreated", "orders.OrderCancelled"],
        "notifications.fifo": ["orders.OrderCreated"],
    }


def test_every_service_has_its_operations(generated: Contracts) -> None:
    operations = generated.asyncapi["operations"]
    for service in ("orders", "billing", "notifications", "reply-router", "quotes-express"):
        assert operations[f"{service}.receive"]["action"] == "receive"
    assert operations["orders.reply"]["channel"] == {"$ref": "#/channels/replies"}
    assert operations["client.send.orders-commands"]["reply"]["channel"] == {"$ref": "#/channels/replies"}


def test_the_type_schemas_accept_what_the_readers_accept() -> None:
    # Given the published schema of CreateOrder (open) and SettlementReport (strict)
    create = jsonschema.Draft202012Validator(type_schema(CATALOGUE["orders.CreateOrder"]))
    report = jsonschema.Draft202012Validator(type_schema(CATALOGUE["billing.SettlementReport"]))
    line = {"sku": "book", "quantity": 1, "unit_price": "12.50"}
    settlement = {"order_id": "o-1", "customer_id": "c-1", "amount": "5.00", "currency": "EUR"}
    # Then an unknown field is accepted by the open one and refused by the strict one, as the readers do
    assert create.is_valid({"customer_id": "c-1", "lines": [{**line, "discount": "1.00"}], "x": 1})
    assert not create.is_valid({"customer_id": "c-1", "lines": [{**line, "quantity": "lots"}]})
    assert report.is_valid({"provider": "acme", "report_id": "r-1", "settlements": [settlement]})
    assert not report.is_valid({"provider": "acme", "report_id": "r-1", "settlements": [{**settlement, "fee": 1}]})
