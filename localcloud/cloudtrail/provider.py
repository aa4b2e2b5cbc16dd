"""CloudTrail's ``LookupEvents`` on the local cloud's endpoint: no trail is recorded, so no events.

The CDK CLI asks CloudTrail what happened when a deployment fails; moto does not implement the call (it would
answer with a server error, which the CLI retries for half a minute). Every other CloudTrail call goes to moto.

Example::

    providers = {"cloudtrail": CloudTrailApi()}
"""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response


class CloudTrailApi:
    """Answers ``LookupEvents`` with no events."""

    def handle(self, request: Request) -> Response | None:
        """The empty result of ``LookupEvents``; None (moto) for anything else."""
        if not request.headers.get("X-Amz-Target", "").endswith(".LookupEvents"):
            return None
        return Response(json.dumps({"Events": []}), status=200, content_type="application/x-amz-json-1.1")
