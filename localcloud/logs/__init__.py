"""CloudWatch Logs in the local cloud: invocation logs shipped to their log groups (:mod:`.shipper`), the filter
pattern syntax moto lacks (:mod:`.patterns`), metrics extracted from embedded-metric-format lines (:mod:`.emf`).

Example::

    shipper = LogShipper(cloud.client)
    shipper.attach(cloud.function("OrdersConsumer"))
"""

from __future__ import annotations

from localcloud.logs.patterns import FilterPattern, FilterPatternError
from localcloud.logs.shipper import LogShipper

__all__ = ["FilterPattern", "FilterPatternError", "LogShipper"]
