"""Lambda on the local cloud's endpoint: invocations run in-process, event source mappings start and stop.

Example::

    from localcloud.awslambda import LambdaApi
    providers = {"lambda": LambdaApi(cloud)}
"""

from __future__ import annotations

from localcloud.awslambda.provider import LambdaApi, error_document

__all__ = ["LambdaApi", "error_document"]
