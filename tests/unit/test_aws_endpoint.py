"""``.venv/bin/aws`` (the pinned AWS CLI v1 behind ``cli/aws_endpoint.py``) sends every service, SQS in us-east-1
included, to ``AWS_ENDPOINT_URL``: v1 alone sends ``aws sqs list-queues`` to ``queue.amazonaws.com``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from cli.aws_endpoint import install

pytestmark = pytest.mark.unit


class Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Recorder.requests.append(self.headers.get("X-Amz-Target", "") or self.path)
        body = b'{"QueueUrls": ["http://localhost/123456789012/recorded.fifo"]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = HTTPServer(("localhost", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()


def test_aws_sqs_list_queues_with_only_aws_endpoint_url_reaches_that_endpoint(endpoint: str, tmp_path: Path) -> None:
    # Given the aws script make setup writes, and only AWS_ENDPOINT_URL (no --endpoint-url), in us-east-1
    script = tmp_path / "aws"
    install(str(script))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")})
    Recorder.requests.clear()
    # When it lists the queues
    listed = subprocess.run([sys.executable, str(script), "sqs", "list-queues", "--cli-connect-timeout", "2"],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    # Then the request reached the endpoint, and its answer is printed
    assert listed.returncode == 0, listed.stderr
    assert Recorder.requests == ["AmazonSQS.ListQueues"]
    assert "recorded.fifo" in listed.stdout
