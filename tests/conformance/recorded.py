"""What the conformance cases compare with: behaviours recorded against AWS, and how to read an error.

Where the AWS documentation does not say what a call answers, a case cites a recording made against AWS by a public
project: LocalStack's snapshot files (``tests/aws/services/<svc>/test_<svc>.snapshot.json``, each entry the response
AWS gave to the test of that name) and its AWS-validated tests (``@markers.aws.validated``), at :data:`LOCALSTACK`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

LOCALSTACK = "github.com/localstack/localstack@8b9a79f05846835cf4dff63ab7eefdde9df83783"
SQS_SNAPSHOT = "tests/aws/services/sqs/test_sqs.snapshot.json"
SNS_SNAPSHOT = "tests/aws/services/sns/test_sns.snapshot.json"


def error_of(call: Callable[[], Any]) -> dict[str, Any]:
    """The error response of a call that must fail (the test fails when it succeeds)."""
    with pytest.raises(ClientError) as caught:
        call()
    response: dict[str, Any] = caught.value.response
    return response


def assert_error(response: dict[str, Any], code: str, message: str, *, query: str | None = None,
                 status: int = 400) -> None:
    """The SDK's view of an error: ``Error.Code``, ``Error.Message``, the JSON protocol's ``QueryErrorCode``
    (``x-amzn-query-error``: SQS answers JSON clients with the query API's code and the JSON type both) and the
    HTTP status."""
    error = response["Error"]
    seen = (error.get("Code"), error.get("Message"), error.get("QueryErrorCode"),
            response["ResponseMetadata"]["HTTPStatusCode"])
    expected = (code, message, query, status)
    assert seen == expected, f"AWS answers {expected}, here {seen}"
