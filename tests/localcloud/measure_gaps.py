"""Measures the moto gaps the local cloud fills: ``python tests/localcloud/measure_gaps.py [--patched]``.

Prints one line per gap with what moto does; with ``--patched`` the local cloud's fixes are installed first.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import boto3
from moto import mock_aws

PATCHED = "--patched" in sys.argv
if PATCHED:
    from localcloud import motopatches
    from localcloud.clock import CLOCK

    motopatches.install()


def sqs() -> Any:
    return boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def fifo(name: str, **attrs: str) -> str:
    url: str = sqs().create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true", **attrs})["QueueUrl"]
    return url


def dedup_after_delete() -> str:
    client, url = sqs(), fifo("dedup")
    client.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    msg = client.receive_message(QueueUrl=url)["Messages"][0]
    client.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    client.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="d1")
    again = client.receive_message(QueueUrl=url).get("Messages", [])
    return f"resend after delete within 5 min delivered again: {bool(again)}"


def sns_topic_dedup() -> str:
    sns = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    arn = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})[
        "TopicArn"
    ]
    client = sqs()
    url = fifo("sub")
    qarn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    try:
        sns.publish(TopicArn=arn, Message="same", MessageGroupId="g")
    except Exception as exc:
        return f"publish to a content-dedup topic with a plain FIFO queue subscribed fails: {exc}"
    first = client.receive_message(QueueUrl=url)["Messages"][0]
    client.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    sns.publish(TopicArn=arn, Message="same", MessageGroupId="g")
    again = client.receive_message(QueueUrl=url).get("Messages", [])
    return f"SNS FIFO content-dedup republish delivered again: {bool(again)}"


def sequence_numbers() -> str:
    client, url = sqs(), fifo("seq")
    numbers = [
        int(client.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g", MessageDeduplicationId=str(i))[
            "SequenceNumber"])
        for i in range(20)
    ]
    return f"SequenceNumber increasing within a group: {numbers == sorted(numbers)}"


def group_exclusivity() -> str:
    client, url = sqs(), fifo("excl", VisibilityTimeout="30")
    for i in range(200):
        client.send_message(QueueUrl=url, MessageBody=str(i), MessageGroupId="g", MessageDeduplicationId=str(i))
    in_flight: set[str] = set()
    lock = threading.Lock()
    violations = 0
    redelivered = 0
    seen: set[str] = set()
    errors: list[str] = []

    def worker() -> None:
        nonlocal violations, redelivered
        c = sqs()
        while True:
            try:
                msgs = c.receive_message(QueueUrl=url, MaxNumberOfMessages=3, WaitTimeSeconds=0).get("Messages", [])
            except Exception as exc:  # moto raising under concurrency is one of the measured failures
                errors.append(type(exc).__name__)
                continue
            if not msgs:
                return
            with lock:
                if in_flight:
                    violations += 1
                token = msgs[0]["ReceiptHandle"]
                in_flight.add(token)
                for m in msgs:
                    if m["Body"] in seen:
                        redelivered += 1
                    seen.add(m["Body"])
            time.sleep(0.002)
            for m in msgs:
                try:
                    c.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                except Exception as exc:
                    errors.append(type(exc).__name__)
            with lock:
                in_flight.discard(token)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (
        f"4 concurrent receivers, one group: overlapping batches={violations}, "
        f"redelivered after delete={redelivered}, errors={len(errors)}, delivered={len(seen)}/200"
    )


def long_poll_blocked_group() -> str:
    client, url = sqs(), fifo("spin", VisibilityTimeout="1")
    client.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="a")
    client.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g", MessageDeduplicationId="b")
    first = client.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"][0]
    cpu0, t0 = time.process_time(), time.perf_counter()
    got: list[Any] = []

    def poll() -> None:
        got.extend(client.receive_message(QueueUrl=url, WaitTimeSeconds=3).get("Messages", []))

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)
    sqs().delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    t.join()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return f"long poll on a blocked group: woke after {wall:.2f}s with {len(got)} msgs, cpu {cpu:.2f}s"


def main() -> None:
    print("patched" if PATCHED else "moto as installed")
    for probe in (dedup_after_delete, sns_topic_dedup, sequence_numbers, group_exclusivity, long_poll_blocked_group):
        with mock_aws():
            if PATCHED:
                CLOCK.reset()
            print(f"- {probe.__name__}: {probe()}")


if __name__ == "__main__":
    main()
