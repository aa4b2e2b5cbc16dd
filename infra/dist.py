"""The project's two wheels, built with the standard build backend (setuptools) from their ``pyproject.toml``.

- ``fifo-messaging-runtime`` (``functions/pyproject.toml``): the runtime library, import name ``messaging``, every
  module under ``functions/messaging/`` by discovery, its dependencies declared as ranges. Your own services depend on
  it; the Lambda code asset installs this very wheel (:mod:`infra.function_code`).
- ``fifo-messaging`` (``pyproject.toml``): the ``fifo-messaging`` command (``cli``) with the example system's code it
  reads the message catalogue from (``catalogue`` and the service packages of ``functions/``), depending on the runtime
  of the same version.

Each wheel is built from a clean copy of exactly its sources in a temporary directory: a build in the checkout would
leave ``build/`` and ``*.egg-info`` behind, and setuptools packs whatever stale files it finds in ``build/``. pip is
the build frontend (``pip wheel``, with build isolation: the backend is the pinned setuptools of the
``[build-system]`` table).

Example (``make dist``)::

    python -m infra.dist --out dist   # fifo_messaging_runtime-0.1.0-py3-none-any.whl, fifo_messaging-0.1.0-...
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
RUNTIME_PACKAGE = "messaging"
"""The runtime's import name: the one directory of ``functions/`` that is the runtime, the rest is services."""
WHEEL_PREFIXES = ("fifo_messaging-", "fifo_messaging_runtime-")
"""File name prefixes of the project's wheels (a new build replaces the old ones in the output directory)."""
_NEVER = ("__pycache__", "*.pyc", ".*cache", "build", "dist", "*.egg-info", "tests")
_NOT_SERVICES = {RUNTIME_PACKAGE, "pyproject.toml", "requirements.in", "requirements.txt"}


class DistError(RuntimeError):
    """A wheel could not be built (the backend's output says why)."""


def _ignore_at(root: Path, names_at_root: set[str]) -> Callable[[str, list[str]], set[str]]:
    """A ``copytree`` ignore: caches and build leftovers everywhere, ``names_at_root`` directly under ``root`` only."""
    everywhere = shutil.ignore_patterns(*_NEVER)

    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = set(everywhere(directory, names))
        if Path(directory) == root:
            ignored |= names_at_root & set(names)
        return ignored

    return ignore


def copy_services(functions_dir: Path, dest: Path) -> None:
    """Copy ``functions/`` without the runtime package and the packaging files: the example services and
    ``catalogue``, as they sit beside the runtime in the Lambda code asset.

    Example:
        >>> copy_services(FUNCTIONS_DIR, Path(tempfile.mkdtemp()) / "services")  # doctest: +SKIP
    """
    shutil.copytree(functions_dir, dest, dirs_exist_ok=True, ignore=_ignore_at(functions_dir, _NOT_SERVICES))


def stage_runtime(functions_dir: Path, dest: Path) -> Path:
    """Lay out the runtime's project in ``dest``: its ``pyproject.toml`` and the ``messaging`` package."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(functions_dir / "pyproject.toml", dest / "pyproject.toml")
    shutil.copytree(functions_dir / RUNTIME_PACKAGE, dest / RUNTIME_PACKAGE, ignore=shutil.ignore_patterns(*_NEVER))
    return dest


def stage_cli(root: Path, dest: Path) -> Path:
    """Lay out the command's project in ``dest``: ``pyproject.toml``, ``cli/`` and the services of ``functions/``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "pyproject.toml", dest / "pyproject.toml")
    shutil.copytree(root / "cli", dest / "cli", ignore=shutil.ignore_patterns(*_NEVER))
    copy_services(root / "functions", dest / "functions")
    return dest


def build_wheel(project: Path, out_dir: Path) -> Path:
    """Build the wheel of the project in ``project`` into ``out_dir`` (``pip wheel``, isolated build); its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    before = set(out_dir.glob("*.whl"))
    completed = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--wheel-dir", str(out_dir), str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        output = completed.stdout[-2000:] + completed.stderr[-3000:]
        raise DistError(f"building the wheel of {project} failed:\n{output}")
    built = sorted(set(out_dir.glob("*.whl")) - before) or sorted(out_dir.glob("*.whl"))
    if len(built) != 1:
        raise DistError(f"expected one wheel from {project} in {out_dir}, found {[p.name for p in built]}")
    return built[0]


def build_runtime_wheel(out_dir: Path, functions_dir: Path = FUNCTIONS_DIR) -> Path:
    """The ``fifo-messaging-runtime`` wheel, built from a clean copy of ``functions_dir``'s runtime."""
    with tempfile.TemporaryDirectory(prefix="runtime-wheel-") as tmp:
        return build_wheel(stage_runtime(functions_dir, Path(tmp) / "project"), out_dir)


def build_cli_wheel(out_dir: Path, root: Path = REPO_ROOT) -> Path:
    """The ``fifo-messaging`` wheel (the command and the example system's catalogue), from a clean copy."""
    with tempfile.TemporaryDirectory(prefix="cli-wheel-") as tmp:
        return build_wheel(stage_cli(root, Path(tmp) / "project"), out_dir)


def build_dist(out_dir: Path, root: Path = REPO_ROOT) -> list[Path]:
    """Both wheels into ``out_dir``, replacing the project's wheels already there (so ``pip install dist/*.whl``
    installs one version of each)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.whl"):
        if old.name.startswith(WHEEL_PREFIXES):
            old.unlink()
    return [build_runtime_wheel(out_dir, root / "functions"), build_cli_wheel(out_dir, root)]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m infra.dist [--out DIR]``: build both wheels, print their paths; exit 1 with one line on failure."""
    parser = argparse.ArgumentParser(prog="python -m infra.dist", description="Build the project's wheels.")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "dist", help="output directory (default dist/)")
    args = parser.parse_args(argv)
    try:
        wheels = build_dist(args.out)
    except DistError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - the command's report
        return 1
    for wheel in wheels:
        print(wheel)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
