"""CloudWatch in the local cloud: ``AWS/Lambda`` and ``AWS/SQS`` metrics, metrics from embedded-metric-format log
lines, and alarm evaluation, on the local clock (:mod:`.service`); moto keeps the data and the alarms.

Example::

    from localcloud.cloudwatch.service import CloudWatch
"""
