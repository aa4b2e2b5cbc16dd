"""Find and reach the messaging system the way the ``fifo-messaging`` command does, from any program.

:func:`find_endpoints` reads the stack outputs from, in this order: ``outputs`` (a JSON file, also
``MESSAGING_OUTPUTS``); a local cloud server at ``endpoint_url`` (also ``MESSAGING_ENDPOINT_URL`` or
``AWS_ENDPOINT_URL``, the variable every AWS SDK and the AWS CLI read): the outputs file that server writes, else
``DescribeStacks`` there; else ``DescribeStacks`` in the configured account. The stacks are those of ``stage``
(also ``MESSAGING_STAGE``) found in the system's registry (:mod:`cli.discovery`), unless ``stacks`` names them.
:func:`aws_client` makes a boto3 client for that endpoint, with a region and dummy credentials
when a local endpoint has none configured.

Example:
    >>> endpoint_url_from({"AWS_ENDPOINT_URL": "http://localhost:4566"})
    'http://localhost:4566'
    >>> endpoints = find_endpoints()  # doctest: +SKIP
    >>> endpoints.outputs["ReplyTableName"]  # doctest: +SKIP
    'replies'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import boto3

from cli.discovery import discover_stacks
from cli.endpoints import Endpoints, endpoint_url_from, from_local_cloud, stack_names

LOCAL_REGION = "us-east-1"
"""The region of a local endpoint when none is configured."""


def aws_client(service: str, *, endpoint_url: str | None = None, session: Any = None) -> Any:
    """A boto3 client of ``service`` at ``endpoint_url`` (AWS itself when None); against an endpoint, the region
    defaults to us-east-1 and missing credentials to dummy ones (any work with the local cloud)."""
    session = session if session is not None else boto3.session.Session()
    options: dict[str, Any] = {}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
        if session.region_name is None:
            options["region_name"] = LOCAL_REGION
        if session.get_credentials() is None:
            options.update(aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106 - local only
    return session.client(service, **options)


def find_endpoints(
    *,
    outputs: str | Path | None = None,
    endpoint_url: str | None = None,
    stage: str | None = None,
    stacks: Iterable[str] | None = None,
    client: Callable[[str], Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Endpoints:
    """The stack outputs of the system (see the module docstring for where they come from); ``client`` makes the
    CloudFormation client (default :func:`aws_client` at the endpoint). Raises
    :class:`~cli.endpoints.EndpointsError` when they cannot be found."""
    env = os.environ if environ is None else environ
    outputs = outputs or env.get("MESSAGING_OUTPUTS") or None
    endpoint_url = endpoint_url or endpoint_url_from(env)
    stage = stage or env.get("MESSAGING_STAGE") or None
    wanted = tuple(stacks or ())

    def make(service: str) -> Any:
        if client is not None:
            return client(service)
        return aws_client(service, endpoint_url=endpoint_url)

    if outputs:
        return Endpoints.from_file(Path(outputs))
    if wanted:
        return Endpoints.from_stacks(make("cloudformation"), wanted)
    stacks = discover_stacks(make("ssm"), stage, stack_names(stage))
    if endpoint_url:
        return from_local_cloud(endpoint_url, make("cloudformation"), stacks)
    return Endpoints.from_stacks(make("cloudformation"), stacks)
