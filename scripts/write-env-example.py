"""Write .env.example from portal.settings.Settings: every setting, its comment and its default.

Run after adding a setting: `.venv/bin/python scripts/write-env-example.py`
(tests/test_env_example.py fails while the file misses a setting or a default changed)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from portal.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SOURCE = (ROOT / "src" / "portal" / "settings.py").read_text().splitlines()
HEADER = """\
# Every setting of the Employer Health Portal API, with its default.
# Copy to .env (read from the working directory) or export them; uncomment what you change.
# An empty value means unset (for example no PORTAL_DATABASE_URL: an embedded PostgreSQL).
# Written by scripts/write-env-example.py; tests/test_env_example.py checks it."""


def comment_for(name: str) -> list[str]:
    """The comment lines right above the field's definition in settings.py."""
    for index, line in enumerate(SOURCE):
        if re.match(rf"\s+{name}:", line):
            above: list[str] = []
            cursor = index - 1
            while cursor >= 0 and SOURCE[cursor].strip().startswith("#"):
                above.insert(0, SOURCE[cursor].strip()[1:].strip())
                cursor -= 1
            return above
    return []


def rendered(field: FieldInfo) -> str:
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    text = str(value)
    return f'"{text}"' if " " in text else text


def main() -> None:
    lines = [HEADER]
    for name, field in Settings.model_fields.items():
        choices = getattr(field.validation_alias, "choices", None)
        env = str(choices[0]) if choices else f"PORTAL_{name.upper()}"
        lines.append("")
        lines.extend(f"# {line}" for line in comment_for(name))
        lines.append(f"# {env}={rendered(field)}")
    (ROOT / ".env.example").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
