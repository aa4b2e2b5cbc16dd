"""Every shell and Python block of the README and of the docs pages runs as written against a local cloud server
started as ``make local`` starts one (``python -m localcloud serve``, on a free port), with the environment the
README's fixture block sets: ``AWS_ENDPOINT_URL`` and dummy credentials, the virtualenv's ``bin`` first on the
``PATH``. A block marked
``cwd: any`` runs in a directory outside the checkout. Blocks run in README order, then each docs page's in the order
of the README's Reference list; each must exit 0 and print what its marker expects. Which blocks are skipped, and
why, each page says above each (``tests/support/snippets.py``).
A block that ``needs: dist`` gets ``make dist``'s wheels, built once, in ``$DIST``; it installs them into a new
virtualenv, so it is slow (``make test-e2e``).
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.dist import build_dist
from tests.support.servers import free_port
from tests.support.snippets import Snippet, documented

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
READY_TIMEOUT_SECONDS = 240.0
SNIPPET_TIMEOUT_SECONDS = 120.0
INSTALLING_SNIPPET_TIMEOUT_SECONDS = 600.0
"""For a block that installs the wheels with their dependencies into a new virtualenv."""
ALL = documented(ROOT)


@dataclass(frozen=True)
class Server:
    port: int
    url: str
    env: dict[str, str]
    log: list[str]


def _clean_environment() -> dict[str, str]:
    """This process's environment without anything that points AWS tools or the CLI elsewhere."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MESSAGING_")) and k not in dropped}


@pytest.fixture(scope="module")
def server(example_assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``make local PORT=<free port>``: the server in the checkout, deploying the session's synthesized app."""
    port = free_port()
    command = [sys.executable, "-m", "localcloud", "serve", "--port", str(port), "--assembly", str(example_assembly)]
    process = subprocess.Popen(command, cwd=ROOT, env=_clean_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str | None] = queue.Queue()
    log: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"the server was not ready within {READY_TIMEOUT_SECONDS:g}s:\n{''.join(log)}")
            if line is None:
                pytest.fail(f"the server exited with {process.wait()}:\n{''.join(log)}")
            if line.startswith("ready in"):
                break
        home = tmp_path_factory.mktemp("snippet-home")
        env = {
            **_clean_environment(),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "VIRTUAL_ENV": str(VENV_BIN.parent),
            "AWS_ENDPOINT_URL": f"http://localhost:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "aws-config"),  # nobody's own profiles
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        yield Server(port, f"http://localhost:{port}", env, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make dist``'s wheels, built once for the blocks that need them, in a directory outside the checkout."""
    out = tmp_path_factory.mktemp("dist")
    build_dist(out)
    return out


def _run(snippet: Snippet, server: Server, elsewhere: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cwd = {"checkout": ROOT, "any": elsewhere, "functions": ROOT / "functions"}[snippet.cwd]
    if snippet.language == "python":
        command = [str(VENV_BIN / "python"), "-c", snippet.script()]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", snippet.script()]
    timeout = INSTALLING_SNIPPET_TIMEOUT_SECONDS if snippet.needs else SNIPPET_TIMEOUT_SECONDS
    return subprocess.run(command, stdin=subprocess.DEVNULL, cwd=cwd, env={**server.env, **extra},
                          capture_output=True, text=True, timeout=timeout, check=False)


RUN = [pytest.param(s, id=s.label, marks=[pytest.mark.slow] if s.needs else []) for s in ALL if s.action == "run"]


@pytest.mark.parametrize("snippet", RUN)
def test_a_readme_snippet_runs_as_written(snippet: Snippet, server: Server, tmp_path: Path,
                                          request: pytest.FixtureRequest) -> None:
    # Given a block of the README or a docs page marked to run, a local cloud server, the README's environment and
    # what the block needs
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    extra = {"DIST": str(request.getfixturevalue("dist_dir"))} if "dist" in snippet.needs else {}
    # When it runs where its page says (a directory outside the checkout for cwd: any)
    started = time.monotonic()
    done = _run(snippet, server, elsewhere, extra)
    # Then it succeeds and prints what its page says it prints
    report = (f"{snippet.label} (cwd {snippet.cwd}, {time.monotonic() - started:.1f}s)\n--- stdout\n{done.stdout}"
              f"\n--- stderr\n{done.stderr}")
    assert done.returncode == 0, report
    for expected in snippet.expect:
        assert expected in done.stdout, f"{expected!r} not printed\n{report}"
    if done.stdout.strip():
        assert snippet.expect, f"the block prints a result; its marker must say what to expect\n{report}"


FIXTURES = [s for s in ALL if s.action == "fixture"]
MAKE_LOCAL = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nlocal:", 1)[1].split("\n\n", 1)[0]
"""The recipe of ``make local``: the fixture starts the server the same way."""
_EXPORT = re.compile(r"^(?P<name>[A-Z_][A-Z0-9_]*)=(?P<value>\S*)$")


@pytest.mark.parametrize("snippet", FIXTURES, ids=[s.label for s in FIXTURES])
def test_a_fixture_block_is_what_the_fixture_provides(snippet: Snippet, server: Server) -> None:
    # Given a block the test provides instead of running (the server, the environment)
    for line in snippet.code.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        # Then each of its commands is one the fixture does, with the README's values (the port aside)
        if words[:2] == ["make", "local"]:
            assert words[2:] in (["PORT=4566", "&"], ["&"]), line
            assert "$(PY) -m localcloud serve --port $(PORT)" in MAKE_LOCAL, "make local starts another server"
            assert any(entry.startswith("stack ") for entry in server.log), "the server deployed no stack"
        elif words == ["source", ".venv/bin/activate"]:
            assert server.env["PATH"].startswith(f"{VENV_BIN}{os.pathsep}")
            assert server.env["VIRTUAL_ENV"] == str(VENV_BIN.parent)
        elif words[0] == "export":
            for assignment in words[1:]:
                match = _EXPORT.match(assignment)
                assert match, f"not NAME=VALUE: {assignment}"
                value = match["value"].replace("localhost:4566", f"localhost:{server.port}")
                assert server.env.get(match["name"]) == value, assignment
        else:
            pytest.fail(f"the fixture does not do this: {line}")
