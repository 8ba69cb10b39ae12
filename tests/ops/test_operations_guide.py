"""The operations guide documents every setting and is linked from the README."""

from __future__ import annotations

from pathlib import Path

from portal.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"


def _variable(name: str) -> str:
    field = Settings.model_fields[name]
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return str(choices[0])
    return f"PORTAL_{name.upper()}"


def test_every_setting_is_in_the_operations_guide() -> None:
    guide = GUIDE.read_text()
    missing = [_variable(name) for name in Settings.model_fields if _variable(name) not in guide]
    assert missing == [], f"docs/operations.md does not describe {missing}"


def test_the_readme_links_the_operations_guide() -> None:
    assert "(docs/operations.md)" in (ROOT / "README.md").read_text()
