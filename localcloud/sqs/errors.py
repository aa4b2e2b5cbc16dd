"""SQS errors over the JSON protocol as AWS sends them: the query API's code in ``x-amzn-query-error`` and the
JSON error type in ``__type``, so the SDK sees both (``Error.Code`` and ``Error.QueryErrorCode``).

SQS speaks JSON with ``awsQueryCompatible``: an error's JSON type (``InvalidParameterValueException``) and its
query-API code (``InvalidParameterValue``) differ for the common validation errors, which the SQS service model
does not list. moto 5.2.5 serialises an error whose code it finds in no model under that code for both, so
``QueryErrorCode`` read ``InvalidParameterValue`` where AWS answers ``InvalidParameterValueException``
(recorded: LocalStack ``tests/aws/services/sqs/test_sqs.snapshot.json``,
``test_fifo_queue_send_message_with_delay_seconds_fails[sqs]`` and every ``InvalidParameterValue`` there;
https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsquerycompatible-trait).
:data:`COMMON_ERRORS` adds those shapes to SQS's error lookup (a patch that fits moto's ``ErrorLookupFactory``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from moto.core import serialize
from moto.core.errors import ErrorShape, get_error_model

from localcloud.motopatches.core import Patch

COMMON_ERRORS: dict[str, tuple[str, int]] = {
    "InvalidParameterValue": ("InvalidParameterValueException", 400),
}
"""Query-API code -> (JSON error type, HTTP status), for SQS errors that the service model leaves out."""


def _shape(code: str) -> ErrorShape:
    name, status = COMMON_ERRORS[code]
    return ErrorShape(shape_name=name, shape_model={
        "type": "structure", "members": {}, "exception": True,
        "error": {"code": code, "httpStatusCode": status, "senderFault": True},
    })


def _get_error_model(original: Any) -> Any:
    @functools.wraps(original)
    def get_error_model(exception: Exception, default_service_model: Any) -> ErrorShape:
        code = getattr(exception, "code", None)
        if default_service_model.service_name == "sqs" and code in COMMON_ERRORS:
            return _shape(code)
        shape: ErrorShape = original(exception, default_service_model)
        return shape

    return get_error_model


def patches() -> Iterator[Patch]:
    """The patches of this module."""
    yield serialize, "get_error_model", _get_error_model(get_error_model)
