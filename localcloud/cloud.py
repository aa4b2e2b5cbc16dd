"""The local cloud: a synthesized cloud assembly deployed into moto, with its functions run in-process.

In-process (tests, demo)::

    with LocalCloud() as cloud:
        cloud.deploy("cdk.out")
        cloud.start_pollers()
        sqs = cloud.client("sqs")
        sqs.send_message(QueueUrl=cloud.outputs["OrdersCommandQueueUrl"], ...)
        cloud.drain(timeout=10)

Against a moto server (``python -m localcloud serve``) the same class runs with ``endpoint_url`` set: the deployer,
the pollers and the handlers all talk to the server.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config
from moto import mock_aws
from moto.sqs.models import sqs_backends

from localcloud import motopatches
from localcloud.assembly import CloudAssembly
from localcloud.awslambda import environ
from localcloud.awslambda.esm import DEFAULT_MAX_INVOCATION_RECORDS, DEFAULT_MAXIMUM_CONCURRENCY, Invocation
from localcloud.awslambda.runtime import InvocationListener, LocalFunction
from localcloud.awslambda.triggers import Triggers
from localcloud.clock import CLOCK, Clock
from localcloud.cloudformation.deployer import DeployedStack, Deployer, Deployment, MappingSpec, StackRequest
from localcloud.cloudwatch.service import CloudWatch
from localcloud.errors import AssemblyError, LocalCloudError
from localcloud.logs import LogShipper
from localcloud.scheduler import ScheduleRunner
from localcloud.sqs.patches import receivable

log = logging.getLogger("localcloud")

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
"""moto's default account: the ARNs and URLs of every local resource carry it."""
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
"""Credentials the local cloud gives its functions and clients (moto accepts any)."""
SYNTH_CONTEXT = {"aws:cdk:bundling-stacks": [], "aws:cdk:enable-asset-metadata": True}


class LocalCloud:
    """A cloud assembly running on moto, in-process (``endpoint_url=None``, uses ``mock_aws``) or on a moto server.

    Example::

        with LocalCloud() as cloud:
            cloud.deploy("cdk.out")
            cloud.outputs["ReplyQueueUrl"]
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str = DEFAULT_REGION,
        default_concurrency: int = DEFAULT_MAXIMUM_CONCURRENCY,
        code_cache: Path | None = None,
        max_invocation_records: int = DEFAULT_MAX_INVOCATION_RECORDS,
    ) -> None:
        """``code_cache``: where function packages deployed through CloudFormation are unpacked (a temporary
        directory unless given)."""
        motopatches.install()
        self._patched = True
        environ.install()
        self.endpoint_url = endpoint_url
        self.region = region
        self.account_id = DEFAULT_ACCOUNT_ID
        self.default_concurrency = default_concurrency
        if max_invocation_records < 1:
            raise LocalCloudError(f"max_invocation_records must be at least 1, not {max_invocation_records}")
        self.deployment = Deployment()
        self.functions: dict[str, LocalFunction] = {}
        self._mock: Any = None
        self._session = boto3.session.Session()
        self._clients: dict[str, Any] = {}
        self._client_lock = threading.Lock()
        self._stack_lock = threading.RLock()
        self.deployer = Deployer(self.client, region=region, account_id=self.account_id,
                                 deployment=self.deployment, code_cache=code_cache,
                                 before_queue_delete=self._sync_runtime)
        self.invocation_listeners: list[InvocationListener] = []
        """Called after every invocation of every function (``listener(function, result)``)."""
        self.triggers = Triggers(lambda: self.client("sqs"), region=region, environment=self.client_environment(),
                                 default_concurrency=default_concurrency,
                                 max_invocation_records=max_invocation_records, client=self.client)
        self.cloudwatch = CloudWatch(self.client, account_id=self.account_id, region=self.region)
        """AWS/Lambda and AWS/SQS metrics, EMF metrics and alarm evaluation on the local clock."""
        self.logs = LogShipper(self.client, on_event=self.cloudwatch.on_log_event)
        """Ships every invocation's log to ``/aws/lambda/<function>`` (``cloud.logs.flush()`` waits for it)."""
        self.scheduler = ScheduleRunner(self.client, account_id=self.account_id, region=region)
        """Fires EventBridge Scheduler one-time schedules on the local clock (runs with the pollers)."""

    # -------------------------------------------------------------------------------------------------- lifecycle
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start moto in-process (no-op against a server)."""
        if self.endpoint_url is None and self._mock is None:
            self._mock = mock_aws()
            self._mock.start()

    def stop(self) -> None:
        """Stop the pollers and, in-process, moto (every resource is gone afterwards)."""
        self.stop_pollers()
        self.logs.stop()
        self.cloudwatch.stop()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._patched:
            motopatches.uninstall()
            self._patched = False

    @property
    def clock(self) -> Clock:
        """The clock of SQS timing rules; ``cloud.clock.advance(31)`` lets visibility timeouts pass at once."""
        return CLOCK

    # ------------------------------------------------------------------------------------------------------ clients
    def client_environment(self) -> dict[str, str | None]:
        """Variables that point an AWS SDK at this local cloud (what functions get)."""
        variables: dict[str, str | None] = {
            **DUMMY_CREDENTIALS,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_PROFILE": None,
            "AWS_CONFIG_FILE": None,
            "AWS_SHARED_CREDENTIALS_FILE": None,
        }
        if self.endpoint_url:
            variables["AWS_ENDPOINT_URL"] = self.endpoint_url
        return variables

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client of ``service`` bound to this local cloud.

        Example::

            cloud.client("sqs").list_queues()
        """
        options: dict[str, Any] = {
            "region_name": self.region,
            "aws_access_key_id": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
            "config": Config(retries={"max_attempts": 2, "mode": "standard"}),
        }
        if self.endpoint_url:
            options["endpoint_url"] = self.endpoint_url
        options.update(kwargs)
        cacheable = not kwargs
        with self._client_lock:
            if cacheable and service in self._clients:
                return self._clients[service]
            client = self._session.client(service, **options)  # type: ignore[call-overload]
            if cacheable:
                self._clients[service] = client
            return client

    # ------------------------------------------------------------------------------------------------------ deploy
    def deploy(self, assembly_dir: str | Path) -> Deployment:
        """Deploy every stack of the cloud assembly in ``assembly_dir`` (creating or updating each); returns the
        accumulated deployment."""
        assembly = CloudAssembly.load(Path(assembly_dir))
        with self._stack_lock:
            try:
                with environ.overlay(self.client_environment()):
                    self.deployer.deploy(assembly)
            finally:
                self._sync_runtime()
        return self.deployment

    def apply_stack(self, request: StackRequest) -> DeployedStack:
        """Create or update one stack (what CloudFormation's ``ExecuteChangeSet`` does) and run what it deploys."""
        with self._stack_lock:
            try:
                with environ.overlay(self.client_environment()):
                    return self.deployer.apply(request)
            finally:
                self._sync_runtime()

    def delete_stack(self, name: str) -> DeployedStack:
        """Delete one stack and stop what ran from it."""
        with self._stack_lock:
            try:
                with environ.overlay(self.client_environment()):
                    return self.deployer.delete(name)
            finally:
                self._sync_runtime()

    def update_mapping(self, spec: MappingSpec) -> MappingSpec:
        """Change an event source mapping (``UpdateEventSourceMapping``): disabling stops its polling, enabling
        starts it, other changes restart it."""
        with self._stack_lock:
            self.deployment.put_mapping(spec)
            self._sync_runtime()
        return spec

    @property
    def stack_lock(self) -> threading.RLock:
        """Held while a stack operation runs (stack operations are serialized, as one CloudFormation client's are)."""
        return self._stack_lock

    def _sync_runtime(self) -> None:
        """Functions and triggers follow the deployment: new or changed functions get a fresh loader (their module
        is imported again from the new code), removed ones go; triggers start, stop or restart accordingly."""
        extra = self.client_environment()
        for name, spec in self.deployment.functions.items():
            current = self.functions.get(name)
            if current is None or current.spec != spec:
                function = LocalFunction(spec, extra_env=extra)
                for listener in self.invocation_listeners:
                    function.add_listener(listener)
                self.logs.attach(function)
                self.cloudwatch.attach(function)
                self.functions[name] = function
        for name in set(self.functions) - set(self.deployment.functions):
            del self.functions[name]
        self.triggers.sync(self.deployment.mappings, self.functions, self.deployment.queues)
        self.start_monitoring()

    def start_monitoring(self) -> None:
        """Ship logs and publish metrics, evaluate alarms (started once something is deployed; idempotent)."""
        self.logs.start()
        self.cloudwatch.start()

    @property
    def outputs(self) -> dict[str, Any]:
        """Every stack output, flat (output id -> local URL / ARN / name)."""
        return self.deployment.outputs

    @property
    def stack_outputs(self) -> dict[str, dict[str, Any]]:
        """Outputs per stack name."""
        return {name: dict(stack.outputs) for name, stack in self.deployment.stacks.items()}

    def function(self, name_or_logical_prefix: str) -> LocalFunction:
        """A deployed function by name, or by the start of its logical id (``"OrdersConsumer"``)."""
        if name_or_logical_prefix in self.functions:
            return self.functions[name_or_logical_prefix]
        matches = [f for f in self.functions.values() if f.spec.logical_id.startswith(name_or_logical_prefix)]
        if len(matches) != 1:
            raise LocalCloudError(f"{len(matches)} functions match {name_or_logical_prefix!r}")
        return matches[0]

    # ----------------------------------------------------------------------------------------------------- pollers
    def start_pollers(self) -> None:
        """Run the event source mappings deployed so far, and from now on those deployed later."""
        with self._stack_lock:
            self.triggers.start(self.deployment.mappings, self.functions, self.deployment.queues)
        self.scheduler.start()

    def stop_pollers(self) -> None:
        """Stop polling (and firing schedules); running batches finish first."""
        self.scheduler.stop()
        self.triggers.stop()

    @property
    def invocations(self) -> list[Invocation]:
        """The newest batch invocations of the triggers (at most ``max_invocation_records``), oldest first."""
        return self.triggers.invocations

    @property
    def max_invocation_records(self) -> int:
        """How many invocation records :attr:`invocations` keeps (the newest); settable at any time."""
        return self.triggers.max_invocation_records

    @max_invocation_records.setter
    def max_invocation_records(self, value: int) -> None:
        if value < 1:
            raise LocalCloudError(f"max_invocation_records must be at least 1, not {value}")
        self.triggers.keep(value)

    @property
    def invocation_count(self) -> int:
        """Batch invocations run by the triggers so far, including those no longer in :attr:`invocations`."""
        return self.triggers.invocation_count

    def drain(self, timeout: float = 30.0, *, advance_clock: bool = False) -> bool:
        """Run until every polled queue is empty and no batch is running; False if ``timeout`` passed first.

        With ``advance_clock`` the clock jumps to the next visibility-timeout expiry (or the next scheduled message)
        whenever only in-flight messages or pending schedules are left, so retries, redrives and delayed deliveries
        happen without waiting. A pending one-time schedule counts as work left. Once idle, the invocations' logs are
        shipped to CloudWatch Logs and the gathered metrics written before it returns.

        Example::

            cloud.drain(timeout=10, advance_clock=True)
        """
        deadline = time.monotonic() + timeout
        idle_since: float | None = None
        while time.monotonic() < deadline:
            # The queues first, then the pollers: a receive before the snapshot has made its messages in flight and
            # still counts as busy now, so the clock never jumps past the visibility timeout of a running batch. (The
            # other order let a receive land between the two reads: the batch ran, its receipts expired under it, and
            # SQS delivered its messages again.)
            visible, next_visible = self._queue_state()
            scheduled = self.scheduler.next_due() if self.scheduler.running else None
            if scheduled is not None:
                next_visible = scheduled if next_visible is None else min(next_visible, scheduled)
            busy = self.triggers.busy()
            if not busy and visible == 0 and next_visible is None:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= 0.05:
                    shipped = self.logs.flush(max(0.0, deadline - time.monotonic()))
                    self.cloudwatch.flush()
                    return shipped
            else:
                idle_since = None
                if advance_clock and not busy and visible == 0 and next_visible is not None:
                    CLOCK.advance(next_visible + 0.01)
            time.sleep(0.01)
        return False

    def _queue_state(self) -> tuple[int, float | None]:
        """Receivable messages in polled queues, and seconds until the next in-flight or delayed one becomes visible.

        On a FIFO queue a visible message waiting behind an in-flight message of its group cannot be received until
        that one is deleted or visible again (:func:`~localcloud.sqs.patches.receivable`), so it does not count as
        receivable: the clock must move for it.
        """
        arns = self.triggers.polled_queues
        visible = 0
        wake: float | None = None
        now = CLOCK.now_millis()
        with motopatches.MOTO_LOCK:
            backend = sqs_backends[self.account_id][self.region]
            for arn in arns:
                queue = backend.queues.get(arn.rsplit(":", 1)[-1])
                if queue is None:
                    continue
                visible += len(receivable(queue))
                for message in queue._messages:
                    due = max(message.visible_at, message.delayed_until)
                    if due >= now:
                        seconds = (due - now) / 1000.0
                        wake = seconds if wake is None else min(wake, seconds)
        return visible, wake


def synthesize(
    assembly_dir: Path, *, app_dir: Path | None = None, python: str | None = None, stage: str | None = None
) -> Path:
    """Run ``app.py`` to synthesize the cloud assembly into ``assembly_dir`` (asset bundling skipped), for the
    stage ``stage`` (the CDK context ``stage``; None: the default, unprefixed names).

    Example::

        synthesize(Path("cdk.out"))
        synthesize(Path("cdk.out.dev"), stage="dev")
    """
    app_dir = app_dir or Path.cwd()
    if not (app_dir / "app.py").is_file():
        raise AssemblyError(f"{assembly_dir} does not exist and there is no app.py in {app_dir} to synthesize it")
    env = dict(os.environ.copy() if hasattr(os.environ, "copy") else os.environ)
    env["CDK_OUTDIR"] = str(assembly_dir.resolve())
    env["CDK_CONTEXT_JSON"] = json.dumps({**SYNTH_CONTEXT, **({"stage": stage} if stage else {})})
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    env.setdefault("CDK_DEFAULT_ACCOUNT", DEFAULT_ACCOUNT_ID)
    env.setdefault("CDK_DEFAULT_REGION", DEFAULT_REGION)
    interpreter = python or sys.executable
    completed = subprocess.run(  # noqa: S603 - the project's own app, run with the project's interpreter
        [interpreter, "app.py"], cwd=app_dir, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise AssemblyError(f"synthesis failed:\n{completed.stderr[-4000:]}")
    return assembly_dir
