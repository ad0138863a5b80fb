"""Configuration: one pydantic-settings object, built once by the CLI (or a test) and passed in."""

from __future__ import annotations

import math
import re
import secrets
from collections import Counter
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_PRODUCTION_SECRET_LENGTH = 32
# A production JWT_SECRET must carry at least this many bits by the estimate in weak_secret_reason.
MIN_PRODUCTION_SECRET_BITS = 64
# Words that mark a placeholder someone meant to replace (the value of an example .env, a tutorial's
# "your-jwt-secret-here-change-in-production"), matched in the secret lower-cased with only letters and
# digits kept. A random value practically never contains one.
PLACEHOLDER_WORDS = ("secret", "changeme", "changethis", "replaceme", "password", "example", "default")
# Origins that must never be trusted with credentials: "*" is anyone, and "null" is what sandboxed iframes,
# file:// pages and data: URLs send, which any attacker's page can produce.
UNSAFE_CORS_ORIGINS = ("*", "null")


def weak_secret_reason(secret: str) -> str | None:
    """Why ``secret`` is too weak to sign production tokens, or None when it passes.

    A simple heuristic, not a proof of strength. It refuses a secret that is short, that contains a
    placeholder word, that is a shorter sequence repeated ("abcabc...", "aaaa..."), or whose estimated
    entropy is low: its length times the Shannon entropy of its own character frequencies, the bits it
    would carry if each character were drawn independently with those frequencies. 32 random hex digits
    estimate ~115 bits (never under 85 in a million draws), `secrets.token_urlsafe(32)` ~210 bits, while 32
    characters that are mostly one letter estimate under 64.
    """
    if len(secret) < MIN_PRODUCTION_SECRET_LENGTH:
        return f"it is shorter than {MIN_PRODUCTION_SECRET_LENGTH} characters"
    letters_and_digits = re.sub(r"[^a-z0-9]", "", secret.lower())
    for word in PLACEHOLDER_WORDS:
        if word in letters_and_digits:
            return f"it contains the placeholder word {word!r}"
    period = _shortest_period(secret)
    if period <= len(secret) // 2:
        return f"it repeats a sequence of {period} character(s)"
    counts = Counter(secret).values()
    bits = -sum(count * math.log2(count / len(secret)) for count in counts)
    if bits < MIN_PRODUCTION_SECRET_BITS:
        return f"its characters carry about {bits:.0f} bits, under {MIN_PRODUCTION_SECRET_BITS}"
    return None


def _shortest_period(text: str) -> int:
    """The length of the shortest prefix that, repeated, spells ``text`` (KMP failure function)."""
    border = [0] * len(text)
    for i in range(1, len(text)):
        k = border[i - 1]
        while k and text[i] != text[k]:
            k = border[k - 1]
        border[i] = k + 1 if text[i] == text[k] else 0
    return len(text) - (border[-1] if text else 0)


class Settings(BaseSettings):
    """Every knob of Homer RT. Names follow the spec's section 1 where they apply."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    app_name: str = "Homer"
    app_env: Literal["development", "test", "production"] = "development"
    # Loopback unless told otherwise: a development server is not reachable from the network by accident.
    # The Docker image sets HOST=0.0.0.0.
    host: str = "127.0.0.1"
    port: int = 8001

    # auto: JSON lines in production, readable console lines otherwise (homer_rt.logs).
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # /metrics (Prometheus) is served only when configured: on METRICS_HOST:METRICS_PORT, a listener of its
    # own (loopback unless set otherwise), and/or on the main port behind ``Authorization: Bearer
    # METRICS_TOKEN``. With a token, the metrics port asks for it too. Neither set: no /metrics anywhere.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    metrics_token: SecretStr | None = Field(default=None, min_length=16)

    # Empty means unset: development and test then sign with a random secret made when the settings are
    # built (see _fill_missing_secret); production refuses to start.
    jwt_secret: str = ""
    jwt_algorithm: Literal["HS256"] = "HS256"
    jwt_expiry_hours: int = Field(default=24, ge=1, le=24 * 30)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    bcrypt_threads: int = Field(default=1, ge=1, le=16)
    bcrypt_max_pending: int = Field(default=32, ge=1)
    # New passwords (registration, password change) hash on a thread and queue of their own, so a flood of
    # registrations cannot delay or refuse sign-ins.
    bcrypt_max_pending_new_passwords: int = Field(default=8, ge=1)

    cors_origins: Annotated[list[str], NoDecode] = ["http://localhost:3000", "http://localhost:3001"]
    # Peers whose X-Forwarded-For is believed (the load balancer), as CIDRs; any other peer is the client.
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = []

    mongodb_url: str | None = None
    mongodb_db: str = "homer"
    embedded_data_file: Path | None = None
    embedded_save_interval_seconds: float = Field(default=5.0, gt=0)

    redis_url: str | None = None
    redis_channel: str = "homer-rt"
    # With REDIS_URL: how long a dead process's connections keep their users online (presence.RedisPresence).
    presence_ttl_seconds: float = Field(default=60.0, ge=1, le=3600)
    socketio_ping_interval: float = Field(default=25.0, gt=0)
    socketio_ping_timeout: float = Field(default=20.0, gt=0)
    # A live socket's token is read again from the store at most this often, on its next event: the backstop
    # for a revocation whose session_ended did not reach the socket's process.
    socket_session_recheck_seconds: float = Field(default=10.0, ge=0, le=3600)
    socketio_max_payload_bytes: int = Field(default=64 * 1024, ge=1024)
    # Each process closes the sockets whose token has expired this often (live_sockets.LiveSockets).
    socket_expiry_check_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Live Socket.IO connections per process, counting every namespace: per user and per client address.
    socket_connections_per_user: int = Field(default=30, ge=1)
    socket_connections_per_address: int = Field(default=200, ge=1)
    # permessage-deflate on the Socket.IO WebSocket: off by default (see realtime.attach_socket_server).
    socketio_websocket_compression: bool = False

    # SIGTERM's budget for live work: Socket.IO connections to close and in-flight requests and socket
    # events to finish, after which what is left is cut; then the store is flushed (homer_rt/shutdown.py).
    shutdown_grace_seconds: float = Field(default=4.0, ge=0, le=300)
    # /api/health/ready: each dependency check's timeout, and how long one round of checks answers every
    # probe (a burst of probes runs the checks once).
    readiness_check_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    readiness_cache_seconds: float = Field(default=1.0, ge=0, le=60)

    storage_backend: Literal["local", "s3"] = "local"
    upload_dir: Path = Path("uploads")
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # What one user's stored uploads may occupy (every area), and how many files they may upload an hour.
    # Room for an owner's listings photographed on a phone (a few MB a photo, a dozen photos a listing).
    upload_quota_bytes_per_user: int = Field(default=1024 * 1024 * 1024, ge=1024)
    uploads_per_user_per_hour: int = Field(default=120, ge=1)
    # Chat attachments never sent and verification documents never submitted are removed after this long.
    unreferenced_upload_ttl_hours: float = Field(default=24.0, gt=0)
    upload_cleanup_interval_seconds: float = Field(default=3600.0, gt=0)
    # How often the background scheduler looks for due jobs (upload cleanup, subscription reminders).
    scheduler_poll_seconds: float = Field(default=30.0, gt=0)
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_region: str = "ap-south-1"
    s3_bucket: str | None = Field(default=None, validation_alias="S3_BUCKET")
    aws_s3_bucket_name: str | None = None
    s3_endpoint_url: str | None = None
    s3_presign_seconds: int = Field(default=300, ge=10, le=3600)

    razorpay_key_id: str | None = None
    razorpay_key_secret: str | None = None
    razorpay_webhook_secret: str | None = None
    razorpay_base_url: str | None = None
    razorpay_timeout_seconds: float = Field(default=10.0, gt=0)
    subscription_price_inr: int = Field(default=750, gt=0)
    property_verification_price_inr: int = Field(default=2000, gt=0)
    subscription_days: int = Field(default=90, gt=0)
    subscription_reminder_days: int = Field(default=3, ge=0)
    subscription_reminder_interval_seconds: float = Field(default=3600.0, gt=0)

    free_contact_limit: int = Field(default=5, ge=0)
    # Listings one owner may have active at once (admins exempt); one more is a 409 listing_limit_reached.
    max_active_listings_per_owner: int = Field(default=50, ge=1)
    # Failed sign-ins per window: for one account from one address, for one account from anywhere, and from
    # one address over all accounts (not counted against an account already signed in from that address).
    login_attempts_per_account_and_address: int = Field(default=5, ge=1)
    login_attempts_per_account: int = Field(default=20, ge=1)
    login_attempts_per_address: int = Field(default=100, ge=1)
    login_window_seconds: float = Field(default=300.0, gt=0)
    # How long a successful sign-in (or registration) from an address exempts that account there from the
    # address's ceiling.
    login_known_address_days: float = Field(default=30.0, ge=0)
    registrations_per_address_per_hour: int = Field(default=10, ge=1)
    registrations_per_minute: int = Field(default=30, ge=1)
    request_body_max_bytes: int = Field(default=1024 * 1024, ge=1024)

    chat_message_max_chars: int = Field(default=4000, ge=1)
    chat_send_rate_per_10s: int = Field(default=30, ge=1)
    chat_page_size: int = Field(default=50, ge=1, le=200)
    # Typing changes one user forwards in one chat per 10 s (a stop clearing a shown indicator always goes).
    chat_typing_events_per_10s: int = Field(default=20, ge=1)
    # A receiver's unread_count is pushed at once for a new message after a quiet spell; messages within
    # this much of a push are covered by one more push at its end (one count query and event per window).
    chat_unread_push_interval_ms: int = Field(default=250, ge=0, le=5000)

    admin_email: str | None = None
    admin_phone: str | None = None
    admin_password: str | None = None

    _jwt_secret_generated: bool = PrivateAttr(default=False)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list):
            # strict=False: "10.0.0.7/8" names its network as operators often write it.
            return [ip_network(item, strict=False) if isinstance(item, str) else item for item in value]
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.app_env != "production":
            return self
        problems = []
        if not self.jwt_secret:
            problems.append("JWT_SECRET must be set (32+ random characters, e.g. `openssl rand -hex 32`)")
        elif reason := weak_secret_reason(self.jwt_secret):
            problems.append(
                f"JWT_SECRET is too weak: {reason}; use 32+ random characters (e.g. `openssl rand -hex 32`)"
            )
        if not self.mongodb_url or self.mongodb_url.startswith("mongomock://"):
            problems.append("MONGODB_URL must point at MongoDB (the embedded store keeps nothing)")
        unsafe_origins = [origin for origin in self.cors_origins if origin in UNSAFE_CORS_ORIGINS]
        if unsafe_origins:
            listed = ", ".join(map(repr, unsafe_origins))
            problems.append(f"CORS_ORIGINS must list real origins, not {listed}")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @model_validator(mode="after")
    def _fill_missing_secret(self) -> Settings:
        """Outside production, a missing JWT_SECRET becomes a random one, decided here once so every part of
        the process signs and checks with the same secret. Never a fixed default: a secret anyone can read in
        the source lets anyone forge an admin's token."""
        if not self.jwt_secret and self.app_env != "production":
            self.jwt_secret = secrets.token_urlsafe(48)
            self._jwt_secret_generated = True
        return self

    @property
    def jwt_secret_generated(self) -> bool:
        """True when JWT_SECRET was unset and this process made up its own (create_app warns)."""
        return self._jwt_secret_generated

    @property
    def logs_as_json(self) -> bool:
        return self.log_format == "json" or (self.log_format == "auto" and self.app_env == "production")

    @property
    def serves_metrics(self) -> bool:
        return self.metrics_port is not None or self.metrics_token is not None

    @property
    def uses_embedded_store(self) -> bool:
        return not self.mongodb_url or self.mongodb_url.startswith("mongomock://")

    @property
    def bucket(self) -> str | None:
        return self.s3_bucket or self.aws_s3_bucket_name

    @property
    def payments_are_mock(self) -> bool:
        return not self.razorpay_key_id
