"""The consumers a team would write from the Powertools documentation: the baseline ``make chaos --consumer naive``
runs against the same faults (not part of the product).

Each one follows the documented pattern: ``SqsFifoPartialProcessor`` + ``process_partial_response``, the record
processed by an ``idempotent_function`` (DynamoDB persistence layer, keyed on the CloudEvent's ``[source, id]``,
registered with the Lambda context), inside it the business write, then ``Publish`` of each event, then
``SendMessage`` of the reply, with fresh random ids as any code that does not think about redelivery makes them.
Two departures from the samples, both forced by the local cloud running concurrent invocations of one function as
threads of one process (Lambda gives each its own process): the processor and the idempotency configuration are made
per invocation instead of at import time.

``orders_api`` is the baseline producer (``--producer naive``: save, then send) and ``order_saga`` the baseline saga
orchestrator (``--saga naive``: the saga's transitions, its state put, then its sends, with fresh ids).
"""
