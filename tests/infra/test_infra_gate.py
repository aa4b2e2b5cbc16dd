"""The cdk-nag gate, construct guards and the Docker-free bundler (one small synth for the gate)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from infra.compliance import acknowledge, add_nag_gate
from infra.consumer_function import ConsumerFunction
from infra.event_topic import EventTopic
from infra.function_code import PipLocalBundling, bundled_requirements, python_version
from infra.service_queue import ServiceQueue

pytestmark = pytest.mark.infra


def _throwaway_app(*, acknowledged: bool) -> App:
    app = App(analytics_reporting=False, context={"aws:cdk:bundling-stacks": []})
    stack = Stack(app, "Throwaway")
    queue = sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.UNENCRYPTED)
    if acknowledged:
        for rule in ("SQS2", "SQS3", "SQS4"):
            acknowledge(queue, f"AwsSolutions::AwsSolutions-{rule}", "throwaway queue of a gate test")
    add_nag_gate(app)
    return app


def test_nag_gate_fails_synth_on_an_unacknowledged_finding() -> None:
    # Given an app with an unencrypted queue and the gate
    app = _throwaway_app(acknowledged=False)
    # When it is synthesized, Then synthesis fails
    with pytest.raises(RuntimeError, match=r"ValidationFailed(.|\n)*AwsSolutions-SQS2"):
        app.synth()


def test_nag_gate_passes_once_every_finding_is_acknowledged_with_a_reason() -> None:
    # Given the same app with each finding acknowledged
    app = _throwaway_app(acknowledged=True)
    # When it is synthesized, Then it passes
    assert app.synth().get_stack_by_name("Throwaway").template["Resources"]


def test_an_acknowledgement_needs_a_reason() -> None:
    # Given a construct, When acknowledging without a reason, Then it is refused
    with pytest.raises(ValueError, match="reason"):
        acknowledge(Stack(App(), "S"), "AwsSolutions::AwsSolutions-SQS2", "  ")


def test_constructs_refuse_unsafe_settings() -> None:
    stack = Stack(App(), "Guards")
    queue = ServiceQueue(stack, "Q", name="Q", queue_name="q")
    # Then max concurrency below the SQS minimum, a zero receive count and an unfiltered subscription are refused
    with pytest.raises(ValueError, match="max_concurrency"):
        ConsumerFunction(stack, "F", function_name="f", handler="x.h", service_name="x", max_concurrency=1)
    with pytest.raises(ValueError, match="max_receive_count"):
        ServiceQueue(stack, "Zero", name="Zero", queue_name="zero", max_receive_count=0)
    with pytest.raises(ValueError, match="filter"):
        EventTopic(stack, "T", topic_name="t").subscribe_queue(queue, [], ["event"])


def test_visibility_timeout_is_six_times_the_consumer_timeout() -> None:
    # Given a queue, When a 20 s consumer is attached, Then messages stay hidden for 120 s
    queue = ServiceQueue(Stack(App(), "Vis"), "Q", name="Q", queue_name="q")
    queue.set_visibility_timeout_for(Duration.seconds(20))
    cfn = queue.queue.node.default_child
    assert isinstance(cfn, sqs.CfnQueue)
    assert cfn.visibility_timeout == 120


def test_bundled_requirements_leave_the_runtime_sdk_out() -> None:
    # Given a compiled requirements file, When filtered, Then pins stay and boto3/botocore/urllib3 go
    text = "pydantic==2.14.3\n    # via x\nbotocore==1.44.5\nurllib3==2.8.0\naws-lambda-powertools[tracer]==3.37.0\n"
    assert bundled_requirements(text) == ["pydantic==2.14.3", "aws-lambda-powertools[tracer]==3.37.0"]
    assert python_version(lambda_.Runtime.PYTHON_3_14) == "3.14"


def test_local_bundling_installs_the_runtime_wheel_and_copies_the_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a source tree: the runtime package with its pyproject.toml, a service, caches, tests, requirements files
    source = tmp_path / "functions"
    (source / "messaging").mkdir(parents=True)
    (source / "messaging" / "__init__.py").write_text("")
    (source / "pyproject.toml").write_text("[project]\nname = 'fifo-messaging-runtime'\n")
    (source / "svc" / "__pycache__").mkdir(parents=True)
    (source / "svc" / "handler.py").write_text("x = 1\n")
    (source / "svc" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"")
    (source / "catalogue.py").write_text("SHARD_KEYS = {}\n")
    (source / "tests").mkdir()
    (source / "fifo_messaging_runtime.egg-info").mkdir()
    (source / "requirements.in").write_text("pydantic\n")
    (source / "requirements.txt").write_text("pydantic==2.14.3\nbotocore==1.44.5\n")
    calls: list[list[str]] = []

    def fake_run(args: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        if args[3] == "wheel":  # the build: a clean copy of the runtime's project, the wheel into --wheel-dir
            project = Path(args[-1])
            assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == [
                "messaging", "messaging/__init__.py", "pyproject.toml"]
            wheel_dir = Path(args[args.index("--wheel-dir") + 1])
            (wheel_dir / "fifo_messaging_runtime-0.1.0-py3-none-any.whl").write_bytes(b"")
        else:
            assert Path(args[args.index("-r") + 1]).read_text() == "pydantic==2.14.3\n"
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    out = tmp_path / "out"
    # When bundled locally
    assert PipLocalBundling(source, lambda_.Runtime.PYTHON_3_14).try_bundle(str(out)) is True
    # Then the services are copied without the runtime's source, caches, tests or packaging files
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "catalogue.py",
        "svc",
        "svc/handler.py",
    ]
    # And pip installs the built runtime wheel with the pins as arm64 CPython 3.14 wheels
    build, install = calls
    assert build[3:5] == ["wheel", "--quiet"] and "--no-deps" in build
    assert install[3] == "install" and install[-1].endswith("fifo_messaging_runtime-0.1.0-py3-none-any.whl")
    assert install[install.index("--platform") + 1] == "manylinux2014_aarch64"
    assert install[install.index("--python-version") + 1] == "3.14"
    assert "--only-binary=:all:" in install
    assert install[install.index("--target") + 1] == str(out)
