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
    # How long a request waits for a pooled connection before it answers 503 SERVICE_UNAVAILABLE
    # with Retry-After (each request holds exactly one connection, so waiting is queueing).
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    # Connections are replaced after this long (there is no pre-ping round trip per checkout).
    db_pool_recycle_seconds: int = Field(default=1800, ge=1)
    # A database that does not accept a connection in this time counts as unavailable.
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    # How the app's connections are named in pg_stat_activity (tell processes apart there).
    db_application_name: str = Field(default="employer-health-portal", max_length=63)
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

    # PORTAL_REQUIRE_MFA_FOR_ADMINS: staff and User Admins without a confirmed second factor get a
    # session restricted to enrolling one (see portal.schema.permissions).
    require_mfa_for_admins: bool = False

    demo_password: SecretStr = SecretStr("Portal-Demo-Passw0rd!")

    # Outgoing email (password resets, invitations). Without an SMTP host every message is
    # written as an .eml file under <data_dir>/mail/ and its first link is logged (offline demo).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # STARTTLS after connecting: True requires it, False never tries, None upgrades when offered.
    smtp_starttls: bool | None = None
    # Implicit TLS from the first byte (usually port 465); excludes STARTTLS.
    smtp_tls: bool = False
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from: str = "Employer Health Portal <no-reply@portal.example>"
    # The outbox worker runs inside the app unless turned off (then run `portal worker`).
    mail_worker_enabled: bool = True
    mail_poll_interval_seconds: float = Field(default=5.0, gt=0)
    mail_batch_size: int = Field(default=20, ge=1, le=500)
    # Failed deliveries wait base * 2**(attempts - 1), capped; FAILED after the last attempt.
    mail_max_attempts: int = Field(default=8, ge=1)
    mail_retry_base_seconds: float = Field(default=30.0, ge=0)
    mail_retry_max_seconds: float = Field(default=3600.0, ge=0)
    # A claimed message is not claimed again for this long, so a crashed worker's mail is retried.
    mail_claim_lease_seconds: float = Field(default=300.0, gt=0)

    # Emailed links: password reset (NIST SP 800-63B: short-lived) and invitations.
    password_reset_ttl_seconds: int = Field(default=20 * 60, ge=60)
    invitation_ttl_seconds: int = Field(default=72 * 3600, ge=60)
    # Reset emails for one person per hour (more requests answer the same but send nothing), and
    # reset requests from one IP address within the window (more are RATE_LIMITED).
    password_reset_max_per_hour: int = Field(default=3, ge=1)
    password_reset_ip_max_requests: int = Field(default=20, ge=1)
    password_reset_ip_window_seconds: int = Field(default=15 * 60, ge=1)

    # Every operation, measured with its fragments expanded before it is validated: levels of
    # nested fields, aliases and fields (QUERY_TOO_COMPLEX beyond), and tokens of the document.
    graphql_max_depth: int = Field(default=12, ge=2)
    graphql_max_aliases: int = Field(default=30, ge=1)
    graphql_max_fields: int = Field(default=1000, ge=10)
    # Static cost of one operation (about the objects its answer may hold; see `rateLimit`).
    graphql_max_cost: int = Field(default=10_000, ge=100)
    graphql_max_tokens: int = Field(default=5000, ge=100)
    # Every string input (arguments, variables, file names) and every list in the variables;
    # an argument or input field may declare a smaller bound (``@maxLength`` in the SDL).
    graphql_max_string_length: int = Field(default=10_000, ge=100)
    graphql_max_list_length: int = Field(default=1000, ge=10)
    graphiql_enabled: bool = True
    # Query budgets: a leaky bucket of cost points per signed-in caller, and per IP address for
    # anonymous callers, draining this many points a second; 0 points turns budgets off.
    rate_limit_points: int = Field(default=50_000, ge=0)
    rate_limit_anonymous_points: int = Field(default=5_000, ge=1)
    rate_limit_points_per_second: float = Field(default=100.0, gt=0)
    # Shared state between processes (query budgets); without it each process keeps its own.
    redis_url: str | None = None

    # Largest document upload accepted (PORTAL_MAX_UPLOAD_BYTES), enforced while the bytes are read.
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    # A prepared merged-PDF download URL works once, for the one who prepared it, this long.
    download_ticket_ttl_seconds: int = Field(default=5 * 60, ge=10, le=3600)

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def mail_dir(self) -> Path:
        return self.resolved_data_dir / "mail"

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None


def get_settings() -> Settings:
    return Settings()
