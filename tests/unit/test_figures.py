"""The figures of the docs pages are the recorded runs: each figure block equals what ``make figures`` renders from
``docs/results/``, so a hand edit (or a new run recorded without ``make figures``) fails here."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chaos.__main__ import parse_args, record_name
from figures.__main__ import main as figures_main
from figures.readme import (
    BLOCKS,
    FiguresError,
    blocks,
    names_on,
    pages,
    render,
    replace_block,
    rewrite,
    rewrite_all,
)
from figures.record import RESULTS_DIR, ROOT, Record, RecordError, read_record, write_record
from figures.staleness import HistoryUnavailableError, last_code_change, problem

pytestmark = pytest.mark.unit


def test_every_figure_block_is_on_its_page_and_is_what_its_records_render() -> None:
    # Given the README and the docs pages, and the committed records
    texts = {page: (ROOT / page).read_text(encoding="utf-8") for page in pages()}
    # When the figure blocks of each page are read
    found = {page: blocks(text) for page, text in texts.items()}
    # Then every block is on its own page, and nowhere else, and says exactly what its records render
    assert {page: set(names) for page, names in found.items() if names} == {
        page: set(names_on(page)) for page in {block.page for block in BLOCKS.values()}}
    for name, block in BLOCKS.items():
        assert found[block.page][name] == render(name), f"{block.page}: figures:{name} differs from docs/results/"


def test_a_hand_edited_figure_is_caught() -> None:
    # Given the delivery guarantee page with one figure of the chaos table changed by hand
    text = (ROOT / "docs" / "delivery-guarantee.md").read_text(encoding="utf-8")
    edited = replace_block(text, "chaos", blocks(text)["chaos"].replace("| lost | 0 |", "| lost | 1 |"))
    assert edited != text
    # When the figures are rendered again / Then the edit is gone (the test above would have failed)
    assert rewrite(edited, "docs/delivery-guarantee.md") == text
    assert figures_main(["--check"]) == 0


def test_a_figure_block_left_on_another_page_or_missing_from_its_own_is_an_error() -> None:
    # Given the README with the chaos block pasted in, and the delivery guarantee page without it
    block = "<!-- figures:chaos:begin -->\nx\n<!-- figures:chaos:end -->\n"
    # When each is rewritten / Then both are errors naming the page
    with pytest.raises(FiguresError, match=r"README\.md has figure blocks nothing renders there: chaos"):
        rewrite("# Title\n" + block, "README.md")
    with pytest.raises(FiguresError, match=r"docs/delivery-guarantee\.md: the page has 0 blocks figures:chaos"):
        rewrite("# Delivery guarantee\n", "docs/delivery-guarantee.md")


def test_the_rendered_figures_are_the_runs_numbers(tmp_path: Path) -> None:
    # Given the product's chaos record with one count changed, as a new run would record it
    for name in ("chaos", "chaos-naive"):
        (tmp_path / f"{name}.json").write_text((RESULTS_DIR / f"{name}.json").read_text(), encoding="utf-8")
    record = json.loads((tmp_path / "chaos.json").read_text())
    record["result"]["invocations"] = 4242
    record["result"]["lost"] = 3
    record["result"]["ok"] = False
    (tmp_path / "chaos.json").write_text(json.dumps(record), encoding="utf-8")
    # When the chaos block is rendered from it
    table = render("chaos", tmp_path)
    # Then the table shows that run: its counts and its exit status
    assert "| lost | 3 |" in table
    assert f"| exit status, invocations, wall time here | 1, 4242, {record['result']['seconds']} s |" in table


def test_a_record_keeps_the_command_the_date_the_machine_and_the_runs_json(tmp_path: Path) -> None:
    # Given a run's last-line JSON
    result = {"ok": True, "lost": 0, "nested": {"a": [1, 2]}}
    # When it is recorded and read back
    path = write_record("chaos", 'make chaos ARGS="--seed 3"', result, machine="2 cores",
                        when=datetime(2026, 12, 1, 8, 30, tzinfo=UTC), directory=tmp_path)
    record = read_record("chaos", tmp_path)
    # Then the file holds the JSON unchanged, with its metadata
    assert path == tmp_path / "chaos.json"
    assert (record.command, record.recorded, record.machine, record.result) == (
        'make chaos ARGS="--seed 3"', "2026-12-01T08:30:00Z", "2 cores", result)


def test_a_missing_or_broken_record_is_a_one_line_error(tmp_path: Path) -> None:
    # When a record is missing, or is not a record / Then the error names the file
    with pytest.raises(RecordError, match=r"no record .*bench\.json"):
        read_record("bench", tmp_path)
    (tmp_path / "bench.json").write_text('{"command": "make bench"}', encoding="utf-8")
    with pytest.raises(RecordError, match="missing: recorded, machine, result"):
        read_record("bench", tmp_path)


def test_a_figure_block_nobody_renders_is_an_error() -> None:
    # Given a page with a block of an unknown name / When it is rewritten / Then that is an error
    with pytest.raises(FiguresError, match="nothing renders there: perf"):
        rewrite("<!-- figures:perf:begin -->\nx\n<!-- figures:perf:end -->\n", "docs/performance.md")


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["--record"], "chaos"),
        (["--consumer", "naive", "--record"], "chaos-naive"),
        (["--saga", "naive", "--record"], "chaos-saga-naive"),
        (["--messages", "5000", "--record", "chaos-long"], "chaos-long"),
    ],
)
def test_make_chaos_records_under_the_consumers_name_or_the_one_given(argv: list[str], name: str) -> None:
    # When make chaos is asked to record / Then the record's name is the one the docs' blocks read
    assert record_name(parse_args(argv)) == name


def test_every_committed_record_is_a_record() -> None:
    # Then each file in docs/results/ reads as a record and says where it comes from
    for path in sorted(RESULTS_DIR.glob("*.json")):
        record = read_record(path.stem)
        assert record.command.startswith("make ") and record.machine and record.result, path


def _git(repo: Path, *args: str, when: str | None = None) -> None:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin"}
    if when is not None:
        env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def test_make_figures_refuses_a_record_older_than_the_code_it_measures_unless_it_says_why(tmp_path: Path) -> None:
    # Given a history where functions/ changed at 10:00 and the README at 11:00 (not measured code)
    _git(tmp_path, "init", "-q")
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "consumer.py").write_text("x = 1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "Consumer: x", when="2026-12-01T10:00:00+00:00")
    (tmp_path / "README.md").write_text("figures\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "README", when="2026-12-01T11:00:00+00:00")
    change = last_code_change(tmp_path)
    assert change is not None and change.subject == "Consumer: x"
    # When records made before and after that change are judged
    before = Record('make chaos ARGS="--consumer naive"', "2026-12-01T09:59:59Z", "2 cores", {})
    after = Record("make chaos", "2026-12-01T10:00:01Z", "2 cores", {})
    explained = Record("make chaos", "2026-12-01T09:00:00Z", "2 cores", {}, older_than_code="only a docstring")
    # Then only the older one without a reason is refused, with the command that records it again
    refusal = problem(before, "chaos-naive", change)
    assert refusal is not None and change.commit in refusal
    assert 'make chaos ARGS="--consumer naive --record chaos-naive"' in refusal
    assert problem(after, "chaos", change) is None and problem(explained, "chaos", change) is None


def test_without_git_history_the_age_of_a_record_cannot_be_judged(tmp_path: Path) -> None:
    # When the project is not a git checkout / Then that is said, not guessed
    with pytest.raises(HistoryUnavailableError, match="not a git checkout"):
        last_code_change(tmp_path)


def _records(tmp_path: Path) -> None:
    for name in ("chaos", "chaos-naive"):
        (tmp_path / f"{name}.json").write_text((RESULTS_DIR / f"{name}.json").read_text(), encoding="utf-8")


def test_the_page_says_when_a_figure_is_older_than_its_code(tmp_path: Path) -> None:
    # Given the product's record saying why it still holds although the code changed after it
    _records(tmp_path)
    record = json.loads((tmp_path / "chaos.json").read_text())
    record["older_than_code"] = "only the README generator changed"
    (tmp_path / "chaos.json").write_text(json.dumps(record), encoding="utf-8")
    # When the chaos block is rendered / Then it says so beside the figures
    assert "older than the code it measures: only the README generator changed" in render("chaos", tmp_path)


def test_every_invariant_of_a_run_gets_its_row_and_a_figure_a_run_did_not_measure_says_so(tmp_path: Path) -> None:
    # Given the product's record with the invariants a scenario module added, and a naive record of an older checker
    _records(tmp_path)
    record = json.loads((tmp_path / "chaos.json").read_text())
    record["result"]["invariants"] = {**record["result"].get("invariants", {}), "saga_stuck": 0, "replies_wrong": 0}
    record["result"] |= {"saga_stuck": 2, "replies_wrong": 0}
    (tmp_path / "chaos.json").write_text(json.dumps(record), encoding="utf-8")
    naive = json.loads((tmp_path / "chaos-naive.json").read_text())
    naive["result"].pop("invariants", None)
    naive["result"].pop("replies_wrong", None)
    (tmp_path / "chaos-naive.json").write_text(json.dumps(naive), encoding="utf-8")
    # When the chaos block is rendered
    table = render("chaos", tmp_path)
    # Then each invariant has its row, and the older run's cell says it was not measured
    assert "| saga stuck | 2 | n/a |" in table
    assert "| replies other than expected | 0 | n/a |" in table
    assert "n/a: not measured by that run." in table


def test_without_a_long_run_the_page_says_how_to_record_one(tmp_path: Path) -> None:
    # Given no chaos-long record / Then its block says none is recorded on this code, and how to record one
    assert render("chaos-long", tmp_path).startswith("No long run is recorded on this code")



def test_no_committed_record_is_a_transcription() -> None:
    # Then every figure file is a run's own output: none says it was copied from somewhere
    for path in sorted(RESULTS_DIR.glob("*.json")):
        assert "transcribed" not in path.read_text(encoding="utf-8").lower(), path


def test_make_figures_finds_the_page_a_stale_figure_is_on(tmp_path: Path) -> None:
    # Given a copy of the README and the docs pages with one figure of the conformance table changed by hand
    (tmp_path / "docs").mkdir()
    for page in pages():
        (tmp_path / page).write_text((ROOT / page).read_text(encoding="utf-8"), encoding="utf-8")
    fidelity = tmp_path / "docs" / "local-cloud-fidelity.md"
    fidelity.write_text(fidelity.read_text(encoding="utf-8").replace("| all |", "| all (edited) |"), encoding="utf-8")
    # When every page is rendered again
    texts = rewrite_all(tmp_path)
    # Then only that page differs, and rendering puts the recorded figure back
    assert [page for page, (current, wanted) in texts.items() if current != wanted] == ["docs/local-cloud-fidelity.md"]
    assert texts["docs/local-cloud-fidelity.md"][1] == (ROOT / "docs" / "local-cloud-fidelity.md").read_text("utf-8")


def _saga_result(**figures: int) -> dict[str, object]:
    return {"ok": not any(figures.values()), "seconds": 120.0, "invocations": 1, "sagas": 4, "saga_seconds": 30.5,
            "saga_shares": {"approve": 1, "credit": 1, "stock": 1, "held": 1},
            "saga_outcomes": {"approved": 1, "credit_limit_exceeded": 1, "out_of_stock": 1, "timeout": 1},
            "sagas_unfinished": 0, "compensations_missing": 0, "compensations_duplicated": 0,
            "steps_applied_twice": 0, "saga_answers_wrong": 0, "reference_data_wrong": 0, **figures}


def test_the_saga_table_sets_the_naive_orchestrators_run_beside_the_products(tmp_path: Path) -> None:
    # Given the product's run, and the naive orchestrator's run that left a saga unfinished
    write_record("chaos", "make chaos", _saga_result(), machine="2 cores", directory=tmp_path)
    write_record("chaos-saga-naive", 'make chaos ARGS="--saga naive"', _saga_result(sagas_unfinished=2),
                 machine="2 cores", directory=tmp_path)
    # When the sagas block is rendered
    table = render("sagas", tmp_path)
    # Then each invariant has both runs' figures, and the exit statuses say which run failed
    assert "| sagas unfinished | 0 | 2 |" in table
    assert "| reference data wrong | 0 | 0 |" in table
    exits = ("| exit status of the whole run, saga phase's share of its time "
             "| 0, 30.5 s of 120.0 s | 1, 30.5 s of 120.0 s |")
    assert exits in table
    assert "4 (1 within credit and stock, 1 over credit, 1 out of stock, 1 held back)" in table


def test_the_saga_table_says_when_no_naive_orchestrator_run_is_recorded(tmp_path: Path) -> None:
    # Given the product's run only
    write_record("chaos", "make chaos", _saga_result(), machine="2 cores", directory=tmp_path)
    # When the sagas block is rendered / Then it has the product's column and says how to record the other
    table = render("sagas", tmp_path)
    assert "| sagas unfinished | 0 |" in table
    assert 'No naive orchestrator run is recorded; `make chaos ARGS="--saga naive --record"` records one.' in table
