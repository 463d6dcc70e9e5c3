"""Settings from the environment (``TRUSTBRIDGE_*``, ``REDIS_URL``, ``DATABASE_URL``) or a file.

Every setting has a safe default; the default needs no external service
(SQLite under ``data_dir``, in-process cache).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service configuration. See the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="TRUSTBRIDGE_", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "TRUSTBRIDGE_DATABASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "TRUSTBRIDGE_REDIS_URL")
    )
    # In-process cache bounds (also the local copy behind Redis while it is unreachable):
    # least recently used entries go when either is reached; bytes = keys + values held.
    cache_max_entries: int = 50_000
    cache_max_bytes: int = 128 * 1024 * 1024
    # Redis unreachable: serve cached facts in-process, re-probe Redis after this many seconds
    # (nonces, sessions, idempotency keys fail closed with 503). 0: no fallback, 503 instead.
    redis_fallback_seconds: float = 5.0

    # glibc malloc of serving processes (runtime/memory.py; a no-op on other C libraries):
    # blocks of at least this many bytes get their own mapping, returned on free -- fixed, so
    # glibc no longer raises it after freeing one large block (0: glibc's dynamic default);
    # and free heap pages are given back to the OS (malloc_trim) every interval (0: never).
    malloc_mmap_threshold_bytes: int = Field(default=512 * 1024, ge=0, le=32 * 1024 * 1024)
    malloc_trim_interval_seconds: float = Field(default=60.0, ge=0)

    # HTTP edge limits
    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 64
    request_timeout_seconds: float = 30.0
    # Per-client token buckets on the verification POSTs (api/ratelimit.py), in-process per
    # worker; 429 request.rate_limited with Retry-After. 0: off (benchmarks).
    rate_limit_verify_per_second: float = 200.0
    rate_limit_verify_burst: int = 400
    rate_limit_trust_forwarded: bool = False  # client = last X-Forwarded-For hop (our proxy)
    rate_limit_sync_batches_per_minute: float = 60.0  # per pushing registry; 0: off

    # Registry
    registry_seed_dir: Path | None = Path("registry")
    seed_registry: bool = True
    admin_token: SecretStr | None = None
    trust_anchors: list[str] = Field(default_factory=list)

    # DID resolution
    did_cache_ttl_seconds: int = 3600
    did_negative_ttl_seconds: int = 30
    did_web_allow_hosts: list[str] = Field(default_factory=list)
    did_web_allow_private: bool = False
    did_web_ca_file: Path | None = None
    ebsi_didr_url: str | None = None
    fetch_timeout_seconds: float = 5.0
    fetch_max_bytes: int = 256 * 1024

    # Verification
    result_cache_ttl_seconds: int = 300
    registry_epoch_max_age_seconds: float = Field(
        default=1.0, ge=0,
        description="How long a worker reuses the registry epoch it read for result-cache "
                    "keys and for the registry's own accreditation answers; its own registry "
                    "changes apply at once, other workers' within this")
    allow_rsa: bool = False
    verify_fact_timeout_seconds: float = 8.0
    presentation_max_age_seconds: int = 900
    status_list_ttl_seconds: int = 300
    status_list_max_ttl_seconds: int = 86_400
    status_list_max_bytes: int = 512 * 1024
    status_list_allowed_issuers: list[str] = Field(default_factory=list)
    schema_store_dir: Path | None = Path("registry/schemas")
    schema_fetch_remote: bool = True
    schema_cache_ttl_seconds: int = 86_400
    sd_jwt_x5c_trust_anchors_file: Path | None = None  # PEM; unset: x5c never trusted
    demo_issuer: bool = False
    # W3C VC-API endpoints (/credentials/verify, /presentations/verify): test-suite issuers are
    # not in the registry, so these relax issuer trust and holder binding unless configured.
    vcapi_require_accredited_issuer: bool = False
    vcapi_require_holder_binding: bool = False

    # OpenID4VP verifier (wallet presentation flow)
    oid4vp_session_ttl_seconds: int = 600
    oid4vp_max_session_ttl_seconds: int = 86_400
    oid4vp_result_ttl_seconds: int = 3600
    oid4vp_public_base_url: str | None = None  # else derived from the request's Host
    oid4vp_verifier_key_pem: SecretStr | None = None  # EC P-256; else generated, kept in store
    oid4vp_max_response_bytes: int = 512 * 1024
    oid4vp_webhook_allow_private: bool = False
    oid4vp_webhook_max_attempts: int = 5
    oid4vp_webhook_backoff_seconds: float = 1.0
    oid4vp_webhook_timeout_seconds: float = 5.0
    oid4vp_events_max_seconds: float = 300.0

    # Registry sync (docs/registry-sync.md): national registries push signed batches, nodes
    # mirror each other's signed change log, upstream EBSI TIRs are imported. All off unless set.
    sync_registries: dict[str, list[str]] = Field(default_factory=dict)  # DID -> jurisdictions
    sync_node_key_pem: SecretStr | None = None  # Ed25519 PKCS#8; else generated, kept in store
    sync_node_did: str | None = None  # e.g. did:web of the node; default: did:key of the key
    sync_node_kid: str | None = None
    sync_max_batch_bytes: int = 64 * 1024 * 1024
    sync_mirror_peers: list[str] = Field(default_factory=list)  # base URLs of other nodes
    sync_mirror_pinned: dict[str, str] = Field(default_factory=dict)  # peer URL -> node DID
    sync_mirror_interval_seconds: float = 0.0  # 0: no periodic mirroring
    sync_mirror_on_event: bool = True  # pull peers when another node announces a change
    sync_head_max_age_seconds: float = 600.0  # older signed heads are replays: refused
    sync_upstream_url: str | None = None  # EBSI TIR v5 base, e.g. …/trusted-issuers-registry/v5
    sync_upstream_interval_seconds: float = 0.0  # 0: no periodic upstream import
    sync_page_size: int = 1000

    # HR integration (docs/hr-integration.md): batch, jobs, idempotency, receipts, tenants
    hr_batch_max_items: int = 100
    hr_batch_concurrency: int = 16
    hr_job_max_items: int = 10_000
    hr_job_chunk_size: int = 50
    hr_job_lease_seconds: float = 30.0
    hr_job_poll_seconds: float = 1.0
    hr_job_worker: bool = True  # this node claims and processes queued jobs
    hr_job_retention_seconds: int = 7 * 86_400  # finished jobs and results purged after this
    hr_idempotency_ttl_seconds: int = 86_400
    hr_api_keys: dict[str, str] = Field(default_factory=dict)  # sha256(key) hex -> tenant
    hr_rate_limit_per_minute: int = 0  # POSTs per tenant per minute on batch/jobs; 0: off
    hr_webhook_allow_private: bool = False
    hr_webhook_max_attempts: int = 5
    hr_webhook_backoff_seconds: float = 1.0
    hr_webhook_timeout_seconds: float = 5.0

    # One trust decision across sources (docs/trust-sources.md). Default: the registry alone
    # (plus an empty allow-list), any source sufficient.
    trust_policy: str | None = None  # e.g. "ebsi | (etsi_tl & deqar)"
    trust_allowlist: dict[str, list[str]] = Field(default_factory=dict)  # DID|sha256:… -> types
    trust_denylist: list[str] = Field(default_factory=list)
    trust_sources_file: Path | None = None  # JSON: LoTE, ETSI TL/LoTL, DEQAR, allow-list file
    trust_stale_grace_seconds: int = 86_400  # past NextUpdate + this: unavailable

    def effective_database_url(self) -> str:
        """The store URL: ``DATABASE_URL`` or a SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'trustbridge.sqlite3').as_posix()}"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from env, optionally layered under a TOML or JSON file, then ``overrides``."""
    values: dict[str, Any] = {}
    if config_file is not None:
        text = config_file.read_text(encoding="utf-8")
        values = tomllib.loads(text) if config_file.suffix == ".toml" else json.loads(text)
    values.update(overrides)
    return Settings(**values)


__all__ = ["Settings", "load_settings"]
