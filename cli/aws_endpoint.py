"""``.venv/bin/aws``: the pinned AWS CLI (v1) with ``AWS_ENDPOINT_URL`` honoured for every service.

AWS CLI v1 (``awscli`` 1.x, the one on PyPI; v2 is not distributed there) reads ``AWS_ENDPOINT_URL`` through
botocore for most services, but pins a few to a legacy endpoint before botocore looks at the variable: SQS in
us-east-1 goes to ``https://queue.amazonaws.com`` whatever ``AWS_ENDPOINT_URL`` says, so ``aws sqs list-queues``
against a local cloud would reach AWS. ``make setup`` installs this wrapper as ``.venv/bin/aws`` (the CLI it runs
is the pinned one, unchanged): when no ``--endpoint-url`` is given, it passes the endpoint the environment names
(``AWS_ENDPOINT_URL_<SERVICE>``, else ``AWS_ENDPOINT_URL``) as ``--endpoint-url``, which is what AWS CLI v2 does with
these variables; ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`` turns that off as it does in v2.

Example:
    >>> with_endpoint(["sqs", "list-queues"], {"AWS_ENDPOINT_URL": "http://localhost:4566"})
    ['--endpoint-url', 'http://localhost:4566', 'sqs', 'list-queues']
    >>> with_endpoint(["--region", "eu-west-1", "sqs", "list-queues"], {"AWS_ENDPOINT_URL_SQS": "http://q:1"})
    ['--endpoint-url', 'http://q:1', '--region', 'eu-west-1', 'sqs', 'list-queues']
    >>> with_endpoint(["sqs", "list-queues", "--endpoint-url", "http://x:1"], {"AWS_ENDPOINT_URL": "http://y:2"})
    ['sqs', 'list-queues', '--endpoint-url', 'http://x:1']
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_OPTIONS_WITH_VALUE = frozenset({"--region", "--profile", "--output", "--query", "--cli-read-timeout",
                                 "--cli-connect-timeout", "--ca-bundle", "--color", "--endpoint-url"})


def _service(argv: Sequence[str]) -> str | None:
    """The first positional argument: the service (``sqs``), skipping global options and their values."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg.startswith("--"):
            skip = arg in _OPTIONS_WITH_VALUE
            continue
        return arg
    return None


def with_endpoint(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """``argv`` with ``--endpoint-url`` taken from ``environ`` when the command line gives none."""
    if any(arg == "--endpoint-url" or arg.startswith("--endpoint-url=") for arg in argv):
        return list(argv)
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return list(argv)
    service = _service(argv)
    specific = f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}" if service else None
    endpoint = (environ.get(specific) if specific else None) or environ.get("AWS_ENDPOINT_URL")
    if not endpoint or service in (None, "configure", "help"):
        return list(argv)
    return ["--endpoint-url", endpoint, *argv]


def main() -> int:
    """Run the AWS CLI with the endpoint of the environment (the ``.venv/bin/aws`` script)."""
    driver = importlib.import_module("awscli.clidriver")  # loaded only when run (and untyped)
    sys.argv[1:] = with_endpoint(sys.argv[1:], os.environ)
    return int(driver.main())


SCRIPT = """#!{python}
# The pinned AWS CLI with AWS_ENDPOINT_URL honoured for every service: see cli/aws_endpoint.py (make setup writes it).
import sys

from cli.aws_endpoint import main

sys.exit(main())
"""


def install(path: str) -> None:
    """Write the ``aws`` script at ``path`` (``make setup``: ``.venv/bin/aws``, replacing the one of awscli)."""
    script = Path(path)
    script.write_text(SCRIPT.format(python=sys.executable), encoding="utf-8")
    script.chmod(0o755)  # an executable script in the virtualenv


if __name__ == "__main__":
    install(sys.argv[1])
