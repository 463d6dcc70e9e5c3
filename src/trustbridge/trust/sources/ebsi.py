"""The existing EBSI-style registry (RootTAO → TAO → TI chains) as a trust source."""

from __future__ import annotations

from typing import Any

from trustbridge.trust.interface import SourceAnswer, SourceStatus, TrustSubject, answer

# Registry codes that mean "nothing about this issuer" rather than "known and refused".
_UNKNOWN_CODES = frozenset({"issuer.not_found", "issuer.unknown", "accreditation.not_found",
                            "issuer.not_registered"})


class EbsiRegistrySource:
    """Adapter over ``trustbridge.registry.service.TrustRegistry.evaluate`` (cached there,
    keyed on the registry epoch)."""

    def __init__(self, registry: Any, name: str = "ebsi") -> None:
        self.name = name
        self.registry = registry

    async def evaluate(self, subject: TrustSubject) -> SourceAnswer:
        got = await self.registry.evaluate(
            subject.issuer, types=list(subject.types), schema_id=subject.schema_id,
            jurisdiction=subject.jurisdiction, at=subject.at, terms_of_use=subject.terms_of_use)
        dumped: dict[str, Any] = got.model_dump(mode="json")
        if getattr(got, "accredited", False):
            return answer(self.name, SourceStatus.TRUSTED, str(got.code), str(got.reason),
                          evidence={"issuer_name": dumped.get("issuer_name"),
                                    "country": dumped.get("country"),
                                    "anchor": dumped.get("anchor"),
                                    "attribute_id": dumped.get("attribute_id"),
                                    "chain": dumped.get("chain")})
        evidence = {"partial_chain": dumped.get("partial_chain", [])}
        if getattr(got, "indeterminate", False):
            return answer(self.name, SourceStatus.UNAVAILABLE, str(got.code), str(got.reason),
                          evidence=evidence)
        status = (SourceStatus.UNKNOWN if got.code in _UNKNOWN_CODES
                  else SourceStatus.NOT_TRUSTED)
        return answer(self.name, status, str(got.code), str(got.reason), evidence=evidence,
                      authoritative="revoked" in str(got.code))


__all__ = ["EbsiRegistrySource"]
