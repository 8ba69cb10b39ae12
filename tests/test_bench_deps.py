"""`make bench` installs what the benchmarks import: the `bench` extra (with the app's own
dependencies) covers every third-party module bench/ imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower() for line in requirements}


def _third_party_imports() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bench").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return {
        name
        for name in found
        if name not in sys.stdlib_module_names and name not in {"portal", "bench", "__future__"}
    }


def test_the_bench_extra_covers_every_benchmark_import() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = _requirement_names(project["dependencies"]) | _requirement_names(
        project["optional-dependencies"]["bench"]
    )
    distributions = packages_distributions()
    imports = _third_party_imports()
    assert "httpx" in imports
    missing = {
        module
        for module in imports
        if not {d.lower() for d in distributions.get(module, [module])} & installed
    }
    assert missing == set(), f"add to the bench extra in pyproject.toml: {sorted(missing)}"


def test_make_bench_installs_the_bench_extra() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^bench: \$\(STAMP\)/bench-deps$", makefile, re.MULTILINE)
    assert "pip install --quiet -e '.[bench]'" in makefile
