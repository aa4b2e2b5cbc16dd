"""CloudFormation on the local cloud's endpoint, answered by the local cloud's own deployer.

Example::

    from localcloud.cloudformation import CloudFormationApi
    providers = {"cloudformation": CloudFormationApi(cloud)}
"""

from __future__ import annotations

from localcloud.cloudformation.provider import CloudFormationApi, s3_location

__all__ = ["CloudFormationApi", "s3_location"]
