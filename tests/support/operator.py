"""What the end-to-end tests use to act as an operator of the deployed example: the CLI run in-process against the
local cloud, and the web console behind the endpoint's gateway."""

from __future__ import annotations

import io
from typing import Any

from werkzeug.test import Client

from cli.app import Connection, main
from cli.endpoints import Endpoints
from demo.run import System
from localcloud.console import CONSOLE, ConsoleApi
from localcloud.gateway import Gateway


def cli(system: System, *argv: str) -> tuple[int, str, str]:
    """Run ``fifo-messaging ARGV`` against the system; its exit status, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    endpoints = Endpoints.from_outputs(system.outputs)
    code = main(list(argv), connect=lambda args: Connection(args, endpoints=endpoints,
                                                            client_factory=system.cloud.client),
                stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def console_client(system: System) -> Client:
    """The console behind the gateway, as the server routes it; a request that reaches moto fails the test."""

    def moto_must_not_answer(environ: dict[str, Any], start_response: Any) -> Any:
        raise AssertionError(f"a console request reached moto: {environ['PATH_INFO']}")

    return Client(Gateway({}, backend=moto_must_not_answer, routes={CONSOLE: ConsoleApi(system.cloud)}))
