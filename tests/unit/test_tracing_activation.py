"""A consumer with ``tracing=True`` loads the X-Ray SDK only for an invocation X-Ray records, and then traces each
message for real: a subsegment per message annotated with its W3C trace id.

The X-Ray SDK keeps process-wide state decided at import (Lambda context or not), so the Lambda side runs in a fresh
interpreter with Lambda's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from messaging.consumer import MessageConsumer
from messaging.settings import ConsumerSettings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SAMPLED = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

_IN_LAMBDA = r'''
import json, sys
from messaging.consumer import MessageConsumer
from messaging.envelope import event
from messaging.codec import CloudEventJsonCodec
from messaging.settings import ConsumerSettings

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
consumer = MessageConsumer("billing", settings=ConsumerSettings(), tracing=True)
seen = []

@consumer.event("orders.OrderCreated", idempotent=False)
def on_created(data, ctx):
    seen.append(ctx.envelope.id)

def sqs_event(message_id):
    body = CloudEventJsonCodec().encode(event("orders.OrderCreated", {}, source="/orders", partitionkey="c-1",
                                              id=f"e-{message_id}"))
    body = json.dumps({**json.loads(body), "traceparent": TRACEPARENT})
    return {"Records": [{"messageId": message_id, "receiptHandle": "r", "body": body, "messageAttributes": {},
                         "attributes": {"MessageGroupId": "c-1", "ApproximateReceiveCount": "1"},
                         "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:1:q.fifo"}]}

import os
os.environ["_X_AMZN_TRACE_ID"] = sys.argv[1].replace("Sampled=1", "Sampled=0")  # an invocation not sampled
assert consumer.handle(sqs_event("m-1"), None) == {"batchItemFailures": []}
unsampled = {"tracer": consumer.tracer is not None, "xray_loaded": "aws_xray_sdk" in sys.modules}

from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter

class Recording(UDPEmitter):
    def __init__(self):
        super().__init__()
        self.entities = []
    def send_entity(self, entity):
        self.entities.append(json.loads(entity.serialize()))

emitter = Recording()
xray_recorder.configure(emitter=emitter)
os.environ["_X_AMZN_TRACE_ID"] = sys.argv[1]  # the next invocation is sampled
assert consumer.handle(sqs_event("m-2"), None) == {"batchItemFailures": []}
print(json.dumps({"unsampled": unsampled, "tracer": type(consumer.tracer).__name__, "seen": seen,
                  "entities": emitter.entities}))
'''


def test_outside_lambda_tracing_loads_no_tracer() -> None:
    # Given consumers that trace, outside Lambda (this process: no LAMBDA_TASK_ROOT)
    assert "LAMBDA_TASK_ROOT" not in os.environ
    traced = MessageConsumer("orders", settings=ConsumerSettings(), tracing=True)
    # Then neither has a tracer: a Powertools Tracer would record nothing here
    assert traced.tracer is None
    assert MessageConsumer("orders", settings=ConsumerSettings()).tracer is None


def test_in_lambda_the_sdk_loads_on_the_first_sampled_invocation_and_traces_each_message() -> None:
    # Given Lambda's environment with tracing on (no POWERTOOLS_TRACE_DISABLED)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_XRAY", "_X_AMZN"))}
    env.update(
        LAMBDA_TASK_ROOT=str(ROOT / "functions"),
        AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
        PYTHONPATH=os.pathsep.join((str(ROOT / "functions"), str(ROOT))),
        POWERTOOLS_SERVICE_NAME="billing",
    )
    # When a consumer handles an unsampled invocation, then a sampled one
    done = subprocess.run(
        [sys.executable, "-c", _IN_LAMBDA, SAMPLED], capture_output=True, text=True, env=env, cwd=ROOT, check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # Then the unsampled one ran without loading the X-Ray SDK
    assert result["unsampled"] == {"tracer": False, "xray_loaded": False}
    assert result["seen"] == ["e-m-1", "e-m-2"]
    # And the sampled one made a Powertools Tracer, whose subsegment of the message reached X-Ray with the W3C trace id
    assert result["tracer"] == "Tracer"
    subsegments = [e for e in result["entities"] if e.get("name") == "## message m-2"]
    assert len(subsegments) == 1
    [subsegment] = subsegments
    assert subsegment["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert subsegment["annotations"] == {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}
