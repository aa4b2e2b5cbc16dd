"""The local cloud's web console: server-rendered pages at ``http://localhost:PORT/_console/`` of a running
``python -m localcloud serve`` (no other process, no script in the pages).

- ``/_console/`` the topology with live queue depths (:mod:`.topology`);
- ``/_console/queues/<name>`` a queue's messages, read without receiving them, and a DLQ's redrive (:mod:`.queues`);
- ``/_console/messages/<id>`` a message's journey from the local CloudWatch Logs (:mod:`.journey`);
- ``/_console/dashboard`` the deployed CloudWatch dashboard with the local metrics and alarms (:mod:`.dashboard`).

Example::

    server = EndpointServer("localhost", 4566, providers, routes={CONSOLE: ConsoleApi(cloud)})
"""

from __future__ import annotations

from localcloud.console.app import ConsoleApi
from localcloud.console.html import CONSOLE

__all__ = ["CONSOLE", "ConsoleApi"]
