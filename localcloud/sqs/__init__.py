"""SQS in the local cloud: moto's SQS models with the fixes AWS documents (FIFO deduplication and group order,
long polling, receipt handles: :mod:`.patches`), the request validation moto lacks (:mod:`.validation`), DLQ
redrive as message move tasks (:mod:`.move_tasks`) and the ``AWS/SQS`` metrics of every queue (:mod:`.metrics`).

Example::

    from localcloud.sqs.patches import receivable
"""
