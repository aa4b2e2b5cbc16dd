"""``make service NAME=...`` without a cloud: bad names are refused with one line and nothing written, a second run
for the same name changes nothing, a failed write is taken back, and what it writes passes the project's linter for
names that sort anywhere among the imports (several services in one project)."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scaffold.cli import main
from scaffold.generator import Change, WriteError, write
from scaffold.names import ServiceName

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
#: A service name the project does not have (make service NAME=inventory may have added one called inventory).
NEW = next(name for name in ("inventory", "warehouse", "stockpile") if not (ROOT / "functions" / name).exists())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """What the generator reads and writes of the project: functions/, infra/, the test folders, pyproject.toml."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("functions", "infra"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=ignore)
    for folder in ("tests/services", "tests/e2e"):
        (tmp_path / folder).mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the digest of its content."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "a service name is required"),
        ("Inventory", "lowercase identifier"),
        ("in-ventory", "lowercase identifier"),
        ("9lives", "lowercase identifier"),
        ("_inventory", "lowercase identifier"),
        ("inventory_", "lowercase identifier"),
        ("stock__room", "lowercase identifier"),
        ("in ventory", "lowercase identifier"),
        ("inventory;rm", "lowercase identifier"),
        ("a" * 25, "at most 24 characters"),
        ("class", "is a Python keyword"),
        ("lambda", "is a Python keyword"),
        ("orders", "already exists (functions/orders)"),
        ("messaging", "already exists (functions/messaging)"),
        ("monitoring", "already exists (infra/stacks/monitoring.py)"),
        ("messaging_core", "would make the stack MessagingCore"),
        ("json", "standard-library module json"),
        ("pydantic", "this Python can import already"),
        ("infra", "top-level infra/"),
    ],
)
def test_a_bad_name_exits_2_with_one_line_and_writes_nothing(project: Path, name: str, reason: str) -> None:
    # Given the project as it is
    before = snapshot(project)
    # When a service is asked for under a bad name
    status, out, err = run(name, "--root", str(project))
    # Then the exit status is 2, stderr is one line saying why, and no file was written or changed
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("make service: ") and reason in err, err
    assert snapshot(project) == before


def test_a_usage_error_is_one_line_too(project: Path) -> None:
    # Given two names / When run / Then exit 2 with one line, nothing written
    before = snapshot(project)
    status, _, err = run("one", "two", "--root", str(project))
    assert (status, err.count("\n")) == (2, 1)
    assert "unrecognized arguments: two" in err
    assert snapshot(project) == before


def test_a_root_that_is_not_the_project_is_a_usage_error(tmp_path: Path) -> None:
    # Given a folder that is no checkout of the project / When a service is generated into it
    status, out, err = run("inventory", "--root", str(tmp_path))
    # Then exit 2 with one line, and the folder stays empty
    assert (status, out, err.count("\n")) == (2, "", 1)
    assert "is not the project" in err
    assert list(tmp_path.iterdir()) == []


def test_the_generator_names_the_stack_as_the_app_does() -> None:
    # Given names with and without underscores and digits
    from infra.services import stack_base_name  # noqa: PLC0415 - the CDK import only for this test

    for name in ("inventory", "stock_room", "a_b_c", "item2_x9"):
        # Then the generator's class and output prefix is the stack the app builds for the service
        assert ServiceName.of(name).title == stack_base_name(name), name


def test_it_prints_what_it_wrote_and_a_second_run_changes_nothing(project: Path) -> None:
    # Given a service generated once
    status, out, err = run(NEW, "--root", str(project))
    assert (status, err) == (0, "")
    # Then it listed each file it wrote or updated, and they are there
    written = [line.split(maxsplit=1) for line in out.splitlines() if line.startswith(("wrote", "updated"))]
    assert [path for verb, path in written if verb == "updated"] == ["infra/services.py", "functions/catalogue.py"]
    assert {path for verb, path in written if verb == "wrote"} == {
        f"functions/{NEW}/__init__.py",
        f"functions/{NEW}/models.py",
        f"functions/{NEW}/service.py",
        f"functions/{NEW}/handler.py",
        f"infra/stacks/{NEW}.py",
        f"tests/services/test_{NEW}_service.py",
        f"tests/e2e/test_e2e_{NEW}.py",
    }
    assert all((project / path).is_file() for _, path in written)
    title = ServiceName.of(NEW).title
    assert f'"{NEW}": {title}Stack,' in (project / "infra/services.py").read_text(encoding="utf-8")
    assert f"**{NEW.upper()}" in (project / "functions/catalogue.py").read_text(encoding="utf-8")
    # When it runs again for the same name
    before = snapshot(project)
    status, out, err = run(NEW, "--root", str(project))
    # Then it fails cleanly (exit 2, one line) and no file changed
    assert (status, out) == (2, "")
    assert err == f"make service: service '{NEW}' already exists (functions/{NEW})\n"
    assert snapshot(project) == before


def test_a_registry_edited_beyond_recognition_is_refused_before_anything_is_written(project: Path) -> None:
    # Given a stack registry whose SERVICES was rewritten by hand
    registry = project / "infra/services.py"
    text = registry.read_text(encoding="utf-8")
    edited = text.replace("SERVICES: dict[str, ServiceStackClass] =", "SERVICES: dict[str, type] =")
    assert edited != text
    registry.write_text(edited, encoding="utf-8")
    before = snapshot(project)
    # When a service is generated
    status, out, err = run(NEW, "--root", str(project))
    # Then it exits 1 with one line naming the file, and nothing was written
    assert (status, out, err.count("\n")) == (1, "", 1)
    assert "infra/services.py" in err
    assert snapshot(project) == before


def test_a_failed_write_takes_back_what_was_written(tmp_path: Path) -> None:
    # Given a file to rewrite, a new file, and a third that cannot be created (its folder is a file)
    (tmp_path / "registry.py").write_text("before\n", encoding="utf-8")
    (tmp_path / "blocker").write_text("a file, not a folder\n", encoding="utf-8")
    before = snapshot(tmp_path)
    changes = [
        Change(tmp_path / "registry.py", "after\n", previous="before\n"),
        Change(tmp_path / "pkg" / "new.py", "new\n"),
        Change(tmp_path / "blocker" / "third.py", "third\n"),
    ]
    # When they are written
    with pytest.raises(WriteError):
        write(changes)
    # Then the project is as it was: the rewrite restored, the new file and its folder gone
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "pkg").exists()


def test_what_it_writes_passes_the_linter_wherever_the_names_sort(project: Path) -> None:
    # Given services whose names sort before, among and after the imports they share a block with, the longest
    # name allowed, and one that makes the catalogue's line wrap
    names = ["aardvark", "messaging_x", "zz_top", "abcdefghijklmnopqrstuvwx", "m1", "m10", "qq"]
    # When they are generated into one project
    for name in names:
        assert run(name, "--root", str(project))[0] == 0, name
    # Then the project's linter (import order, line length, the rest of its rules) finds nothing in what was written
    ruff = Path(sys.executable).parent / "ruff"
    linted = subprocess.run(
        [str(ruff), "check", "--no-cache", "functions", "infra", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    catalogue = (project / "functions/catalogue.py").read_text(encoding="utf-8")
    assert all(f"**{name.upper()}," in catalogue for name in names)
