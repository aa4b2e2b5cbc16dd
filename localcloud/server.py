"""``python -m localcloud serve``: the local cloud as an AWS endpoint on localhost.

One HTTP server on ``localhost:PORT``: the local cloud answers Lambda (functions, invocations, event source
mappings) and CloudFormation (through its own deployer) and passes every other request to moto. Unless started
``empty``, it deploys the cloud assembly (synthesizing ``app.py`` first when the directory does not exist); stacks
deployed later with ``cdk deploy`` run the same way. The stack outputs are written, per stack, to
``.localcloud/<port>/outputs.json`` (rewritten after every stack change, removed on exit), so two servers in one
checkout never overwrite each other's. The web console is at ``http://localhost:PORT/_console/``
(:mod:`localcloud.console`).

Quiet by default: one line per deployed stack, then one line per minute of totals; ``verbose`` adds the service
logs and every invocation's log.

Example::

    python -m localcloud serve --port 4566            # the example system, deployed
    python -m localcloud serve --port 4567 --empty    # nothing deployed: cdk deploy into it
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from localcloud.apigateway.router import EXECUTE_API_PREFIX, HttpApiProvider
from localcloud.awslambda.provider import LambdaApi
from localcloud.awslambda.runtime import InvocationResult, LocalFunction
from localcloud.cloud import DEFAULT_REGION, LocalCloud, synthesize
from localcloud.cloudformation.deployment import DeployedStack
from localcloud.cloudformation.provider import CloudFormationApi
from localcloud.cloudtrail import CloudTrailApi
from localcloud.console import CONSOLE, ConsoleApi
from localcloud.errors import LocalCloudError
from localcloud.gateway import EndpointServer

STATE_DIR = Path(".localcloud")
"""Per-port state of the servers of this checkout: ``<port>/outputs.json`` and ``<port>/code/``."""
TOTALS_INTERVAL_SECONDS = 60.0


def state_dir(port: int, root: Path = STATE_DIR) -> Path:
    """The directory of the server on ``port`` (``.localcloud/4566``)."""
    return root / str(port)


def outputs_file(port: int, root: Path = STATE_DIR) -> Path:
    """Where the server on ``port`` writes its stack outputs (``.localcloud/4566/outputs.json``)."""
    return state_dir(port, root) / "outputs.json"


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def require_free_port(port: int) -> None:
    """Fail before anything starts if another program listens on ``port`` (the deployment would go to it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no conflict
        try:
            probe.bind(("localhost", port))
        except OSError as exc:
            raise LocalCloudError(f"port {port} is in use ({exc.strerror}): stop that program or pass --port") from exc


@dataclass
class Totals:
    """Invocation counts, overall and since the last report."""

    invocations: int = 0
    failed: int = 0
    minute_invocations: int = 0
    minute_failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, function: LocalFunction, result: InvocationResult) -> None:
        """Count one invocation (an invocation listener of every function)."""
        with self.lock:
            self.invocations += 1
            self.minute_invocations += 1
            if not result.ok:
                self.failed += 1
                self.minute_failed += 1

    def report(self, cloud: LocalCloud) -> str:
        """The totals line, and a new minute begins."""
        with self.lock:
            line = (f"{time.strftime('%H:%M:%S')} last minute: {self.minute_invocations} invocations, "
                    f"{self.minute_failed} failed; total {self.invocations} ({self.failed} failed); "
                    f"{len(cloud.deployment.stacks)} stacks, {len(cloud.triggers)} triggers polling")
            self.minute_invocations = self.minute_failed = 0
        return line


def stack_line(stack: DeployedStack) -> str:
    """One line per stack: name, status, resources, outputs."""
    skipped = len(stack.skipped)
    outputs = sum(1 for key in stack.outputs if not key.startswith("ExportsOutput"))
    reason = f" ({stack.status_reason})" if (stack.status_reason and not stack.status.endswith("_COMPLETE")) or (
        "ROLLBACK" in stack.status) else ""
    return (f"stack {stack.name}: {stack.status}{reason}, {len(stack.resources)} resources "
            f"({skipped} not emulated or conditional), {outputs} outputs")


class LocalCloudServer:
    """The endpoint, the local cloud behind it, its outputs file and its console lines."""

    def __init__(self, port: int, *, region: str = DEFAULT_REGION, verbose: bool = False,
                 root: Path = STATE_DIR) -> None:
        self.port = port
        self.verbose = verbose
        self.outputs_path = outputs_file(port, root)
        self.cloud = LocalCloud(endpoint_url=f"http://localhost:{port}", region=region,
                                code_cache=state_dir(port, root) / "code")
        self.cloud.invocation_listeners.append(self._invoked)
        self.totals = Totals()
        self._write_lock = threading.Lock()
        http_apis = HttpApiProvider(self.cloud)
        self.endpoint = EndpointServer("localhost", port, {
            "lambda": LambdaApi(self.cloud),
            "cloudformation": CloudFormationApi(self.cloud, on_change=self._stack_changed),
            "cloudtrail": CloudTrailApi(),
            "execute-api": http_apis,
        }, access_log=verbose, routes={CONSOLE: ConsoleApi(self.cloud), EXECUTE_API_PREFIX: http_apis})

    @property
    def url(self) -> str:
        return self.endpoint.url

    def start(self) -> None:
        """Serve, with the triggers of whatever gets deployed running."""
        self.endpoint.start()
        self.cloud.start_pollers()
        self.write_outputs()

    def stop(self) -> None:
        """Stop serving; the outputs file goes, and the port's directory with it unless it holds a code cache."""
        self.outputs_path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.outputs_path.parent.rmdir()
        self.cloud.stop()
        self.endpoint.stop()

    def deploy(self, assembly: Path) -> None:
        """Deploy a cloud assembly (what ``make local`` runs before anyone calls the endpoint)."""
        before = {name: stack.status for name, stack in self.cloud.deployment.stacks.items()}
        self.cloud.deploy(assembly)
        for name, stack in self.cloud.deployment.stacks.items():
            if before.get(name) != stack.status or name not in before:
                _print(stack_line(stack))
        self.write_outputs()

    def write_outputs(self) -> None:
        """Write every stack's outputs (``{stack: {key: value}}``, the ``cdk deploy --outputs-file`` form)."""
        document = {name: {k: str(v) for k, v in sorted(stack.outputs.items())}
                    for name, stack in sorted(self.cloud.deployment.stacks.items())}
        with self._write_lock:
            self.outputs_path.parent.mkdir(parents=True, exist_ok=True)
            staging = self.outputs_path.with_suffix(".json.tmp")
            staging.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            staging.replace(self.outputs_path)

    def _stack_changed(self, stack: DeployedStack) -> None:
        _print(stack_line(stack))
        self.write_outputs()

    def _invoked(self, function: LocalFunction, result: InvocationResult) -> None:
        self.totals.count(function, result)
        if self.verbose and result.log:
            _print(result.log)


APP_SOURCES = ("app.py", "cdk.json", "infra", "cli/stages.py")
"""What the templates are made from: an assembly older than any of these is synthesized again."""


def outdated_by(assembly: Path, app_dir: Path, sources: tuple[str, ...] = APP_SOURCES) -> Path | None:
    """The first app source newer than the assembly's manifest (None: the assembly is current or not the app's)."""
    manifest = assembly / "manifest.json"
    if not manifest.is_file():
        return None
    built = manifest.stat().st_mtime
    for name in sources:
        root = app_dir / name
        files = [root] if root.is_file() else sorted(root.rglob("*.py")) if root.is_dir() else []
        newer = next((f for f in files if f.stat().st_mtime > built), None)
        if newer is not None:
            return newer
    return None


def serve(port: int, assembly: Path | None, region: str, *, verbose: bool = False, once: bool = False,
          stage: str | None = None, refresh: bool = False) -> int:
    """Run the server until interrupted (or, with ``once``, until deployed); ``assembly`` None starts empty.
    ``refresh``: synthesize the assembly again when the app changed since (the default ``cdk.out`` of ``make local``).
    """
    started = time.monotonic()
    require_free_port(port)
    if assembly is not None and not assembly.exists():
        _print(f"{assembly} not found: synthesizing app.py into it (asset bundling skipped)")
        synthesize(assembly, stage=stage)
    elif assembly is not None and refresh and (newer := outdated_by(assembly, Path.cwd())) is not None:
        _print(f"{newer.relative_to(Path.cwd())} changed after {assembly} was made: synthesizing app.py again "
               "(asset bundling skipped)")
        synthesize(assembly, stage=stage)
    server = LocalCloudServer(port, region=region, verbose=verbose)
    try:
        server.start()
        _print(f"local cloud at {server.url} (region {region}, any credentials); outputs in {server.outputs_path}")
        if assembly is not None:
            server.deploy(assembly)
        _print(f"ready in {time.monotonic() - started:.1f}s: {len(server.cloud.triggers)} triggers polling; Ctrl-C "
               "to stop")
        if once:
            return 0
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(TOTALS_INTERVAL_SECONDS):
                _print(server.totals.report(server.cloud))
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        server.stop()


def configure_logging(verbose: bool) -> None:
    """Quiet: errors only. Verbose: the local cloud's own info lines too."""
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The request log, and moto's "not implemented" tracebacks (the client gets the error response anyway).
    logging.getLogger("werkzeug").setLevel(logging.ERROR if verbose else logging.CRITICAL)
