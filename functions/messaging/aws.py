"""boto3 clients created on first use (never at import time), and the base of the DynamoDB table adapters.

Example:
    >>> class FakeDynamoDb:
    ...     def put_item(self, **kwargs):
    ...         return {}
    >>> class Ledger(DynamoDbTableAdapter):
    ...     def record(self, item):
    ...         self.client.put_item(TableName=self.table_name, Item=item)
    >>> Ledger("billing", client=FakeDynamoDb()).record({"pk": {"S": "CUSTOMER#c-1"}})
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

ClientT = TypeVar("ClientT")
_session_lock = threading.RLock()
_session: Any = None


def shared_session() -> Any:
    """The process's one boto3 session, made on first use: every client of a function comes from it, so the service
    models and endpoint data are loaded once (a session per client costs about twice as much on a cold start)."""
    global _session  # noqa: PLW0603 - one per process, like boto3's own default session
    with _session_lock:
        if _session is None:
            import boto3  # noqa: PLC0415 - imported on first use to keep cold imports light

            _session = boto3.session.Session()
        return _session


class LazyClient(Generic[ClientT]):
    """Holds a boto3 client: the injected one, or one created on first use (thread-safe)."""

    def __init__(self, service: str, client: ClientT | None) -> None:
        self._service = service
        self._client = client
        self._lock = threading.Lock()

    def get(self) -> ClientT:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    with _session_lock:  # creating clients from one session is not thread-safe
                        self._client = shared_session().client(self._service)
        return self._client


class DynamoDbTableAdapter:
    """Base of an adapter over one DynamoDB table: its name and a client, injected or created on first use."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client: LazyClient[DynamoDBClient] = LazyClient("dynamodb", client)

    @property
    def client(self) -> DynamoDBClient:
        return self._client.get()
