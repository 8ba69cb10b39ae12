"""`python -m bench.side_by_side --update-readme` copies the newest results table into the
README's Performance section, between its two markers, and leaves the rest alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from bench.report import (
    APP,
    RAW,
    README,
    README_END,
    README_START,
    Figures,
    Run,
    Setup,
    newest_result,
    table,
    update_readme,
)
from bench.side_by_side import arguments, selected_scenarios

RESULT = """# Side-by-side benchmark, 2026-11-30 11:02 UTC

- machine: 2 CPUs (Bench CPU), 8.0 GiB RAM, Python 3.11.7
- command: `python -m bench.side_by_side --scale 20000 --accounts 50 --rounds 1 --duration 5`

| scenario | app req/s | raw req/s |
|---|---|---|
| (a) 50 documents | 12 | 80 |

(g) merged download: **1.20x** the bare merge.

```
py-spy, 15 s of (a) at -c16
 22.8%  graphql
```
"""


def _readme(path: Path, inside: str) -> Path:
    section = f"{README_START}\n{inside}\n{README_END}"
    path.write_text(f"# Title\n\n## Performance\n\n{section}\n\nAfter.\n")
    return path


def _setup(command: str, *, documents: int, rounds: int) -> Setup:
    """A run's head for a table: 200 accounts, rounds of 10 s at 16 connections."""
    return Setup(
        command=command,
        documents=documents,
        accounts=200,
        generated_seconds=6,
        rounds=rounds,
        duration=10,
        connections=16,
    )


def test_update_readme_copies_the_newest_table_between_the_markers(tmp_path: Path) -> None:
    # given: two results (and a profile beside the newer one), and a README showing an old table
    results = tmp_path / "bench" / "results"
    results.mkdir(parents=True)
    (results / "20261130T090000Z.md").write_text("# Side-by-side benchmark, old\n\nold table\n")
    (results / "20261130T110200Z.md").write_text(RESULT)
    (results / "20261130T110200Z-profile-a.txt").write_text("stacks")
    (results / "README.md").write_text("what these files are")
    readme = _readme(tmp_path / "README.md", "Latest run: old table")

    # when
    used = update_readme(readme, newest_result(results))

    # then: the newest table, its date, machine and command are shown, not the profile
    text = readme.read_text()
    assert used.name == "20261130T110200Z.md"
    inside = text[text.index(README_START) : text.index(README_END)]
    assert "Latest run: **2026-11-30 11:02 UTC** (from `bench/results/20261130T110200Z.md`)" in (
        inside
    )
    assert "- machine: 2 CPUs (Bench CPU)" in inside
    assert "--scale 20000 --accounts 50" in inside
    assert "| (a) 50 documents | 12 | 80 |" in inside
    assert "**1.20x** the bare merge" in inside
    assert "py-spy" not in inside
    assert "old table" not in inside
    assert text.startswith("# Title\n\n## Performance\n\n")
    assert text.endswith(f"{README_END}\n\nAfter.\n")

    # and: a second update gives the same README (the section is replaced, not appended)
    update_readme(readme, used)
    assert readme.read_text() == text


def test_update_readme_refuses_a_readme_without_the_markers(tmp_path: Path) -> None:
    # given: a README without the section's markers
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    result = tmp_path / "20261130T110200Z.md"
    result.write_text(RESULT)

    # when / then
    with pytest.raises(ValueError, match="bench:latest"):
        update_readme(readme, result)
    assert readme.read_text() == "# Title\n"


def test_the_project_readme_has_the_performance_markers() -> None:
    # given / when: the project's README
    text = README.read_text()

    # then: `--update-readme` has a section to rewrite
    assert "## Performance" in text
    assert text.index("## Performance") < text.index(README_START) < text.index(README_END)


def test_the_table_gives_each_rounds_p99_against_raws_and_their_median() -> None:
    # given three rounds of (a) whose p99 medians (250 / 82) are more than 3x apart, while the
    # per-round ratios (2.5, 4.0, 2.4) have a median of 2.5
    figures = Figures(peer_missing="not installed")
    for app_p99, raw_p99 in ((250.0, 100.0), (300.0, 75.0), (196.8, 82.0)):
        figures.add("a", APP, Run(rps=140, p50_ms=110, p99_ms=app_p99, errors=0, rss_mb=140))
        figures.add("a", RAW, Run(rps=360, p50_ms=43, p99_ms=raw_p99, errors=0, rss_mb=54))
    setup = _setup("python -m bench.side_by_side", documents=100_000, rounds=3)

    # when the table is written
    text = table(setup, figures, datetime(2026, 11, 30, 17, 7, tzinfo=UTC))

    # then (a)'s row shows the per-round p99 ratios and their median
    row = next(line for line in text.splitlines() if line.startswith("| (a)"))
    assert "| 2.50, 4.00, 2.40 (**2.50x**) |" in row
    assert "app/raw p99 per round (median)" in text


def test_a_run_of_some_scenarios_lists_only_those() -> None:
    # given a run of the name search alone (``--scenarios d``)
    figures = Figures(peer_missing="not installed")
    figures.add("d", APP, Run(rps=400, p50_ms=38, p99_ms=57, errors=0, rss_mb=121))
    figures.add("d", RAW, Run(rps=560, p50_ms=28, p99_ms=50, errors=0, rss_mb=49))
    figures.round_trips[("d", APP)] = 6
    setup = _setup(
        "python -m bench.side_by_side --scale 1000000 --scenarios d", documents=1_000_000, rounds=1
    )

    # when the table is written
    text = table(setup, figures, datetime(2026, 11, 30, 20, 0, tzinfo=UTC))

    # then it has the name search's row and no other scenario's
    rows = [line for line in text.splitlines() if line.startswith("| (")]
    assert [row.split(" | ")[0] for row in rows] == ['| (d) name search "smi"']


def test_the_scenarios_to_run_are_checked_and_kept_in_order() -> None:
    # given the command line of a run of some scenarios, and one naming an unknown scenario
    # when they are read
    some = arguments(["--scenarios", "d,a"])

    # then the chosen ones come in the table's order, and an unknown one is refused
    assert [scenario.key for scenario in selected_scenarios(some)] == ["a", "d"]
    assert [s.key for s in selected_scenarios(arguments([]))] == ["a", "b", "c", "d", "e", "f"]
    with pytest.raises(SystemExit):
        arguments(["--scenarios", "d,z"])
