"""The sabotage of ``make chaos --sabotage``: what reaches DynamoDB and what SNS seems to answer."""

from __future__ import annotations

import pytest

from chaos.faults import Sabotage, _acknowledged, _drop_conditions

pytestmark = pytest.mark.unit


def test_drop_conditions_strips_every_condition_and_what_only_it_used() -> None:
    # Given the commit's riding put, a conditional update and a transaction with a condition check
    put = {"TableName": "t", "Item": {}, "ConditionExpression": "attribute_not_exists(#k0)",
           "ExpressionAttributeNames": {"#k0": "pk"}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    update = {"TableName": "t", "Key": {}, "UpdateExpression": "SET #c0 = :c0",
              "ConditionExpression": "attribute_exists(#k0) AND #e0 = :e0",
              "ExpressionAttributeNames": {"#c0": "status", "#k0": "pk", "#e0": "status"},
              "ExpressionAttributeValues": {":c0": {"S": "cancelled"}, ":e0": {"S": "open"}}}
    transaction = {"TransactItems": [{"Put": dict(put)}, {"ConditionCheck": {"ConditionExpression": "x"}}]}
    # When the sabotage rewrites them
    _drop_conditions("PutItem", put)
    _drop_conditions("UpdateItem", update)
    _drop_conditions("TransactWriteItems", transaction)
    # Then no condition is left, and no name or value that only a condition used
    assert put == {"TableName": "t", "Item": {}}
    assert update == {"TableName": "t", "Key": {}, "UpdateExpression": "SET #c0 = :c0",
                      "ExpressionAttributeNames": {"#c0": "status"},
                      "ExpressionAttributeValues": {":c0": {"S": "cancelled"}}}
    assert transaction == {"TransactItems": [{"Put": {"TableName": "t", "Item": {}}}]}


def test_a_dropped_publish_is_answered_as_a_success() -> None:
    # When a publish batch is dropped / Then each entry is reported successful, as SNS would
    http, parsed = _acknowledged("PublishBatch", {"PublishBatchRequestEntries": [{"Id": "0"}, {"Id": "1"}]})
    assert http.status_code == 200
    assert [entry["Id"] for entry in parsed["Successful"]] == ["0", "1"] and parsed["Failed"] == []
    assert "MessageId" in _acknowledged("Publish", {})[1]


def test_sabotage_is_named_on_the_command_line() -> None:
    # Then the names select the faults, and an unknown one is refused
    assert Sabotage.named(["drop-conditions", "drop-publishes"]).describe() == ["drop-conditions", "drop-publishes"]
    assert Sabotage.named([]) == Sabotage()
    with pytest.raises(ValueError, match="unknown sabotage"):
        Sabotage.named(["drop-everything"])
