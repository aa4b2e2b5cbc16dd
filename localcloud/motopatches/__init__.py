"""Fixes to moto 5.2.5's SQS, SNS, CloudWatch Logs and CloudWatch models so they behave as AWS documents it.

Installed by :func:`install` and removed by :func:`uninstall` (counted: nested local clouds share them); both
the in-process ``mock_aws`` mode and the server mode go through the patched models.
Each fix names the AWS behaviour it restores (the fixes live with their service: :mod:`localcloud.sqs.errors`,
:mod:`localcloud.sqs.validation`, :mod:`localcloud.sqs.patches`, :mod:`localcloud.sqs.move_tasks`,
:mod:`localcloud.sns.validation`, :mod:`localcloud.sns.patches`, :mod:`localcloud.sns.delivery`,
:mod:`localcloud.logs.patches`, :mod:`localcloud.cloudwatch.patches`; :mod:`.core` holds the lock every request
runs under; ``tests/conformance`` checks them against behaviours recorded on AWS):

- :func:`localcloud.sqs.patches._send_message` -
  SQS FIFO exactly-once processing: a message whose deduplication id was sent in the last
  5 minutes is accepted but not delivered, *even if the first one was already received and deleted*
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html).
  With ``DeduplicationScope=messageGroup`` the id is scoped to the message group.
- :func:`localcloud.sqs.patches._send_message` -
  SequenceNumber: "a large, non-consecutive number that Amazon SQS assigns to each
  message", increasing within a message group
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
- :func:`localcloud.sns.patches._topic_publish` -
  SNS FIFO topic deduplication: a publish repeating a deduplication id (explicit or
  content-based) within 5 minutes is accepted and not delivered again
  (https://docs.aws.amazon.com/sns/latest/dg/fifo-message-dedup.html); the deduplication id SNS used is
  handed to subscribed FIFO queues, so a queue without content-based deduplication accepts the delivery.
- :func:`localcloud.sns.patches._backend_publish` -
  SNS ``Publish`` to a FIFO topic without ``MessageGroupId`` fails with
  ``InvalidParameter`` ("The MessageGroupId parameter is required for FIFO topics"), as SNS answers; moto raised
  SQS's ``MissingParameter`` (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
- :func:`localcloud.sqs.patches._receive_message` -
  ReceiveMessage long polling returns as soon as a message becomes receivable
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html)
  and FIFO groups with messages in flight stay locked to other receivers
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html);
  moto busy-spins while the only visible messages belong to a locked group and misses the unlock.
- :func:`localcloud.sqs.patches.receivable` -
  a FIFO receive returns each group's visible messages up to its first message still in
  flight, so a message made visible again (``ChangeMessageVisibility`` 0, an expired timeout) comes back before the
  later ones; moto locked the whole group while any of its messages was in flight
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html).
- :func:`localcloud.sqs.patches._delete_message` -
  ``DeleteMessage`` with an expired receipt handle on a FIFO queue fails with
  ``InvalidParameterValue``; ``DeleteMessageBatch`` reports each entry's error on its own
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteMessage.html).
- :func:`localcloud.sqs.patches._purge_queue` - ``PurgeQueue`` also clears the deduplication history
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_PurgeQueue.html).
- :func:`localcloud.sqs.patches._release_timed_out` -
  FIFO order within a message group also holds when in-flight messages of the group
  time out (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html).
- :func:`.core._locked_dispatch` - the SQS API is safe for concurrent callers; moto's models are not, so every
  request is handled under one process-wide lock (released while a long poll waits).
- :func:`localcloud.sns.patches._subscription_publish` -
  ``RawMessageDelivery`` is the string ``"false"`` when set that way through
  the API; moto treated any non-empty value as raw delivery
  (https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html).
- Timing rules (visibility timeout, delay, retention, dedup window) read :data:`localcloud.clock.CLOCK`, so tests
  can advance time instead of sleeping.

Example::

    from localcloud import motopatches
    motopatches.install()
"""

from __future__ import annotations

from typing import Any

from localcloud.clock import CLOCK
from localcloud.cloudwatch import patches as cloudwatch
from localcloud.logs import patches as logs
from localcloud.motopatches import core
from localcloud.motopatches.core import DEDUPLICATION_WINDOW_SECONDS, MOTO_CHANGED, MOTO_LOCK, notify_changed
from localcloud.sns import delivery as sns_delivery
from localcloud.sns import patches as sns
from localcloud.sns import validation as sns_validation
from localcloud.sqs import errors as sqs_errors
from localcloud.sqs import move_tasks as sqs_move
from localcloud.sqs import patches as sqs
from localcloud.sqs import validation as sqs_validation

__all__ = ["DEDUPLICATION_WINDOW_SECONDS", "MOTO_CHANGED", "MOTO_LOCK", "install", "notify_changed", "uninstall"]

_MODULES = (core, sqs_errors, sqs_validation, sqs, sqs_move, sns_validation, sns, sns_delivery, logs, cloudwatch)
_ABSENT = object()
_users = 0
_listening = False
_saved: list[tuple[Any, str, Any]] = []


def install() -> None:
    """Install every fix; nested calls are counted and only the first patches moto.

    Example::

        motopatches.install()
        ...
        motopatches.uninstall()
    """
    global _users, _listening  # noqa: PLW0603 - one set of patches per process
    _users += 1
    if _users > 1:
        return
    for module in _MODULES:
        for owner, name, value in module.patches():
            _saved.append((owner, name, vars(owner).get(name, _ABSENT)))
            setattr(owner, name, value)
    if not _listening:
        CLOCK.on_advance(notify_changed)
        _listening = True


def uninstall() -> None:
    """Undo :func:`install` once the last user is gone: moto and the clock are as they were before."""
    global _users  # noqa: PLW0603 - one set of patches per process
    if _users == 0:
        return
    _users -= 1
    if _users > 0:
        return
    while _saved:
        owner, name, original = _saved.pop()
        if original is _ABSENT:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
    CLOCK.reset()
