"""Plug point: ``services.components["verify"]`` is the ``Verifier``; ``verifier_of`` gets it.

Wires whatever is installed: the DID resolver (``trustbridge.did.service``), the
trust registry (``trustbridge.registry.service``), the status-list fetcher, the
schema store, the JSON-LD and SD-JWT formats, the micro-credential profile.
A missing optional piece degrades to ``indeterminate`` for the checks that need
it, never to ``valid``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
from collections.abc import Callable
from typing import Any

from trustbridge import __version__
from trustbridge.config import Settings
from trustbridge.did.resolver import offline_resolver
from trustbridge.did.service import resolver_of
from trustbridge.formats.base import CredentialFormat
from trustbridge.formats.jwt_vc import JwtVcFormat
from trustbridge.services import Services
from trustbridge.status.service import safe_fetcher_of, status_lists_of
from trustbridge.verify.pipeline import Verifier, VerifierConfig
from trustbridge.verify.result_cache import ResultCache
from trustbridge.verify.schemas import SchemaStore

log = logging.getLogger(__name__)

NAME = "verify"


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise


def _getter(module: str, name: str) -> Callable[[Services], Any] | None:
    mod = _optional(module)
    fn = getattr(mod, name, None) if mod is not None else None
    return fn if callable(fn) else None


def resolver_for(services: Services) -> Any:
    """The DID resolver component, or an offline did:key/did:jwk resolver when not attached."""
    try:
        return resolver_of(services)
    except RuntimeError:
        log.warning("DID resolver not attached; resolving did:key/did:jwk only")
    return offline_resolver()


def registry_for(services: Services) -> Any:
    """The combined trust decision (``trustbridge.trust``) when attached, else the registry;
    both answer ``check_issuer`` the same way."""
    for module, name in (("trustbridge.trust.service", "trust_of"),
                         ("trustbridge.registry.service", "registry_of")):
        getter = _getter(module, name)
        if getter is None:
            continue
        try:
            return getter(services)
        except (KeyError, RuntimeError, LookupError):
            continue
    return None


def formats_for(services: Services) -> list[CredentialFormat]:
    """Every installed format; SD-JWT before JWT (its ``~`` makes detection unambiguous)."""
    allow_rsa = services.settings.allow_rsa
    formats: list[CredentialFormat] = []
    for module, names in (("trustbridge.formats.sd_jwt", ("SdJwtVcFormat", "SdJwtFormat")),
                          ("trustbridge.formats.ldp", ("LdpFormat", "LdpVcFormat",
                                                       "JsonLdFormat"))):
        mod = _optional(module)
        if mod is None:
            continue
        factory = getattr(mod, "format_of", None)
        if callable(factory):
            formats.append(factory(services))
            continue
        for name in names:
            cls = getattr(mod, name, None)
            if cls is not None:
                formats.append(cls())
                break
    formats.append(JwtVcFormat(allow_rsa=allow_rsa))
    return formats


def microcredential_evaluator() -> Any:
    mod = _optional("trustbridge.microcred")
    return getattr(mod, "evaluate_microcredential", None) if mod is not None else None


def build_verifier(services: Services) -> Verifier:
    s = services.settings
    schemas = SchemaStore(local_dir=s.schema_store_dir, fetcher=safe_fetcher_of(services),
                          cache=services.cache, fetch_remote=s.schema_fetch_remote,
                          max_bytes=s.fetch_max_bytes, ttl=float(s.schema_cache_ttl_seconds))
    try:
        status_lists = status_lists_of(services)
    except RuntimeError:
        status_lists = None
    return Verifier(
        formats=formats_for(services),
        resolver=resolver_for(services),
        registry=registry_for(services),
        status_lists=status_lists,
        schemas=schemas,
        # A shared cache (Redis) gets an in-process tier in front of it.
        result_cache=ResultCache(services.cache, max_ttl=float(s.result_cache_ttl_seconds),
                                 local_tier=bool(s.redis_url)),
        microcredential=microcredential_evaluator(),
        clock=lambda: services.clock(),
        config=VerifierConfig(
            fact_timeout_seconds=s.verify_fact_timeout_seconds,
            presentation_max_age_seconds=s.presentation_max_age_seconds,
            status_allowed_issuers=frozenset(s.status_list_allowed_issuers),
            epoch_max_age_seconds=s.registry_epoch_max_age_seconds,
            result_scope=result_scope(s),
        ),
    )


# Settings that can change a verification report (not only how fast it comes or whether a
# fact could be fetched, which gives ``indeterminate``, never cached).
_REPORT_SETTINGS = (
    "trust_anchors", "trust_policy", "trust_allowlist", "trust_denylist", "trust_sources_file",
    "trust_stale_grace_seconds", "allow_rsa", "presentation_max_age_seconds",
    "status_list_allowed_issuers", "schema_store_dir", "schema_fetch_remote",
    "did_web_allow_hosts", "did_web_allow_private", "did_web_ca_file", "ebsi_didr_url",
    "demo_issuer",
)


def result_scope(settings: Settings) -> str:
    """A short digest of the settings in ``_REPORT_SETTINGS`` and the software version.

    Cached reports are keyed on it, so two nodes on one Redis with different trust
    configuration (or a rolling upgrade's old and new release) never answer with each
    other's reports."""
    material = {name: getattr(settings, name) for name in _REPORT_SETTINGS}  # a typo fails
    material["version"] = __version__
    blob = json.dumps(material, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _registry_events_hook(services: Services) -> Callable[[Verifier], bool]:
    """Subscribe the verifier to ``registry.changed`` once the event bus is attached
    (``trustbridge.registry.sync_service`` attaches after this package)."""

    def subscribe(verifier: Verifier) -> bool:
        events = _optional("trustbridge.registry.events")
        if events is None:
            return True  # not installed: nothing to wait for
        try:
            events.on_registry_change(services, verifier.registry_changed)
        except RuntimeError:
            return False  # not attached (yet)
        return True

    return subscribe


async def attach(services: Services) -> None:
    verifier = build_verifier(services)
    verifier.subscribe_with(_registry_events_hook(services))
    services.components[NAME] = verifier


def verifier_of(services: Services) -> Verifier:
    component = services.components.get(NAME)
    if not isinstance(component, Verifier):
        raise RuntimeError("verify component is not attached")
    return component


__all__ = ["attach", "build_verifier", "formats_for", "verifier_of"]
