"""The local cloud: the synthesized CDK stacks deployed into moto, Lambda handlers run in-process.

Example::

    from localcloud import LocalCloud

    with LocalCloud() as cloud:
        cloud.deploy("cdk.out")
        cloud.start_pollers()
        cloud.drain(timeout=10)

Server mode: ``python -m localcloud serve --port 4566 --assembly cdk.out``.
"""

from __future__ import annotations

from localcloud.cloud import LocalCloud, synthesize
from localcloud.cloudformation.deployer import NOT_EMULATED, Deployment
from localcloud.errors import AssemblyError, LocalCloudError, TemplateError, UnsupportedResourceError

__all__ = [
    "NOT_EMULATED",
    "AssemblyError",
    "Deployment",
    "LocalCloud",
    "LocalCloudError",
    "TemplateError",
    "UnsupportedResourceError",
    "synthesize",
]
