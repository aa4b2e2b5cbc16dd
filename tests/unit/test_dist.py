"""The two wheels' declarations: what each holds (from the pyproject files' discovery rules), versions that agree,
dependency ranges that hold the pinned requirements, and the builder's clean copies (no build here: the wheels are
built and installed by tests/e2e/test_e2e_dist.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from setuptools import find_packages

from infra import dist

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"


def _pyproject(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _found(config: dict[str, Any], base: Path) -> set[str]:
    """The packages setuptools' ``packages.find`` table of ``config`` discovers under ``base``."""
    find = config["tool"]["setuptools"]["packages"]["find"]
    assert find.get("namespaces") is False, "namespace discovery would take any directory (build/, dist/) as a package"
    found: set[str] = set()
    for where in find["where"]:
        include, exclude = find.get("include", ("*",)), find.get("exclude", ())
        found |= set(find_packages(str(base / where), include=include, exclude=exclude))
    return found


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line:
            requirement = Requirement(line)
            pins[requirement.name.lower()] = str(requirement.specifier).removeprefix("==")
    return pins


def test_the_runtime_wheel_holds_the_messaging_package_and_nothing_else() -> None:
    # Given the runtime's pyproject.toml / When its discovery runs over functions/
    found = _found(_pyproject(FUNCTIONS / "pyproject.toml"), FUNCTIONS)
    # Then it is messaging and its subpackages: every module in them ships, the services beside them do not
    assert found and all(name == "messaging" or name.startswith("messaging.") for name in found)
    assert "messaging" in found


def test_the_cli_wheel_holds_the_command_and_every_service_of_functions() -> None:
    # Given the root pyproject.toml / When its discovery runs over the checkout
    config = _pyproject(ROOT / "pyproject.toml")
    top_level = {name.split(".")[0] for name in _found(config, ROOT)} | set(config["tool"]["setuptools"]["py-modules"])
    # Then the wheel holds cli and functions/ (the catalogue, each service) without the runtime: a new top-level
    # package of the checkout must be excluded there, a new service is found on its own
    services = {p.stem for p in FUNCTIONS.iterdir() if (p / "__init__.py").is_file() or p.suffix == ".py"}
    assert top_level == {"cli"} | (services - {"messaging"})
    assert config["project"]["scripts"] == {"fifo-messaging": "cli.app:console"}


def test_the_versions_agree_and_the_cli_depends_on_its_own_runtime() -> None:
    # Given both pyproject files
    runtime = _pyproject(FUNCTIONS / "pyproject.toml")["project"]
    cli = _pyproject(ROOT / "pyproject.toml")["project"]
    # Then the two distributions carry one version, and the command requires the runtime of exactly that version
    assert runtime["version"] == cli["version"]
    assert f"{runtime['name']}=={runtime['version']}" in cli["dependencies"]


@pytest.mark.parametrize("pyproject", [FUNCTIONS / "pyproject.toml", ROOT / "pyproject.toml"], ids=["runtime", "cli"])
def test_declared_dependency_ranges_hold_the_pinned_versions(pyproject: Path) -> None:
    # Given the pins the Lambda asset bundles (functions/requirements.txt) and the product's (requirements.txt)
    pins = {**_pins(ROOT / "requirements.txt"), **_pins(FUNCTIONS / "requirements.txt")}
    own = {_pyproject(FUNCTIONS / "pyproject.toml")["project"]["name"]}
    # When each declared dependency is read
    for line in _pyproject(pyproject)["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.name in own:
            continue
        # Then it is a bounded range that contains the pinned version
        assert requirement.name.lower() in pins, f"{line}: not pinned in requirements"
        assert "<" in str(requirement.specifier), f"{line}: no upper bound"
        assert requirement.specifier.contains(pins[requirement.name.lower()]), (line, pins[requirement.name.lower()])


def test_every_direct_requirement_of_the_functions_is_a_runtime_dependency() -> None:
    # Given functions/requirements.in (what the Lambda code imports) / When compared with the runtime's metadata
    direct = {Requirement(line).name for line in (FUNCTIONS / "requirements.in").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    declared = {Requirement(line).name for line in _pyproject(FUNCTIONS / "pyproject.toml")["project"]["dependencies"]}
    # Then each is declared, so pip install of the wheel alone brings it
    assert direct <= declared


def test_the_builds_start_from_clean_copies_of_exactly_their_sources(tmp_path: Path) -> None:
    # Given a functions/ tree with build leftovers, caches and an egg-info beside the code
    functions = tmp_path / "root" / "functions"
    for leftover in ("messaging/__pycache__", "messaging/build", "orders", "fifo_messaging_runtime.egg-info", "build"):
        (functions / leftover).mkdir(parents=True)
    (functions / "messaging" / "__init__.py").write_text("")
    (functions / "messaging" / "producer.py").write_text("")
    (functions / "messaging" / "__pycache__" / "producer.cpython-311.pyc").write_bytes(b"")
    (functions / "orders" / "__init__.py").write_text("")
    (functions / "catalogue.py").write_text("")
    for name in ("pyproject.toml", "requirements.in", "requirements.txt"):
        (functions / name).write_text("")
    (tmp_path / "root" / "cli").mkdir()
    (tmp_path / "root" / "cli" / "__init__.py").write_text("")
    (tmp_path / "root" / "pyproject.toml").write_text("")

    def tree(path: Path) -> list[str]:
        return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())

    # When the two projects are laid out for their builds
    runtime = dist.stage_runtime(functions, tmp_path / "runtime")
    cli = dist.stage_cli(tmp_path / "root", tmp_path / "cli")
    # Then the runtime's holds its pyproject.toml and every module of messaging, the command's the services and cli
    assert tree(runtime) == ["messaging/__init__.py", "messaging/producer.py", "pyproject.toml"]
    assert tree(cli) == ["cli/__init__.py", "functions/catalogue.py", "functions/orders/__init__.py", "pyproject.toml"]


def test_a_new_build_replaces_the_projects_old_wheels_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given dist/ with an older wheel of each distribution and a wheel of something else
    out = tmp_path / "dist"
    out.mkdir()
    for name in ("fifo_messaging-0.0.9-py3-none-any.whl", "fifo_messaging_runtime-0.0.9-py3-none-any.whl",
                 "other-1.0-py3-none-any.whl"):
        (out / name).write_bytes(b"")

    def fake_build(project: Path, out_dir: Path) -> Path:
        name = "fifo_messaging_runtime" if (project / "messaging").is_dir() else "fifo_messaging"
        wheel = out_dir / f"{name}-0.1.0-py3-none-any.whl"
        wheel.write_bytes(b"")
        return wheel

    monkeypatch.setattr(dist, "build_wheel", fake_build)
    # When make dist runs
    built = dist.build_dist(out, ROOT)
    # Then dist/ holds one version of each (pip install dist/*.whl sees no two versions of one name)
    assert [p.name for p in built] == ["fifo_messaging_runtime-0.1.0-py3-none-any.whl",
                                       "fifo_messaging-0.1.0-py3-none-any.whl"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*(p.name for p in built), "other-1.0-py3-none-any.whl"])
