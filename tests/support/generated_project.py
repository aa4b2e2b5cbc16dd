"""A copy of the project with a service generated into it (``make service``) and its app synthesized, prepared in the
background from the moment a test that needs it is collected: CDK synthesis takes a while, and the tests collected
before it run meanwhile. :func:`generated_project` waits for it.

Example::

    start(Path(tempfile.mkdtemp()))       # tests/conftest.py, when a test asks for the ``generated`` fixture
    project = generated_project()         # the module fixture: copied, generated, synthesized once
"""

from __future__ import annotations

import io
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from scaffold.cli import main
from scaffold.names import ServiceName

ROOT = Path(__file__).resolve().parents[2]
#: What the app, the generator and the generated unit tests need of the project.
COPIED = ("app.py", "cdk.json", "pyproject.toml", "infra", "cli", "functions")  # infra.stage reads cli.stages
CANDIDATES = ("stockroom", "stockroom_two", "stockroom_three")

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generated-project")
_pending: Future[GeneratedProject] | None = None


@dataclass(frozen=True)
class GeneratedProject:
    """The copy (``root``), the generated service's names, its synthesized cloud assembly."""

    root: Path
    names: ServiceName
    assembly: Path


def prepare(root: Path) -> GeneratedProject:
    """Copy the project into ``root``, generate a service it does not have yet, synthesize the app there."""
    from localcloud import synthesize  # noqa: PLC0415 - only the sessions that need it pay for it

    for entry in COPIED:
        source = ROOT / entry
        if source.is_dir():
            shutil.copytree(source, root / entry, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, root / entry)
    name = next(n for n in CANDIDATES if not (ROOT / "functions" / n).exists())
    out, err = io.StringIO(), io.StringIO()
    if main([name, "--root", str(root)], out=out, err=err) != 0:
        raise RuntimeError(f"make service {name} failed: {err.getvalue()}")
    return GeneratedProject(root, ServiceName.of(name), synthesize(root / "cdk.out", app_dir=root))


def start(root: Path) -> None:
    """Begin :func:`prepare` in the background (once per session)."""
    global _pending  # noqa: PLW0603 - one preparation per test session
    if _pending is None:
        _pending = _executor.submit(prepare, root)


def generated_project(root: Path) -> GeneratedProject:
    """The prepared project; started here (into ``root``) if nothing started it."""
    start(root)
    assert _pending is not None
    return _pending.result()
