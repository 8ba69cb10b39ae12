""".env.example lists every setting with its default: uncommented as a whole, it configures
exactly the defaults."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from portal.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
LINE = re.compile(r"^# (PORTAL_[A-Z0-9_]+)=(.*)$")


def env_name(name: str) -> str:
    alias = Settings.model_fields[name].validation_alias
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else f"PORTAL_{name.upper()}"


def listed() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in EXAMPLE.read_text().splitlines():
        match = LINE.match(line)
        if match:
            assert match.group(1) not in found, f"{match.group(1)} is listed twice"
            found[match.group(1)] = match.group(2)
    return found


def test_every_setting_is_listed() -> None:
    expected = {env_name(name) for name in Settings.model_fields}
    assert set(listed()) == expected


def test_the_listed_values_are_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no PORTAL_ variable in the environment
    for key in list(os.environ):
        if key.startswith("PORTAL_"):
            monkeypatch.delenv(key)
    # When every listed value (empty ones mean unset) is read as a .env file
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join(f"{key}={value}" for key, value in listed().items() if value) + "\n"
    )
    from_example = Settings(_env_file=env_file)
    defaults = Settings(_env_file=None)
    # Then the settings are exactly the defaults
    assert from_example.model_dump(mode="json") == defaults.model_dump(mode="json")
    assert from_example.demo_password.get_secret_value() == (
        defaults.demo_password.get_secret_value()
    )
