"""FIFO identity: MessageGroupId from partitionkey, deterministic MessageDeduplicationId from source + id."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messaging.envelope import event
from messaging.errors import InvalidAttribute, MissingPartitionKey
from messaging.fifo import deduplication_id, is_valid_fifo_id, message_group_id, validate_partition_key

pytestmark = pytest.mark.unit


@given(st.text(min_size=1, max_size=200), st.text(min_size=1, max_size=200))
def test_dedup_ids_are_valid_short_and_deterministic(source: str, message_id: str) -> None:
    # Given any unicode source and id
    evt = event("t", {}, source=source, partitionkey="p", id=message_id)
    # When the deduplication id is derived twice
    first, second = deduplication_id(evt), deduplication_id(evt)
    # Then it is the same, at most 128 characters and only characters SQS/SNS accept
    assert first == second
    assert len(first) <= 128
    assert is_valid_fifo_id(first)


def test_dedup_ids_differ_when_source_or_id_differ() -> None:
    # Given messages that differ only in source, or only in id
    base = event("t", {}, source="/a", partitionkey="p", id="1")
    other_source = event("t", {}, source="/b", partitionkey="p", id="1")
    other_id = event("t", {}, source="/a", partitionkey="p", id="2")
    # Then their deduplication ids differ
    assert len({deduplication_id(base), deduplication_id(other_source), deduplication_id(other_id)}) == 3


def test_the_group_id_is_the_partition_key() -> None:
    # Given an event with a partition key
    evt = event("t", {}, source="/a", partitionkey="customer-42", id="1")
    # Then its MessageGroupId is that key
    assert message_group_id(evt) == "customer-42"


@pytest.mark.parametrize(
    ("key", "error"),
    [
        (None, MissingPartitionKey),
        ("", MissingPartitionKey),
        ("has space", InvalidAttribute),
        ("é", InvalidAttribute),
        ("x" * 129, InvalidAttribute),
    ],
)
def test_unusable_partition_keys_are_rejected_naming_the_field(key: str | None, error: type[Exception]) -> None:
    # Given a partition key that cannot be a MessageGroupId
    # When it is validated
    with pytest.raises(error) as raised:
        validate_partition_key(key)
    # Then the error names partitionkey
    assert raised.value.field == "partitionkey"  # type: ignore[attr-defined]
