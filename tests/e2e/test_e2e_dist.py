"""``make dist``'s wheels installed into a fresh virtualenv outside the checkout (``pip install dist/*.whl``): the
runtime and the command come from that virtualenv alone, and ``fifo-messaging request`` gets a CreateOrder reply from
a local cloud server as it does from ``make local``.

The consumer outside Lambda of docs/own-code.md runs there too, on the installed runtime alone.

Slow (about a minute: two isolated builds, then pip installs the runtime's dependencies into the new virtualenv).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import dist
from localcloud.server import LocalCloudServer
from tests.support.servers import deployed_server
from tests.support.snippets import documented

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_SECONDS = 600
ORDER = {"customer_id": "customer-dist", "lines": [{"sku": "book", "quantity": 2, "unit_price": "12.50"}]}


def _environment() -> dict[str, str]:
    """This process's environment without what could lead to the checkout or elsewhere (no PYTHONPATH, no AWS_*)."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MESSAGING_")) and k not in dropped}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("dist-elsewhere")
    assert ROOT not in work.resolve().parents, "the test must run outside the checkout"
    return work


@pytest.fixture(scope="module")
def venv_bin(workdir: Path) -> Path:
    """``make dist`` into ``workdir/dist``, then a fresh virtualenv with ``pip install dist/*.whl``."""
    wheels = dist.build_dist(workdir / "dist")
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *map(str, wheels)],
        cwd=workdir, env=_environment(), capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS, check=False,
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-3000:]
    return venv / "bin"


@pytest.fixture(scope="module")
def server(example_assembly: Path, workdir: Path) -> Iterator[LocalCloudServer]:
    with deployed_server(example_assembly, workdir / "localcloud-state") as local:
        yield local


def test_the_installed_packages_come_from_the_virtualenv_with_every_runtime_module(venv_bin: Path,
                                                                                     workdir: Path) -> None:
    # Given the two wheels installed in a fresh virtualenv
    script = (
        "import importlib.metadata as md, json, pkgutil, cli, catalogue, orders, messaging, messaging.consumer, "
        "messaging.client\n"
        "print(json.dumps({'files': [m.__file__ for m in (cli, catalogue, orders, messaging)],"
        " 'modules': sorted(m.name for m in pkgutil.iter_modules(messaging.__path__)),"
        " 'version': md.version('fifo-messaging-runtime'), 'requires': md.requires('fifo-messaging-runtime')}))"
    )
    # When its Python imports them from a directory outside the checkout, with no PYTHONPATH
    done = subprocess.run([str(venv_bin / "python"), "-c", script], cwd=workdir, env=_environment(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    # Then every package is the virtualenv's, the runtime has each module of functions/messaging (found, not listed)
    site = str(venv_bin.parent)
    assert all(path.startswith(site) for path in found["files"]), found["files"]
    runtime = ROOT / "functions" / "messaging"
    assert found["modules"] == sorted([p.stem for p in runtime.glob("*.py") if p.stem != "__init__"]
                                      + [p.parent.name for p in runtime.glob("*/__init__.py")])
    # And the wheel's metadata declares the runtime's dependencies as ranges
    assert found["version"] == "0.1.0"
    assert any(r.startswith("pydantic") and "<3" in r for r in found["requires"]), found["requires"]
    assert any(r.startswith("aws-lambda-powertools[tracer]") for r in found["requires"]), found["requires"]


def test_the_installed_command_gets_a_reply_from_a_local_cloud(venv_bin: Path, workdir: Path,
                                                               server: LocalCloudServer) -> None:
    # Given a local cloud server as make local runs it, and the installed fifo-messaging command
    command = [str(venv_bin / "fifo-messaging"), "--endpoint-url", f"http://localhost:{server.port}", "request",
               "orders-command", "orders.CreateOrder", "-d", json.dumps(ORDER), "--timeout", "30"]
    # When it sends a CreateOrder from a directory outside the checkout (the partition key from the catalogue)
    done = subprocess.run(command, cwd=workdir, env=_environment(), capture_output=True, text=True, timeout=120,
                          check=False)
    # Then it exits 0 with the order's success reply
    assert done.returncode == 0, done.stdout + done.stderr
    assert "success" in done.stdout and "25.00" in done.stdout, done.stdout


def test_the_readmes_consumer_runs_on_the_installed_runtime(venv_bin: Path, workdir: Path,
                                                            server: LocalCloudServer) -> None:
    # Given the docs' consumer outside Lambda (its own queue and table, MessageConsumer, a delivery handled twice)
    (consumer,) = [s for s in documented(ROOT) if s.language == "python" and "applied once" in " ".join(s.expect)]
    env = {**_environment(), "AWS_ENDPOINT_URL": f"http://localhost:{server.port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    # When the installed virtualenv's Python runs it outside the checkout
    done = subprocess.run([str(venv_bin / "python"), "-c", consumer.script()], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    # Then it prints what the page says: both deliveries handled, the label applied once
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    for expected in consumer.expect:
        assert expected in done.stdout, (expected, done.stdout[-2000:])
