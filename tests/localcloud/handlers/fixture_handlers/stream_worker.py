"""Test handler of DynamoDB stream batches: records each batch in ``RECORD_PATH`` (JSON lines), and fails as the
items say: ``fail_once`` (reported in batchItemFailures on its first delivery), ``raise`` (the invocation raises,
always)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = Path(os.environ["RECORD_PATH"])
    seen_path = path.with_suffix(".seen")
    seen = set(seen_path.read_text().split()) if seen_path.exists() else set()
    records = [(r["dynamodb"]["SequenceNumber"], r["dynamodb"]["NewImage"]) for r in event["Records"]]
    with path.open("a") as out:
        out.write(json.dumps([[seq, image["pk"]["S"], image["sk"]["S"]] for seq, image in records]) + "\n")
    for sequence, image in records:
        action = image.get("action", {}).get("S", "ok")
        if action == "raise":
            raise RuntimeError("this item always fails")
        if action == "fail_once" and sequence not in seen:
            seen_path.write_text(" ".join([*seen, sequence]))
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
    return {"batchItemFailures": []}
