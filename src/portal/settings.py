"""Runtime configuration, read from the environment (prefix ``PORTAL_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # Without a database URL the app starts an embedded PostgreSQL under ``data_dir``.
    database_url: str | None = None
    data_dir: Path = Path(".portal-data")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_echo: bool = False

    jwt_issuer: str = "employer-health-portal"
    jwt_audience: str = "employer-health-portal-api"
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30, le=24 * 3600)
    # PEM or JWK file of the signing key; generated under data_dir when unset (development only).
    signing_key_file: Path | None = None

    # Sign-in sessions: a session idle longer than this can no longer refresh (PORTAL_IDLE_TIMEOUT),
    # and every session ends after its absolute lifetime.
    idle_timeout_seconds: int = Field(
        default=15 * 60, ge=60, validation_alias=AliasChoices("PORTAL_IDLE_TIMEOUT")
    )
    session_lifetime_seconds: int = Field(default=12 * 3600, ge=300)
    # Consecutive failed sign-ins of one account: every ``login_lockout_threshold`` failures lock
    # it, for ``login_lockout_seconds`` doubled at each further lock (capped at a day); at
    # ``login_max_failures`` (NIST SP 800-63B: at most 100) it stays locked until reset by support.
    login_lockout_threshold: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=15 * 60, ge=1)
    login_max_failures: int = Field(default=100, ge=1, le=100)
    # Failed sign-ins from one IP address within the window, whatever the account.
    login_ip_max_failures: int = Field(default=50, ge=1)
    login_ip_window_seconds: int = Field(default=15 * 60, ge=1)

    demo_password: SecretStr = SecretStr("Portal-Demo-Passw0rd!")

    graphql_max_depth: int = Field(default=12, ge=2)
    graphql_max_aliases: int = Field(default=30, ge=1)
    graphql_max_tokens: int = Field(default=5000, ge=100)
    graphiql_enabled: bool = True

    # A prepared merged-PDF download URL works once, for the one who prepared it, this long.
    download_ticket_ttl_seconds: int = Field(default=5 * 60, ge=10, le=3600)

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None


def get_settings() -> Settings:
    return Settings()
