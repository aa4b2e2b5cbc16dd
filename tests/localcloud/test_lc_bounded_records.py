"""A long-running local cloud stays flat in memory: what it keeps of past traffic is bounded."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.errors import LocalCloudError
from localcloud.sns.patches import SENT_NOTIFICATIONS_KEPT
from tests.localcloud.lc_support import body

pytestmark = pytest.mark.e2e

MESSAGES = 800
CAP = 50


@pytest.fixture
def small_cap(cloud: LocalCloud) -> Any:
    """The cloud keeping only ``CAP`` invocation records for the test (restored afterwards)."""
    kept = cloud.max_invocation_records
    cloud.max_invocation_records = CAP
    yield cloud
    cloud.max_invocation_records = kept


def test_invocation_records_stay_under_their_cap_under_sustained_traffic(small_cap: LocalCloud, sqs: Any,
                                                                          tag: str) -> None:
    cloud = small_cap
    url = cloud.outputs["WholeQueueUrl"]
    before = cloud.invocation_count
    # Given hundreds of messages sent in waves, more invocations than the cap keeps (queues kept shallow, as producers
    # and consumers overlap)
    last_wave: set[str] = set()
    for wave in range(0, MESSAGES, 100):
        last_wave = set()
        for start in range(wave, wave + 100, 10):
            sent = sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(n), "MessageBody": body(tag, n), "MessageGroupId": f"{tag}-{n % 20}",
                 "MessageDeduplicationId": f"{tag}-{n}"} for n in range(start, start + 10)])
            assert not sent.get("Failed")
            last_wave |= {entry["MessageId"] for entry in sent["Successful"]}
        # When the pollers have processed each wave
        assert cloud.drain(timeout=30)
    # Then every message was processed, by hundreds of invocations, but only the newest CAP records are kept
    ran = cloud.invocation_count - before
    assert ran >= MESSAGES // 10
    records = cloud.invocations
    assert len(records) == CAP
    # And the records kept are the newest ones: the last wave's messages are all in them
    assert last_wave <= {message_id for record in records for message_id in record.message_ids}
    assert all(record.result.ok for record in records)


def test_sns_topics_keep_a_bounded_record_of_published_messages(cloud: LocalCloud, sns: Any, tag: str) -> None:
    # Given a FIFO topic of its own
    arn = sns.create_topic(Name=f"bounded-{tag}.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    # When more messages than the record holds are published to it
    for start in range(0, SENT_NOTIFICATIONS_KEPT + 50, 10):
        sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
            {"Id": str(n), "Message": body(tag, n), "MessageGroupId": tag, "MessageDeduplicationId": f"{tag}-{n}"}
            for n in range(start, start + 10)])
    # Then the moto topic keeps only the newest ones
    from moto.sns.models import sns_backends  # noqa: PLC0415 - moto's model, read directly

    topic = sns_backends[cloud.account_id][cloud.region].topics[arn]
    assert len(topic.sent_notifications) == SENT_NOTIFICATIONS_KEPT
    assert topic.sent_notifications[-1][1] == body(tag, SENT_NOTIFICATIONS_KEPT + 49)
    sns.delete_topic(TopicArn=arn)


def test_the_cap_must_keep_at_least_one_record(cloud: LocalCloud) -> None:
    # Given the local cloud / When the cap is set to zero / Then it is refused with a typed error
    with pytest.raises(LocalCloudError):
        cloud.max_invocation_records = 0
