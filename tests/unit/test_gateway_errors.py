"""The endpoint never answers an AWS API call with an HTML page: a request moto fails on gets the protocol's error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client

from localcloud.gateway import Gateway

pytestmark = pytest.mark.unit


def crashing_backend(environ: dict[str, Any], start_response: Any) -> Any:
    raise TypeError("Strings must be encoded before hashing")


def test_a_json_protocol_call_that_fails_in_moto_gets_a_json_error() -> None:
    # Given the gateway in front of a backend that fails on the request (as moto did on ReceiveMessage)
    client = Client(Gateway({}, crashing_backend))
    # When an SQS JSON-protocol call comes in
    response = client.post("/", headers={"X-Amz-Target": "AmazonSQS.ReceiveMessage",
                                         "Content-Type": "application/x-amz-json-1.0"}, data="{}")
    # Then the answer is SQS's JSON error shape with the query error header, not a page
    assert response.status_code == 500
    assert json.loads(response.get_data(as_text=True))["__type"] == "InternalFailure"
    assert response.headers["x-amzn-query-error"] == "InternalFailure;Receiver"


def test_a_query_protocol_call_that_fails_in_moto_gets_an_xml_error() -> None:
    client = Client(Gateway({}, crashing_backend))
    response = client.post("/", data="Action=Publish&Version=2010-03-31",
                           content_type="application/x-www-form-urlencoded")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/xml")
    assert body.startswith("<ErrorResponse>") and "<Code>InternalFailure</Code>" in body
    assert "<html" not in body.lower()
