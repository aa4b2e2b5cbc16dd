"""The second baseline of ``make bench``, "tuned": the Powertools-documentation consumers of :mod:`chaos.naive`
as a team that read the documentation carefully would deploy them (not part of the product).

- Idempotency only where a handler is not naturally idempotent: orders keeps ``idempotent_function`` around
  CreateOrder (a redelivery must not create a second order) and CancelOrder (its reply would change); billing and
  notifications write by a key fixed by the event, and the reply router by the reply's correlation id and id, so a
  redelivery overwrites the same item and they run without an idempotency record; the quote responders derive
  their reply's id from the request, so a redelivered request repeats the same reply, which FIFO deduplication and
  the router's fixed key absorb.
- The requester (:class:`benchmarks.requesters.TunedRequester`) polls as the product's does: first read one
  poll interval after sending, then a pause that grows by half each time, up to half a second.

Handlers reuse the documentation code of :mod:`chaos.naive` by import (:func:`benchmarks.tuned.common.docs_module`);
:func:`benchmarks.tuned.assembly.prepare_tuned` puts them in the templates' ``Handler`` the way
:func:`chaos.run.prepare_assembly` puts the documentation ones.
"""
