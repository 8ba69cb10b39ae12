"""The side-by-side benchmark's figures and how they are shown: the scenarios, one wrk run's
figures, the table written to bench/results/<UTC time>.md, and the README's "Performance"
section, rewritten from the newest results file between two marker comments."""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
README = BENCH.parent / "README.md"
README_START = "<!-- bench:latest:start -->"
README_END = "<!-- bench:latest:end -->"

APP, RAW, PEER = "app", "raw", "postgraphile"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    query: str
    basic: bool = False
    # PostGraphile answers an equivalent query (its own schema shape).
    peer: bool = False


SCENARIOS = [
    Scenario("a", "(a) 50 documents + 5 nested objects, User Admin", "list", peer=True),
    Scenario("b", "(b) the same, Basic user", "list", basic=True),
    Scenario("c", "(c) one document by node(id:)", "one", peer=True),
    Scenario("d", '(d) name search "smi"', "search"),
    Scenario("e", "(e) { viewer { email } }", "viewer"),
    Scenario("f", "(f) createAuthorization, a new one per request", "create"),
]


@dataclass
class Run:
    """One wrk run of one scenario against one server."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mb: float


@dataclass
class Figures:
    runs: dict[tuple[str, str], list[Run]] = field(default_factory=dict)
    round_trips: dict[tuple[str, str], float] = field(default_factory=dict)
    same_answer: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Why PostGraphile is not in the run (None when it is).
    peer_missing: str | None = None
    peer_version: str = ""

    def add(self, scenario: str, server: str, run: Run) -> None:
        self.runs.setdefault((scenario, server), []).append(run)


def median(values: list[float]) -> float:
    finite = [v for v in values if v == v]
    return statistics.median(finite) if finite else float("nan")


def machine() -> str:
    memory_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory_kb / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}"
    )


@dataclass(frozen=True)
class Setup:
    """What the run was: its command line and data set, for the table's head."""

    command: str
    documents: int
    accounts: int
    generated_seconds: float
    rounds: int
    duration: int
    connections: int


def _latency(runs: list[Run]) -> str:
    if not runs:
        return "-"
    return f"{median([r.p50_ms for r in runs]):.1f} / {median([r.p99_ms for r in runs]):.1f}"


def _ratios(server: list[Run], raw: list[Run]) -> list[float]:
    return [s.rps / r.rps for s, r in zip(server, raw, strict=False) if r.rps]


def _p99_ratios(server: list[Run], raw: list[Run]) -> list[float]:
    """Each round's p99 against raw's in the same round (the issue's p99 target is their
    median, not the ratio of the two columns' medians)."""
    return [s.p99_ms / r.p99_ms for s, r in zip(server, raw, strict=False) if r.p99_ms]


def _shown(value: float) -> str:
    return "-" if value != value else f"{value:.0f}"


def table(setup: Setup, figures: Figures, started: datetime) -> str:
    peer = figures.peer_missing is None
    servers = [APP, RAW, PEER] if peer else [APP, RAW]
    names = " / ".join("PG" if s == PEER else s for s in servers)
    head = ["scenario", "app req/s", "raw req/s"]
    head += ["PG req/s"] if peer else []
    head += ["app/raw per round", "app/raw median", "app/raw p99 per round (median)"]
    head += ["PG/raw per round", "PG/raw median"] if peer else []
    head += ["app p50 / p99 ms", "raw p50 / p99 ms"]
    head += ["PG p50 / p99 ms"] if peer else []
    head += [f"round trips {names}", f"peak RSS {names} MB", "same answer"]
    lines = [
        f"# Side-by-side benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {machine()}",
        f"- command: `{setup.command}`",
        f"- data: {setup.documents:,} documents in {setup.accounts} accounts (generated in "
        f"{setup.generated_seconds:.0f} s); each server one process; wrk -t2 "
        f"-c{setup.connections}, {setup.rounds} rounds of {setup.duration} s, servers taking "
        "turns first",
        "- PG: "
        + (
            f"{figures.peer_version}, bound by the same row-level security settings"
            if peer
            else f"not in this run: {figures.peer_missing}"
        ),
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for scenario in SCENARIOS:
        if not any(key[0] == scenario.key for key in (*figures.runs, *figures.round_trips)):
            continue  # not in this run (``--scenarios``)
        runs = {s: figures.runs.get((scenario.key, s), []) for s in servers}
        app_ratios = _ratios(runs[APP], runs[RAW])
        cells = [
            scenario.title,
            _shown(median([r.rps for r in runs[APP]])),
            _shown(median([r.rps for r in runs[RAW]])),
        ]
        if peer:
            cells.append(_shown(median([r.rps for r in runs[PEER]])))
        cells += [", ".join(f"{x:.2f}" for x in app_ratios), f"**{median(app_ratios):.2f}x**"]
        p99_ratios = _p99_ratios(runs[APP], runs[RAW])
        cells.append(
            ", ".join(f"{x:.2f}" for x in p99_ratios) + f" (**{median(p99_ratios):.2f}x**)"
            if p99_ratios
            else "-"
        )
        if peer:
            peer_ratios = _ratios(runs[PEER], runs[RAW])
            cells += (
                [", ".join(f"{x:.2f}" for x in peer_ratios), f"**{median(peer_ratios):.2f}x**"]
                if runs[PEER]
                else ["-", "-"]
            )
        cells += [_latency(runs[s]) for s in servers]
        cells.append(
            " / ".join(
                _shown(figures.round_trips.get((scenario.key, s), float("nan"))) for s in servers
            )
        )
        cells.append(
            " / ".join(f"{max(r.rss_mb for r in runs[s]):.0f}" if runs[s] else "-" for s in servers)
        )
        cells.append(figures.same_answer.get(scenario.key, "-"))
        lines.append("| " + " | ".join(cells) + " |")
    errors = sum(run.errors for runs in figures.runs.values() for run in runs)
    where = ", ".join(
        f"({scenario}) {server} {sum(r.errors for r in runs)}"
        for (scenario, server), runs in figures.runs.items()
        if any(r.errors for r in runs)
    )
    lines += [
        "",
        f"Non-2xx answers and socket timeouts during the timed rounds: {errors}"
        + (f" ({where})." if where else "."),
    ]
    lines += ["", *figures.notes]
    return "\n".join(lines)


# --- README ----------------------------------------------------------------------------------


def newest_result(results: Path = RESULTS) -> Path:
    """The newest table in ``results`` (files are named by their UTC start time)."""
    tables = sorted(
        path
        for path in results.glob("*.md")
        if path.name != "README.md" and "-profile-" not in path.name
    )
    if not tables:
        raise FileNotFoundError(f"no results in {results}: run python -m bench.side_by_side")
    return tables[-1]


def readme_block(result: str, source: str) -> str:
    """A results file as the README shows it: its date, machine, command, table and notes
    (the profile summary left out), and where it came from."""
    lines = result.strip().splitlines()
    title = lines[0].removeprefix("# Side-by-side benchmark, ") if lines else ""
    body: list[str] = []
    in_code = False
    for line in lines[1:]:
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not in_code:
            body.append(line)
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    return "\n".join([f"Latest run: **{title}** (from `{source}`).", "", *body])


def update_readme(readme: Path = README, result: Path | None = None) -> Path:
    """Rewrite the README between its two markers with ``result`` (default: the newest)."""
    result = result or newest_result()
    text = readme.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"{readme.name} has no {README_START} ... {README_END} section")
    try:
        source = result.resolve().relative_to(readme.resolve().parent).as_posix()
    except ValueError:  # a results file kept elsewhere
        source = result.name
    block = readme_block(result.read_text(), source)
    readme.write_text(text[: start + len(README_START)] + "\n" + block + "\n" + text[end:])
    return result
