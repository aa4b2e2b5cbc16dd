"""The code blocks of the README and of the docs pages are all accounted for (run, skipped with a reason, or provided
by the fixture; the e2e test runs them), the docs pages are the README's reference list, and the counts they state
are the real ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.doclinks import links
from tests.support.snippets import DOCS_PAGES, SnippetError, documented, snippets
from tests.unit.test_hostile_fuzz import BATCH, EXAMPLES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = {name: (ROOT / "docs" / name).read_text(encoding="utf-8") for name in DOCS_PAGES}
ALL_TEXT = "\n".join([README, *DOCS.values()])


def test_every_code_block_is_run_skipped_with_a_reason_or_provided_by_the_fixture() -> None:
    # When the blocks of the README and of the docs pages are read with their markers
    blocks = documented(ROOT)
    # Then every shell or Python block says what happens to it, and most of them run
    runnable = [b for b in blocks if b.language in {"bash", "sh", "shell", "console", "python"}]
    assert runnable and all(b.action in {"run", "skip", "fixture"} for b in runnable)
    assert all(b.reason for b in runnable if b.action != "run")
    assert sum(b.action == "run" for b in runnable) > len(runnable) / 2
    assert any(b.cwd == "any" for b in runnable if b.action == "run"), "no snippet runs outside the checkout"


def test_a_shell_block_without_a_marker_is_refused() -> None:
    # Given a new snippet added without saying whether it runs
    text = "Intro\n\n```bash\nmake something\n```\n"
    # When the blocks are read / Then it is refused, naming its line
    with pytest.raises(SnippetError, match=r"README.md:3: a bash block needs a marker"):
        snippets(text)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("```\nls\n```\n", "must name its language"),
        ("```zsh\nls\n```\n", "must name its language"),
        ("<!-- snippet: skip -->\n```bash\nls\n```\n", "needs a reason"),
        ("<!-- snippet: run; cwd: home -->\n```bash\nls\n```\n", "unknown option"),
        ("<!-- snippet: run; needs: wheels -->\n```bash\nls\n```\n", "unknown option"),
        ("<!-- snippet: run; expect: open -->\n```bash\nls\n```\n", "JSON strings"),
        ("<!-- snippet: maybe -->\n```bash\nls\n```\n", "a marker is"),
        ("<!-- snippet: run -->\n```bash\nls\n", "never closed"),
    ],
)
def test_a_block_the_test_could_not_account_for_is_refused(text: str, error: str) -> None:
    # When a block has no language, an unknown one, or a marker that does not parse / Then it is refused
    with pytest.raises(SnippetError, match=error):
        snippets(text)


def test_a_marker_says_where_to_run_and_what_to_expect() -> None:
    # Given a block run outside the checkout that prints a reply
    text = (
        '<!-- snippet: run; cwd: any; expect: "success", "a, b" -->\n'
        "  ```console\n  $ echo success \\\n  a, b\n  success a, b\n  ```\n"
    )
    # When it is read
    (block,) = snippets(text)
    # Then the marker's options and the console commands (prompt and output lines apart) come through
    assert (block.action, block.cwd, block.expect) == ("run", "any", ("success", "a, b"))
    assert block.script() == "echo success \\\na, b\n"


def test_a_marker_names_what_a_block_needs_built_first() -> None:
    # Given a block that installs the wheels of make dist
    text = '<!-- snippet: run; cwd: any; needs: dist; expect: "open" -->\n```bash\npip install "$DIST"/*.whl\n```\n'
    # When it is read
    (block,) = snippets(text)
    # Then it says so (the e2e test builds them and sets DIST), and the README has such a block
    assert (block.cwd, block.needs, block.expect) == ("any", ("dist",), ("open",))
    assert any("dist" in b.needs for b in documented(ROOT)), "no block of the README or docs installs the wheels"


def test_the_hostile_corpus_size_the_readme_states_is_the_corpus() -> None:
    # Given the corpus directory, one data file per class
    classes = len(list((ROOT / "tests" / "corpus" / "hostile").glob("*.json")))
    # When the README and the docs state how many classes it holds / Then each statement is that number
    stated = re.findall(r"(\d+) classes, one data file each|(\d+) hostile-input classes", ALL_TEXT)
    assert stated, "the README and the docs no longer state the corpus size"
    assert {int(a or b) for a, b in stated} == {classes}


def test_the_fuzz_size_the_readme_states_is_what_the_fuzz_test_sends() -> None:
    # When the README and the docs state how many generated records the fuzz test sends per run
    stated = re.findall(r"([\d,]+) (?:generated|fuzzed) records per run", ALL_TEXT)
    # Then it is its examples x records per batch
    assert stated and {int(n.replace(",", "")) for n in stated} == {EXAMPLES * BATCH}


def test_the_readme_says_where_the_doctests_run() -> None:
    # Then the README names the test that runs the docstring examples inside make test, and that test exists
    assert "tests/unit/test_doctests.py" in README
    assert (ROOT / "tests" / "unit" / "test_doctests.py").is_file()


def test_a_block_of_a_docs_page_names_its_page() -> None:
    # Given a docs page with a block without a marker / When it is read / Then the error names the page and line
    with pytest.raises(SnippetError, match=r"docs/sagas.md:3: a python block needs a marker"):
        snippets("# Sagas\n\n```python\nprint(1)\n```\n", page="docs/sagas.md")


def test_a_docs_page_nobody_reads_is_refused(tmp_path: Path) -> None:
    # Given a checkout whose docs/ holds a page the snippet list does not name
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# Title\n", encoding="utf-8")
    for name in DOCS_PAGES:
        (tmp_path / "docs" / name).write_text(f"# {name}\n", encoding="utf-8")
    (tmp_path / "docs" / "new-topic.md").write_text("# New\n", encoding="utf-8")
    # When its blocks are read / Then that is an error naming the page
    with pytest.raises(SnippetError, match=r"new-topic\.md"):
        documented(tmp_path)


def test_the_readme_links_every_docs_page_once_in_the_order_their_blocks_run() -> None:
    # Given the README's Reference section
    reference = README.split("\n## Reference\n", 1)[1].split("\n## ", 1)[0]
    # When its links are read
    targets = [target for _, target in links(reference)]
    # Then it names each docs page once, in the order of the snippet list
    assert targets == [f"docs/{name}" for name in DOCS_PAGES]


@pytest.mark.parametrize("name", DOCS_PAGES)
def test_a_docs_page_has_a_title_and_says_what_it_covers(name: str) -> None:
    # Given a docs page / Then it opens with its title, then a paragraph of prose
    title, blank, first, *_ = DOCS[name].splitlines()
    assert title.startswith("# ") and blank == ""
    assert first and not first.startswith(("#", "|", "- ", "```", "<!--"))
