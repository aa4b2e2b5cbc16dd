"""The README's figures are the recorded runs: each figure block equals what ``make figures`` renders from
``docs/results/``, so a hand edit (or a new run recorded without ``make figures``) fails here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chaos.__main__ import parse_args, record_name
from figures.__main__ import main as figures_main
from figures.readme import BLOCKS, README, FiguresError, blocks, render, replace_block, rewrite
from figures.record import RESULTS_DIR, RecordError, read_record, write_record

pytestmark = pytest.mark.unit


def test_every_figure_block_of_the_readme_is_what_its_records_render() -> None:
    # Given the README and the committed records
    text = README.read_text(encoding="utf-8")
    # When each figure block is rendered from its records
    found = blocks(text)
    # Then every block is there, and says exactly that
    assert set(found) == set(BLOCKS)
    for name in BLOCKS:
        assert found[name] == render(name), f"README block figures:{name} differs from docs/results/: make figures"


def test_a_hand_edited_figure_is_caught() -> None:
    # Given the README with one figure of the chaos table changed by hand
    text = README.read_text(encoding="utf-8")
    edited = replace_block(text, "chaos", blocks(text)["chaos"].replace("| lost | 0 |", "| lost | 1 |"))
    assert edited != text
    # When the figures are rendered again / Then the edit is gone (the test above would have failed)
    assert rewrite(edited) == text
    assert figures_main(["--check"]) == 0


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
    # Given a README with a block of an unknown name / When it is rewritten / Then that is an error
    with pytest.raises(FiguresError, match="nothing renders: perf"):
        rewrite("<!-- figures:perf:begin -->\nx\n<!-- figures:perf:end -->\n")


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["--record"], "chaos"),
        (["--consumer", "naive", "--record"], "chaos-naive"),
        (["--messages", "5000", "--record", "chaos-long"], "chaos-long"),
    ],
)
def test_make_chaos_records_under_the_consumers_name_or_the_one_given(argv: list[str], name: str) -> None:
    # When make chaos is asked to record / Then the record's name is the one the README's blocks read
    assert record_name(parse_args(argv)) == name


def test_every_committed_record_is_a_record() -> None:
    # Then each file in docs/results/ reads as a record and says where it comes from
    for path in sorted(RESULTS_DIR.glob("*.json")):
        record = read_record(path.stem)
        assert record.command.startswith("make ") and record.machine and record.result, path
