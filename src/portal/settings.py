"""Runtime configuration, read from the environment (prefix ``PORTAL_``)."""

from __future__ import annotations

from functools import cached_property
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # Without a database URL the app starts an embedded PostgreSQL under ``data_dir``.
    database_url: str | None = None
    data_dir: Path = Path(".portal-data")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    # The employer web app (PORTAL_APP_URL). Emailed links (set a password from an invitation,
    # reset a password) point at <app_url>/accept-invitation#token=... and
    # <app_url>/reset-password#token=... when it is set; otherwise at the API's own small pages
    # under public_url.
    app_url: str | None = None
    # Browser origins allowed to call the API cross-origin (CORS), comma-separated, e.g.
    # "https://app.example.com,https://admin.example.com". None by default: same origin only.
    # Bearer tokens travel in a header, so no credentials mode (cookies) is ever allowed.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Connections kept open per process (a request holds one from start to end). Overflow
    # connections are opened and closed per burst (a new PostgreSQL backend each), so by default
    # every connection the process may open is kept: 20, no overflow.
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    # How long a request waits for a pooled connection before it answers 503 SERVICE_UNAVAILABLE
    # with Retry-After (each request holds exactly one connection, so waiting is queueing).
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    # Connections are replaced after this long (there is no pre-ping round trip per checkout).
    db_pool_recycle_seconds: int = Field(default=1800, ge=1)
    # How the app's connections are named in pg_stat_activity (tell processes apart there).
    db_application_name: str = Field(default="employer-health-portal", max_length=63)
    db_echo: bool = False
    # Show the embedded PostgreSQL's own output (initdb, pg_ctl) when it starts; hidden otherwise.
    embedded_db_debug: bool = False
    # A database that accepts connections but never answers fails a connection attempt after this
    # long, instead of the driver's 60 s.
    db_connect_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # /readyz: its own connection (never the request pool), answered within this long.
    readiness_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    # On SIGTERM the server stops accepting, then waits this long for requests in flight (a large
    # download being streamed) before closing them.
    shutdown_timeout_seconds: int = Field(default=30, ge=0, le=3600)
    # The garbage collector while serving: start-up's objects frozen out of it, its youngest
    # generation collected after 5,000 new objects (not 700), so fewer collections walk the
    # requests in flight (see docs/operations.md, Sizing). False keeps the interpreter's defaults.
    gc_tuning: bool = True
    # PORTAL_DEBUG: start-up failures print their traceback, the embedded server its own output.
    debug: bool = False
    # Several processes: with a Redis URL, live events (documentPosted) fan out through Redis
    # pub/sub to the subscribers of every process (channels are named "<prefix>:..."), and query
    # budgets are shared; without it each process keeps its own.
    redis_url: str | None = None
    # App processes of `portal serve` (PORTAL_WORKERS; `--workers N` overrides).
    workers: int = Field(default=1, ge=1, le=64)
    redis_prefix: str = Field(default="portal", min_length=1, max_length=64)
    # GET /metrics (Prometheus text format) on the app's port; off by default. Restrict it to the
    # monitoring network at the load balancer.
    metrics_enabled: bool = False
    # OpenTelemetry: spans go to this OTLP/HTTP collector (e.g. http://otel-collector:4318).
    otlp_endpoint: str | None = None
    otel_service_name: str = "employer-health-portal"
    # Logs: one JSON object per line, or a human format (default: text in development only).
    log_format: Literal["json", "text"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Similar warnings and errors (same message template) are logged once per window.
    log_dedup_window_seconds: float = Field(default=60.0, ge=0)

    jwt_issuer: str = "employer-health-portal"
    jwt_audience: str = "employer-health-portal-api"
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30, le=24 * 3600)
    # PEM or JWK file of the signing key; generated under data_dir when unset (development only).
    signing_key_file: Path | None = None
    # Key rotation: comma-separated files of retired keys whose tokens still verify (and whose
    # public halves stay in the JWKS) until those tokens expire.
    signing_key_previous_files: str | None = None

    # Sign-in sessions: a session idle longer than this can no longer refresh (PORTAL_IDLE_TIMEOUT),
    # and every session ends after its absolute lifetime.
    idle_timeout_seconds: int = Field(
        default=15 * 60, ge=60, validation_alias=AliasChoices("PORTAL_IDLE_TIMEOUT")
    )
    session_lifetime_seconds: int = Field(default=12 * 3600, ge=300)
    # Consecutive wrong guesses at one person's password or code from one IP address: every
    # ``login_lockout_threshold`` of them lock that person for that address only, for
    # ``login_lockout_seconds`` doubled at each further lock (capped at a day); at
    # ``login_max_failures`` (NIST SP 800-63B: at most 100) that address stays locked out of that
    # person until the password is reset. Across all addresses, every
    # ``login_global_lockout_threshold`` wrong guesses (10 times the per-address threshold) lock
    # the person everywhere (same doubling, capped at a day, never for good), so a stranger
    # cannot lock someone out while a guess spread over many addresses is still stopped.
    login_lockout_threshold: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=15 * 60, ge=1)
    login_max_failures: int = Field(default=100, ge=1, le=100)
    login_global_lockout_threshold: int = Field(default=50, ge=1)
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

    # Webhooks (see README "Webhooks"). The worker runs inside the app unless turned off (then
    # run `portal worker`).
    webhook_worker_enabled: bool = True
    webhook_poll_interval_seconds: float = Field(default=2.0, gt=0)
    webhook_batch_size: int = Field(default=20, ge=1, le=500)
    # A failed attempt waits base * 2**(attempts - 1), capped, give or take the jitter (a
    # fraction of the delay); the delivery is FAILED after the last attempt.
    webhook_max_attempts: int = Field(default=12, ge=1, le=50)
    webhook_retry_base_seconds: float = Field(default=60.0, ge=0)
    webhook_retry_max_seconds: float = Field(default=8 * 3600.0, ge=0)
    webhook_retry_jitter: float = Field(default=0.2, ge=0, lt=1)
    # An endpoint whose attempts have all failed for this long is disabled, its admins emailed.
    webhook_disable_after_seconds: float = Field(default=24 * 3600.0, gt=0)
    webhook_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_read_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # A claimed delivery is not claimed again for this long: a crashed worker's event is retried.
    webhook_claim_lease_seconds: float = Field(default=120.0, gt=0)
    # After `rotateWebhookSecret` the old secret keeps signing (beside the new one) this long.
    webhook_secret_grace_seconds: int = Field(default=24 * 3600, ge=0, le=7 * 24 * 3600)
    # How often the worker looks for authorizations that have expired (authorization.expired).
    webhook_expiry_check_interval_seconds: float = Field(default=300.0, gt=0)
    # Finished deliveries (and their attempts) stay in the delivery log this long.
    webhook_log_retention_days: int = Field(default=30, ge=1, le=3650)
    # http:// endpoint URLs, for local testing only: never accepted in production.
    webhook_allow_http: bool = False
    # Endpoints may not resolve to loopback, private, link-local, shared or cloud-metadata
    # addresses, unless inside one of these networks (e.g. ["10.20.0.0/16"] for an HR system on
    # the company network; tests allow 127.0.0.0/8).
    webhook_allowed_networks: list[IPv4Network | IPv6Network] = Field(default_factory=list)

    # Emailed links: password reset (NIST SP 800-63B: short-lived) and invitations.
    password_reset_ttl_seconds: int = Field(default=20 * 60, ge=60)
    invitation_ttl_seconds: int = Field(default=72 * 3600, ge=60)
    # Reset emails for one person per hour (more requests answer the same but send nothing), and
    # reset requests from one IP address within the window (more are RATE_LIMITED).
    password_reset_max_per_hour: int = Field(default=3, ge=1)
    password_reset_ip_max_requests: int = Field(default=20, ge=1)
    password_reset_ip_window_seconds: int = Field(default=15 * 60, ge=1)

    # Addresses (or CIDR ranges) of the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto
    # are believed (PORTAL_TRUSTED_PROXIES, comma-separated). Empty: no proxy header is believed,
    # whatever the peer, so a client cannot choose the address that lockouts and audit record.
    trusted_proxies: str = ""
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
    # In production GraphiQL is not served unless this is on (it is the staff's tool: only staff
    # may introspect there).
    graphiql_in_production: bool = False

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def serves_graphiql(self) -> bool:
        return self.graphiql_enabled and (not self.is_production or self.graphiql_in_production)

    # Where document bytes live: a folder under data_dir (one host), or an S3-compatible bucket
    # that several hosts share.
    storage_backend: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    # For a store other than AWS (MinIO, Ceph, ...): its URL; path-style addressing is used.
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    # Without keys, boto3's usual chain applies (AWS_* variables, instance or pod roles).
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_prefix: str = "documents/"
    # Archived documents move to this storage class (`portal archive`), e.g. GLACIER_IR.
    s3_cold_storage_class: str | None = None
    # AES256 or aws:kms; leave unset when the bucket encrypts by default.
    s3_server_side_encryption: str | None = None
    s3_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Query budgets: a leaky bucket of cost points per signed-in caller, and per IP address for
    # anonymous callers, draining this many points a second; 0 points turns budgets off.
    rate_limit_points: int = Field(default=50_000, ge=0)
    rate_limit_anonymous_points: int = Field(default=5_000, ge=1)
    rate_limit_points_per_second: float = Field(default=100.0, gt=0)

    # Largest document upload accepted (PORTAL_MAX_UPLOAD_BYTES), enforced while the bytes are read.
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    # Uploaded PDFs are checked in a separate process under these limits: its address space, its
    # CPU seconds, and how far the pages of one file may inflate (decompression bombs).
    pdf_check_memory_bytes: int = Field(default=1024 * 1024 * 1024, ge=128 * 1024 * 1024)
    pdf_check_cpu_seconds: int = Field(default=30, ge=1)
    pdf_max_inflated_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)
    # A prepared merged-PDF download URL works once, for the one who prepared it, this long.
    download_ticket_ttl_seconds: int = Field(default=5 * 60, ge=10, le=3600)
    # Merged PDFs are produced by worker processes, at most this many at once per app process
    # (further downloads wait their turn); each merge takes one CPU core while it runs.
    download_max_concurrent_merges: int = Field(default=2, ge=1, le=64)
    # A redemption holds its ticket this long, renewed while it runs: a process killed mid-merge
    # leaves the ticket usable again after at most this long.
    download_claim_lease_seconds: float = Field(default=30.0, ge=1, le=600)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            parts = urlsplit(origin)
            if (
                parts.scheme not in {"http", "https"}
                or not parts.netloc
                or parts.path
                or parts.query
                or parts.fragment
            ):
                raise ValueError(
                    f"{origin!r} is not an origin: give scheme://host[:port], no path, no '*'"
                )
        return origins

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def webhook_http_allowed(self) -> bool:
        return self.webhook_allow_http and self.environment != "production"

    @property
    def mail_dir(self) -> Path:
        return self.resolved_data_dir / "mail"

    @property
    def previous_signing_keys(self) -> list[Path]:
        return [
            Path(part.strip())
            for part in (self.signing_key_previous_files or "").split(",")
            if part.strip()
        ]

    @property
    def logs_as_json(self) -> bool:
        if self.log_format is not None:
            return self.log_format == "json"
        return self.environment != "development"

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None


def get_settings() -> Settings:
    return Settings()
