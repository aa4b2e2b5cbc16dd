"""CloudTrail on the local cloud's endpoint (:mod:`.provider`).

Example::

    from localcloud.cloudtrail import CloudTrailApi
    providers = {"cloudtrail": CloudTrailApi()}
"""

from __future__ import annotations

from localcloud.cloudtrail.provider import CloudTrailApi

__all__ = ["CloudTrailApi"]
