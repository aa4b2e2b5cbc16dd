"""Command line: ``python -m localcloud serve [--port 4566] [--assembly cdk.out]``.

Starts a moto server on localhost, deploys the cloud assembly into it (synthesizing ``app.py`` first when the
assembly directory does not exist), runs the event source mappings, prints the endpoint and the stack outputs and
stays up until Ctrl-C. Any AWS SDK or the AWS CLI works against it with dummy credentials::

    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 \\
        aws --endpoint-url http://localhost:4566 sqs list-queues
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from moto.server import ThreadedMotoServer

from localcloud.cloud import DEFAULT_REGION, DUMMY_CREDENTIALS, LocalCloud, synthesize
from localcloud.deployer import NOT_EMULATED
from localcloud.errors import LocalCloudError


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


OUTPUTS_FILE = Path(".localcloud") / "outputs.json"
"""Where the server writes its flat stack outputs while it runs (``python -m cli --endpoint-url ...`` reads them)."""


def _require_free_port(port: int) -> None:
    """Fail before anything starts if another program listens on ``port`` (the deployment would go to it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no conflict
        try:
            probe.bind(("localhost", port))
        except OSError as exc:
            raise LocalCloudError(f"port {port} is in use ({exc.strerror}): stop that program or pass --port") from exc


def serve(port: int, assembly: Path, region: str, *, once: bool = False) -> int:
    """Run the local cloud server until interrupted (or, with ``once``, until deployed)."""
    started = time.monotonic()
    _require_free_port(port)
    if not assembly.exists():
        _print(f"{assembly} not found: synthesizing app.py into it (asset bundling skipped)")
        synthesize(assembly)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="localhost", port=port, verbose=False)
    server.start()
    endpoint = f"http://localhost:{port}"
    cloud = LocalCloud(endpoint_url=endpoint, region=region)
    try:
        deployment = cloud.deploy(assembly)
        cloud.start_pollers()
        elapsed = time.monotonic() - started
        _print(f"local cloud up in {elapsed:.1f}s at {endpoint} (region {region})")
        _print("credentials: any, e.g. " + " ".join(f"{k}={v}" for k, v in DUMMY_CREDENTIALS.items()))
        _print(f"try: aws --endpoint-url {endpoint} --region {region} sqs list-queues")
        for stack, outputs in cloud.stack_outputs.items():
            _print(f"\n[{stack}]")
            for key, value in sorted(outputs.items()):
                if not key.startswith("ExportsOutput"):
                    _print(f"  {key} = {value}")
        skipped = {f"{s.name}/{lid}": why for s in deployment.stacks.values() for lid, why in s.skipped.items()}
        if skipped:
            _print(f"\nnot emulated: {len(skipped)} resource(s) of types " +
                   ", ".join(sorted({deployment.stacks[k.split('/')[0]].types[k.split('/', 1)[1]]
                                     for k in skipped})))
        OUTPUTS_FILE.parent.mkdir(parents=True, exist_ok=True)
        OUTPUTS_FILE.write_text(json.dumps(cloud.outputs, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _print(f"\noutputs written to {OUTPUTS_FILE} (python -m cli --endpoint-url {endpoint} ... reads them)")
        _print(f"{len(deployment.mappings)} event source mapping(s) polling; Ctrl-C to stop")
        if once:
            return 0
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        OUTPUTS_FILE.unlink(missing_ok=True)
        cloud.stop()
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the stacks on a local moto server")
    serve_cmd.add_argument("--port", type=int, default=4566)
    serve_cmd.add_argument("--assembly", type=Path, default=Path("cdk.out"), help="cloud assembly directory")
    serve_cmd.add_argument("--region", default=DEFAULT_REGION)
    serve_cmd.add_argument("--once", action="store_true", help="exit after deploying (smoke test)")
    serve_cmd.add_argument("--verbose", action="store_true")
    commands.add_parser("not-emulated", help="list the resource types deliberately not emulated")
    args = parser.parse_args(argv)
    if args.command == "not-emulated":
        for rtype, why in NOT_EMULATED.items():
            _print(f"{rtype}: {why}")
        return 0
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return serve(args.port, args.assembly, args.region, once=args.once)
    except LocalCloudError as exc:
        _print(f"error: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
