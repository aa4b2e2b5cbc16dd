"""The one code asset every consumer function runs: the runtime wheel, the services and their pinned dependencies,
built without Docker.

The local bundler builds the ``fifo-messaging-runtime`` wheel from ``functions/`` (:mod:`infra.dist`, the wheel
``make dist`` builds) and pip-installs it with ``functions/requirements.txt`` as manylinux arm64 wheels for the
runtime's Python, then copies the services beside it (``functions/`` without ``messaging/``, caches, tests,
``requirements.in`` and ``pyproject.toml``): one copy of the runtime, the same in the asset as in ``dist/``, and the
handlers import ``messaging``, ``catalogue`` and their service packages from the asset root as before.
boto3/botocore (and urllib3, needed only by botocore) are left to the Lambda runtime, which ships them; shipping a
botocore without its matching boto3 would shadow the runtime's pair.

Runtime: ``python3.14`` on arm64. Every bundled dependency with native code (pydantic-core, wrapt) publishes
``cp314`` manylinux2014 aarch64 wheels, so the newest Lambda Python runtime bundles without compiling anything.
Synthesizing with the context ``aws:cdk:bundling-stacks: []`` skips bundling; the functions' ``aws:asset:path``
metadata then names the ``functions/`` source directory itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.dist import build_runtime_wheel, copy_services

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
PLATFORM = "manylinux2014_aarch64"
#: Provided by the Lambda Python runtime; not bundled.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "urllib3"})
EXCLUDE = ["**/__pycache__", "**/*.pyc", "tests", "**/tests", "requirements.in", ".mypy_cache", ".pytest_cache",
           "*.egg-info", "build", "dist"]  # the last three: what an editable install or a build leaves behind

_REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==")


def python_version(runtime: lambda_.Runtime = RUNTIME) -> str:
    """The ``major.minor`` Python version of a Lambda runtime name such as ``python3.14``.

    Example:
        >>> python_version(lambda_.Runtime.PYTHON_3_13)
        '3.13'
    """
    match = re.fullmatch(r"python(\d+\.\d+)", runtime.name)
    if match is None:
        raise ValueError(f"not a Python runtime: {runtime.name}")
    return match.group(1)


def bundled_requirements(requirements: str) -> list[str]:
    """The pinned lines of a compiled requirements file, minus what the runtime provides.

    Example:
        >>> bundled_requirements("pydantic==2.14.3\\n    # via x\\nbotocore==1.44.5\\n")
        ['pydantic==2.14.3']
    """
    pins: list[str] = []
    for raw in requirements.splitlines():
        line = raw.split("#", 1)[0].strip()
        match = _REQUIREMENT.match(line)
        if match and match.group(1).lower().replace("_", "-") not in RUNTIME_PROVIDED:
            pins.append(line)
    return pins


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Bundle the runtime wheel, the services of ``functions/`` and arm64 wheels on this machine, no Docker needed.

    Example:
        >>> BundlingOptions(image=RUNTIME.bundling_image, local=PipLocalBundling())  # doctest: +SKIP
    """

    def __init__(self, source: Path = FUNCTIONS_DIR, runtime: lambda_.Runtime = RUNTIME) -> None:
        self._source = source
        self._python_version = python_version(runtime)

    def try_bundle(self, output_dir: str, options: Any = None, **_: Any) -> bool:
        """Install the runtime wheel and the wheels, copy the services into ``output_dir``; ``True`` = bundled."""
        out = Path(output_dir)
        pins = bundled_requirements((self._source / "requirements.txt").read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            wheel = build_runtime_wheel(Path(tmp) / "wheel", self._source)
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text("".join(f"{pin}\n" for pin in pins), encoding="utf-8")
            subprocess.run(  # noqa: S603 - fixed argument list, no shell
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "-qq",
                    "--disable-pip-version-check",
                    "--no-compile",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--implementation",
                    "cp",
                    "--platform",
                    PLATFORM,
                    "--python-version",
                    self._python_version,
                    "--target",
                    str(out),
                    "-r",
                    str(requirements),
                    str(wheel),
                ],
                check=True,
            )
        # Console scripts and loose top-level docs some wheels install are of no use in a function.
        shutil.rmtree(out / "bin", ignore_errors=True)
        for loose in out.glob("*.md"):
            loose.unlink()
        copy_services(self._source, out)
        return True


def function_code() -> lambda_.Code:
    """A code object for one function; identical inputs, so every stack stages the same single asset.

    Example:
        >>> code = function_code()  # doctest: +SKIP
    """
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=EXCLUDE,
        bundling=BundlingOptions(image=RUNTIME.bundling_image, local=PipLocalBundling()),
    )
