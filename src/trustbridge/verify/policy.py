"""What a caller asks the verifier to require. Policies compose; the unsafe one says so loudly.

The defaults are the contract of ``POST /v1/verify`` (issue 14) and must not
change: ``require_accredited_issuer``, ``check_status``, ``check_schema`` and
``require_holder_binding`` on, ``require_microcredential_profile`` off, 60 s
clock skew.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

MAX_CLOCK_SKEW_SECONDS = 3600


class Policy(BaseModel):
    """Which checks are required. A relaxed check is reported ``skipped``, never ``passed``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    require_accredited_issuer: bool = True
    check_status: bool = True
    check_schema: bool = True
    require_holder_binding: bool = True
    require_microcredential_profile: bool = False
    clock_skew_seconds: int = Field(default=60, ge=0, le=MAX_CLOCK_SKEW_SECONDS)

    @property
    def unsafe(self) -> bool:
        """True for policies that must warn each time they run (``UnsafeNoOp``)."""
        return False

    def announce(self) -> None:
        """Called by the verifier on every run; only unsafe policies say anything."""

    def cache_key(self) -> dict[str, Any]:
        """What of the policy a cached result depends on."""
        return {"unsafe": self.unsafe, **self.model_dump(mode="json")}


class UnsafeNoOp(Policy):
    """Every optional check off and the widest skew: for tests and demos only.

    It still verifies signatures and structure (those are not optional), and logs a
    warning every time it runs, as sigstore's ``UnsafeNoOp`` does.
    """

    require_accredited_issuer: bool = False
    check_status: bool = False
    check_schema: bool = False
    require_holder_binding: bool = False
    require_microcredential_profile: bool = False
    clock_skew_seconds: int = Field(default=MAX_CLOCK_SKEW_SECONDS, ge=0,
                                    le=MAX_CLOCK_SKEW_SECONDS)

    @property
    def unsafe(self) -> bool:
        return True

    def announce(self) -> None:
        log.warning("verifying with UnsafeNoOp policy: issuer trust, status, schema and holder "
                    "binding are NOT enforced")


def AllOf(*policies: Policy) -> Policy:
    """The strictest combination: a check is on if any policy wants it; the smallest skew wins.

    Combining with an unsafe policy does not make the result unsafe: strictness wins.
    """
    if not policies:
        return Policy()
    return Policy(
        require_accredited_issuer=any(p.require_accredited_issuer for p in policies),
        check_status=any(p.check_status for p in policies),
        check_schema=any(p.check_schema for p in policies),
        require_holder_binding=any(p.require_holder_binding for p in policies),
        require_microcredential_profile=any(p.require_microcredential_profile for p in policies),
        clock_skew_seconds=min(p.clock_skew_seconds for p in policies),
    )


__all__ = ["MAX_CLOCK_SKEW_SECONDS", "AllOf", "Policy", "UnsafeNoOp"]
