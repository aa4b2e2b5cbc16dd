"""Baseline reply router (Powertools documentation pattern): store each reply by its correlation id."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from chaos.naive.common import handler

REPLY_TABLE = os.environ["REPLY_TABLE_NAME"]
REPLY_TTL_SECONDS = 24 * 60 * 60
dynamodb = boto3.client("dynamodb")
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])


def process(message: dict[str, Any]) -> None:
    now = time.time()
    dynamodb.put_item(
        TableName=REPLY_TABLE,
        Item={
            "correlationid": {"S": message["correlationid"]},
            "replyid": {"S": f"{message['source']}|{message['id']}"},
            "body": {"S": json.dumps(message)},
            "stored_at": {"N": str(int(now * 1000))},
            "expires_at": {"N": str(int(now + REPLY_TTL_SECONDS))},
        },
    )


lambda_handler = handler(process, persistence)
