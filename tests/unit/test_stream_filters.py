"""The local cloud's stream mappings apply Lambda's FilterCriteria (the subset the templates use)."""

from __future__ import annotations

import pytest

from localcloud.streams.poller import matches_filters

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("record", "patterns", "expected"),
    [
        ({"eventName": "INSERT"}, ('{"eventName":["INSERT"]}',), True),
        ({"eventName": "REMOVE"}, ('{"eventName":["INSERT"]}',), False),
        ({"eventName": "MODIFY"}, ('{"eventName":["INSERT"]}', '{"eventName":["MODIFY"]}'), True),
        ({"dynamodb": {"Keys": {"pk": {"S": "a"}}}}, ('{"dynamodb":{"Keys":{"pk":{"S":["a"]}}}}',), True),
        ({"dynamodb": {}}, ('{"dynamodb":{"Keys":{"pk":{"S":["a"]}}}}',), False),
    ],
)
def test_a_record_passes_when_one_pattern_matches(record: dict[str, object], patterns: tuple[str, ...],
                                                  expected: bool) -> None:
    # Given a stream record and a mapping's filter patterns; When matched; Then as Lambda filters
    assert matches_filters(record, patterns) is expected
