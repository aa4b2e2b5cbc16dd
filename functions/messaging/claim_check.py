"""Claim check for large payloads (the pattern of the Amazon SQS Extended Client Library, the CloudEvents way).

SNS and SQS take at most :data:`CHANNEL_LIMIT_BYTES` per message (body and message attributes together). When a
message would be larger, the sender stores its ``data`` as a JSON object in the messaging system's claim-check bucket
and sends the envelope without ``data`` but with a ``dataref`` (``s3://bucket/key?versionId=...``, the CloudEvents
dataref extension). The consumer resolves the ``dataref`` before validation, so handlers never see the difference.
``data`` above :data:`MAX_DATA_BYTES` is refused before anything is sent.

The object key is derived from the message identity (``source`` + ``id``), so a resend of the same message writes
the same key; the version id in the ``dataref`` pins the bytes that were sent. Objects expire with the bucket's
lifecycle rule, which outlives every way a message can come back (retries, the DLQ, redrives).

Example:
    >>> from messaging.envelope import command
    >>> class FakeS3:
    ...     objects = {}
    ...     def put_object(self, **kwargs):
    ...         self.objects[kwargs["Key"]] = kwargs["Body"]
    ...         return {"VersionId": "v1"}
    >>> claims = ClaimCheck("claims-bucket", client=FakeS3())
    >>> cmd = command("billing.SettlementReport", {"rows": "x" * 300_000}, source="/web", partitionkey="p-1")
    >>> sent = claims.offload_if_large(cmd)
    >>> (sent.data, sent.dataref.startswith("s3://claims-bucket/claims/"), sent.dataref.endswith("?versionId=v1"))
    (None, True, True)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from messaging.aws import LazyClient
from messaging.codec import CloudEventJsonCodec
from messaging.envelope import Envelope
from messaging.errors import DataRefUnresolvable, InvalidAttribute, PayloadTooLarge
from messaging.fifo import dedup_id_of

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

CHANNEL_LIMIT_BYTES = 262_144
"""Largest message SNS and SQS accept: 256 KiB, the body and the message attributes (names, types, values)."""
MAX_DATA_BYTES = 5 * 1024 * 1024
"""Largest ``data`` (UTF-8 JSON) a client sends through the claim check: 5 MiB. A consumer reads it into memory."""
KEY_PREFIX = "claims/"

# Botocore / S3 error codes that say the object, its version or the bucket cannot be read (retrying cannot help).
_UNREADABLE = {"NoSuchKey", "NoSuchVersion", "NoSuchBucket", "AccessDenied", "InvalidArgument", "404", "403", "400"}


def message_size(body: str, attributes: Mapping[str, Mapping[str, Any]] | None = None) -> int:
    """Bytes SNS/SQS count for a message: the UTF-8 body plus each attribute's name, data type and value.

    Example:
        >>> message_size("{}", {"type": {"DataType": "String", "StringValue": "a.B"}})
        15
    """
    size = len(body.encode("utf-8"))
    for name, attribute in (attributes or {}).items():
        value = attribute.get("StringValue", attribute.get("BinaryValue", b""))
        encoded = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        size += len(name.encode("utf-8")) + len(str(attribute.get("DataType", "")).encode("utf-8")) + len(encoded)
    return size


def envelope_size(envelope: Envelope, codec: CloudEventJsonCodec) -> int:
    """Bytes of ``envelope`` on a channel: its CloudEvents JSON plus the ``type``/``kind`` attributes channels add."""
    attributes = {
        "type": {"DataType": "String", "StringValue": envelope.type},
        "kind": {"DataType": "String", "StringValue": envelope.kind.value},
    }
    return message_size(codec.encode(envelope), attributes)


def data_bytes(data: Mapping[str, Any] | None) -> bytes:
    """``data`` as the UTF-8 JSON stored in the bucket; raises :class:`~messaging.errors.PayloadTooLarge` above the
    maximum and :class:`TypeError` when it is not JSON-serializable."""
    body = json.dumps(dict(data or {}), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(body) > MAX_DATA_BYTES:
        raise PayloadTooLarge(f"data is {len(body):,} bytes; the maximum is {MAX_DATA_BYTES:,} bytes (5 MiB)")
    return body


def parse_dataref(dataref: str) -> tuple[str, str, str | None]:
    """``(bucket, key, version id)`` of an ``s3://`` dataref; raises :class:`~messaging.errors.DataRefUnresolvable`.

    Example:
        >>> parse_dataref("s3://claims/claims/ab12?versionId=v7")
        ('claims', 'claims/ab12', 'v7')
    """
    parts = urlsplit(dataref)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key:
        raise DataRefUnresolvable("dataref must be s3://<bucket>/<key>[?versionId=...]")
    versions = parse_qs(parts.query).get("versionId")
    return parts.netloc, key, versions[0] if versions else None


class ClaimCheck:
    """Stores large ``data`` in the claim-check bucket (client side) and resolves ``dataref`` (consumer side).

    Producers need ``s3:PutObject`` on the bucket and ``kms:GenerateDataKey`` on its key; consumers ``s3:GetObject``
    / ``s3:GetObjectVersion`` and ``kms:Decrypt`` (``infra.claim_check.ClaimCheckBucket`` grants them).
    """

    def __init__(
        self, bucket: str, client: S3Client | None = None, *, codec: CloudEventJsonCodec | None = None
    ) -> None:
        self.bucket = bucket
        self._s3: LazyClient[S3Client] = LazyClient("s3", client)
        self._codec = codec or CloudEventJsonCodec()

    # -- sender ----------------------------------------------------------------------------------------------------

    def offload_if_large(self, envelope: Envelope) -> Envelope:
        """``envelope`` itself if it fits its channel, else a copy whose ``data`` is in the bucket (``dataref``)."""
        return offload_if_large(envelope, self, self._codec)

    def store(self, envelope: Envelope, body: bytes) -> str:
        """Put ``body`` (``data`` as JSON) under a key derived from the message identity; return the dataref."""
        key = f"{KEY_PREFIX}{dedup_id_of(envelope.source, envelope.id)}"
        response = self._s3.get().put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="application/json"
        )
        version = response.get("VersionId")
        return f"s3://{self.bucket}/{key}" + (f"?versionId={version}" if version and version != "null" else "")

    # -- consumer --------------------------------------------------------------------------------------------------

    def resolve(self, envelope: Envelope) -> Envelope:
        """``envelope`` with ``data`` read from its ``dataref`` (and no ``dataref``); unchanged without one.

        Raises :class:`~messaging.errors.DataRefUnresolvable` (permanent) when the reference is malformed, names
        another bucket, or the object is missing, unreadable, too large or not a JSON object. Throttling and server
        errors propagate (transient: SQS retries).
        """
        if envelope.dataref is None:
            return envelope
        bucket, key, version = parse_dataref(envelope.dataref)
        if bucket != self.bucket:
            raise DataRefUnresolvable("dataref names a bucket that is not this system's claim-check bucket")
        body = self._read(key, version)
        try:
            data = self._codec.decode_data(body)
        except (InvalidAttribute, ValueError) as exc:
            raise DataRefUnresolvable(f"the object dataref points to is not a JSON object: {exc}") from exc
        return replace(envelope, data=data, dataref=None)

    def _read(self, key: str, version: str | None) -> bytes:
        from botocore.exceptions import ClientError  # noqa: PLC0415 - boto3 is imported on first use

        s3 = self._s3.get()
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version:
            request["VersionId"] = version
        try:
            response = s3.get_object(**request)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _UNREADABLE:
                raise DataRefUnresolvable(f"the object dataref points to cannot be read ({code})") from exc
            raise
        length = int(response.get("ContentLength") or 0)
        if length > MAX_DATA_BYTES:
            response["Body"].close()
            raise DataRefUnresolvable(f"the object dataref points to is {length:,} bytes, over {MAX_DATA_BYTES:,}")
        body: bytes = response["Body"].read(MAX_DATA_BYTES + 1)
        if len(body) > MAX_DATA_BYTES:
            raise DataRefUnresolvable(f"the object dataref points to is over {MAX_DATA_BYTES:,} bytes")
        return body


def offload_if_large(envelope: Envelope, claims: ClaimCheck | None, codec: CloudEventJsonCodec) -> Envelope:
    """What a sender puts on the channel: ``envelope`` if it fits, else its claim-checked copy.

    Raises :class:`~messaging.errors.PayloadTooLarge` when ``data`` is over :data:`MAX_DATA_BYTES`, when it does not
    fit and there is no claim-check bucket, or when even the claim-checked envelope does not fit.
    """
    body = data_bytes(envelope.data)
    if envelope_size(envelope, codec) <= CHANNEL_LIMIT_BYTES:
        return envelope
    if claims is None:
        raise PayloadTooLarge(
            f"the message is over the {CHANNEL_LIMIT_BYTES:,}-byte channel limit and no claim-check bucket is "
            "configured to carry its data"
        )
    claimed = replace(envelope, data=None, dataref=claims.store(envelope, body))
    if envelope_size(claimed, codec) > CHANNEL_LIMIT_BYTES:
        raise PayloadTooLarge("the message's attributes alone are over the channel limit")
    return claimed
