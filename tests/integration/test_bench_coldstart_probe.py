"""The cold-start probe's first messages are on their handlers' normal path: the reply router's is a reply to a
request (a fresh correlation id, as a client draws it), and a probe that left its normal path fails the run."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from benchmarks.coldstart import ProbeWorld, probe

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world() -> Iterator[ProbeWorld]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield ProbeWorld(f"http://{host}:{port}")
    finally:
        server.stop()


def test_the_reply_routers_first_message_answers_a_fresh_request(world: ProbeWorld) -> None:
    # When the reply router's first message is made, twice
    event = world.first_message("reply_router")
    first = world.correlation_id
    world.first_message("reply_router")
    # Then it is a reply to a correlation id of its own, drawn afresh for each probe
    reply = json.loads(event["Records"][0]["body"])
    assert (reply["kind"], reply["correlationid"]) == ("reply", first)
    assert world.correlation_id != first
    # And until a router stores its reply, the probe is not on its normal path
    with pytest.raises(RuntimeError, match="no reply stored for the request"):
        world.check_normal_path("reply_router", "reply_router.handler")


@pytest.mark.parametrize("module", ["reply_router.handler", "chaos.naive.reply_router"])
def test_both_reply_routers_store_the_probes_reply(world: ProbeWorld, module: str) -> None:
    # When a fresh interpreter cold-starts the router on its first message (probe checks the normal path itself)
    first_ms, import_ms = probe(world, "reply_router", module)
    # Then it stored the reply, and the timings are those of a run
    assert world.reply_store.get(world.correlation_id)
    assert 0 < import_ms < first_ms
