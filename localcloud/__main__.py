"""Command line: ``python -m localcloud serve [--port 4566] [--assembly cdk.out | --empty] [--stage NAME]``,
``python -m localcloud cdk-deploy [--port 4566] [--stage NAME]``.

``serve`` runs the local cloud as an AWS endpoint on localhost (see :mod:`localcloud.server`); any AWS SDK, the AWS
CLI and the CDK CLI work against it with dummy credentials::

    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 \\
        aws --endpoint-url http://localhost:4566 sqs list-queues

``cdk-deploy`` runs the real CDK CLI (synth, bootstrap, deploy of every stack) against a running local cloud
(``make deploy-local``). ``not-emulated`` lists the resource types the deployer deliberately skips, with why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.stage import StageError, check_stage
from localcloud import cdkdeploy
from localcloud.cloud import DEFAULT_REGION
from localcloud.cloudformation.resources import NOT_EMULATED
from localcloud.errors import LocalCloudError
from localcloud.server import configure_logging, serve


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def _stage(text: str) -> str:
    try:
        return check_stage(text)
    except StageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the local cloud as an AWS endpoint on localhost")
    serve_cmd.add_argument("--port", type=_port, default=4566)
    source = serve_cmd.add_mutually_exclusive_group()
    source.add_argument("--assembly", type=Path, default=None,
                        help="cloud assembly to deploy (default cdk.out, or cdk.out.<stage> with --stage)")
    source.add_argument("--empty", action="store_true", help="deploy nothing: stacks come from cdk deploy")
    serve_cmd.add_argument("--stage", type=_stage, default=None, help="deploy the stage NAME of the app")
    serve_cmd.add_argument("--region", default=DEFAULT_REGION)
    serve_cmd.add_argument("--once", action="store_true", help="exit after deploying (smoke test)")
    serve_cmd.add_argument("--verbose", action="store_true", help="service logs and every invocation's log")
    deploy_cmd = commands.add_parser("cdk-deploy", help="cdk bootstrap + cdk deploy --all into a running local cloud")
    deploy_cmd.add_argument("--port", type=_port, default=4566)
    deploy_cmd.add_argument("--stage", type=_stage, default=None, help="deploy the stage NAME (cdk -c stage=NAME)")
    deploy_cmd.add_argument("--region", default=DEFAULT_REGION)
    commands.add_parser("not-emulated", help="list the resource types deliberately not emulated")
    args = parser.parse_args(argv)
    if args.command == "not-emulated":
        for rtype, why in NOT_EMULATED.items():
            _print(f"{rtype}: {why}")
        return 0
    if args.command == "cdk-deploy":
        try:
            return cdkdeploy.deploy(args.port, stage=args.stage, region=args.region)
        except LocalCloudError as exc:
            _print(f"error: {exc}")
            return 2
    configure_logging(args.verbose)
    default_assembly = Path("cdk.out" if args.stage is None else f"cdk.out.{args.stage}")
    assembly = None if args.empty else (args.assembly or default_assembly)
    try:
        return serve(args.port, assembly, args.region, verbose=args.verbose, once=args.once, stage=args.stage,
                     refresh=args.assembly is None)
    except LocalCloudError as exc:
        _print(f"error: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
