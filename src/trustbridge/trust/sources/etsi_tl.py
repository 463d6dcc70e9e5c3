"""ETSI TS 119 612 trusted lists (XML) and the EU List of Trusted Lists (LoTL).

1. Each list's XML signature (XAdES enveloped ``ds:Signature``, TS 119 612 §5.7) is verified
   with ``signxml`` against the pinned certificates of its pointer (the LoTL's own
   certificates are configured; national lists' come from the LoTL's
   ``OtherTSLPointer/ServiceDigitalIdentities``). Only the signed subtree is parsed
   afterwards (no signature-wrapping). XAdES qualifying properties and the signer's
   certificate status are not checked.
2. ``NextUpdate`` (§5.3.15) is honoured and the previous good copy kept when a refresh fails
   (``_feed.ListFeed``); the decision makes data past NextUpdate + grace unavailable.
3. An issuer is trusted when a certificate of its ``x5c`` chain is a listed service
   certificate (``ServiceDigitalIdentity/DigitalId/X509Certificate``), or the chain's top
   certificate is directly issued by one, with the chain's links and validity checked at
   ``at``, of a configured service type (§5.5.1), with a granted status in force at
   ``at`` (§5.5.4, §5.6 history). An issuer given only as a DID is never matched here.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree  # type: ignore[import-untyped]  # no stubs shipped

from trustbridge.cache import Cache
from trustbridge.clock import Clock
from trustbridge.errors import InputError
from trustbridge.fetch import SafeFetcher
from trustbridge.trust.interface import SourceAnswer, SourceStatus, TrustSubject, answer
from trustbridge.trust.sources._feed import ListFeed
from trustbridge.trust.sources._status import StatusPeriod, parse_time
from trustbridge.trust.sources.lote import judge_services, list_evidence

NS = {"tsl": "http://uri.etsi.org/02231/v2#", "ds": "http://www.w3.org/2000/09/xmldsig#"}
TSL_MIME = "application/vnd.etsi.tsl+xml"
DEFAULT_SERVICE_TYPES = (
    "http://uri.etsi.org/TrstSvc/Svctype/CA/QC",
    "http://uri.etsi.org/TrstSvc/Svctype/CA/PKC",
    "http://uri.etsi.org/TrstSvc/Svctype/EAA/Q",
    "http://uri.etsi.org/TrstSvc/Svctype/EAA",
    "http://uri.etsi.org/TrstSvc/Svctype/EAA/Pub-EAA",
)
MAX_POINTERS = 64
_PEM = Encoding.PEM
_DER = Encoding.DER


@dataclass(frozen=True)
class TlService:
    entity_name: str
    service_name: str
    service_type: str
    certs: tuple[x509.Certificate, ...]
    periods: tuple[StatusPeriod, ...]


@dataclass(frozen=True)
class Pointer:
    location: str
    certs: tuple[x509.Certificate, ...]
    territory: str | None


@dataclass(frozen=True)
class TrustedList:
    sequence: int | None
    territory: str | None
    issued: datetime | None
    next_update: datetime | None
    signer: str
    services: tuple[TlService, ...]
    pointers: tuple[Pointer, ...]


def load_certificates(pems: Iterable[bytes]) -> tuple[x509.Certificate, ...]:
    out: list[x509.Certificate] = []
    for pem in pems:
        out.extend(x509.load_pem_x509_certificates(pem))
    return tuple(out)


def _certs_under(node: Any, path: str) -> tuple[x509.Certificate, ...]:
    out = []
    for text in node.xpath(path, namespaces=NS):
        try:
            out.append(x509.load_der_x509_certificate(base64.b64decode("".join(text.split()))))
        except ValueError:
            continue  # an unreadable certificate matches nothing
    return tuple(out)


def _first(node: Any, path: str) -> str | None:
    found = node.xpath(path, namespaces=NS)
    return str(found[0]).strip() if found else None


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_comments=True)


def _signature_config() -> Any:
    """Enveloped at the top level (TS 119 612 §5.7.1), public-key algorithms only (no HMAC,
    no SHA-1), any number of references (XAdES adds one for its SignedProperties)."""
    from signxml.algorithms import SignatureMethod
    from signxml.verifier import SignatureConfiguration

    methods = frozenset(m for m in SignatureMethod
                        if "SHA1" not in m.name and "HMAC" not in m.name)
    return SignatureConfiguration(location="./", expect_references=True,
                                  signature_methods=methods)


def verify_signed_list(raw: bytes, pinned: Sequence[x509.Certificate]) -> tuple[Any, str]:
    """Step 1: the signed root element and the pinned signer's subject, or ``InputError``."""
    from signxml.exceptions import InvalidInput
    from signxml.exceptions import InvalidSignature as XmlInvalidSignature
    from signxml.verifier import XMLVerifier

    if not pinned:
        raise InputError("no pinned certificate for this trusted list",
                         code="trust.tl.no_pinned_certificate")
    errors = []
    for cert in pinned:
        pem = cert.public_bytes(encoding=_PEM).decode()
        try:
            results = XMLVerifier().verify(raw, x509_cert=pem, parser=_PARSER,
                                           expect_config=_signature_config())
        except (XmlInvalidSignature, InvalidInput, ValueError) as exc:
            errors.append(str(exc))
            continue
        # the reference covering the whole list (URI=""), not a fragment of it
        for result in results if isinstance(results, list) else [results]:
            signed = result.signed_xml
            if signed is not None and etree.QName(signed).localname == "TrustServiceStatusList" \
                    and signed.getparent() is None:
                return signed, cert.subject.rfc4514_string()
        raise InputError("the signature does not cover the whole trusted list",
                         code="trust.tl.signature_scope")
    raise InputError(f"trusted list signature not valid for any pinned certificate: "
                     f"{errors[-1] if errors else ''}", code="trust.tl.signature_invalid")


def parse_trusted_list(raw: bytes, pinned: Sequence[x509.Certificate]) -> TrustedList:
    """Verify (step 1), then read scheme information, pointers and services."""
    root, signer = verify_signed_list(raw, pinned)
    info = "tsl:SchemeInformation/"
    seq = _first(root, info + "tsl:TSLSequenceNumber/text()")
    pointers = []
    for ptr in root.xpath(info + "tsl:PointersToOtherTSL/tsl:OtherTSLPointer", namespaces=NS):
        mime = _first(ptr, ".//tsl:MimeType/text()")
        location = _first(ptr, "tsl:TSLLocation/text()")
        if location and (mime is None or mime == TSL_MIME):
            pointers.append(Pointer(
                location, _certs_under(ptr, ".//tsl:ServiceDigitalIdentity/tsl:DigitalId/"
                                            "tsl:X509Certificate/text()"),
                _first(ptr, ".//tsl:SchemeTerritory/text()")))
    services = []
    for tsp in root.xpath("tsl:TrustServiceProviderList/tsl:TrustServiceProvider",
                          namespaces=NS):
        tsp_name = _first(tsp, "tsl:TSPInformation/tsl:TSPName/tsl:Name/text()") or ""
        for svc in tsp.xpath("tsl:TSPServices/tsl:TSPService", namespaces=NS):
            si = svc.xpath("tsl:ServiceInformation", namespaces=NS)[0]
            stype = _first(si, "tsl:ServiceTypeIdentifier/text()") or ""
            periods = []
            for node in [si, *svc.xpath("tsl:ServiceHistory/tsl:ServiceHistoryInstance",
                                        namespaces=NS)]:
                status = _first(node, "tsl:ServiceStatus/text()")
                start = parse_time(_first(node, "tsl:StatusStartingTime/text()"))
                if status and start:
                    periods.append(StatusPeriod(
                        status, start, _first(node, "tsl:ServiceTypeIdentifier/text()")))
            services.append(TlService(
                entity_name=tsp_name,
                service_name=_first(si, "tsl:ServiceName/tsl:Name/text()") or "",
                service_type=stype,
                certs=_certs_under(si, "tsl:ServiceDigitalIdentity/tsl:DigitalId/"
                                       "tsl:X509Certificate/text()"),
                periods=tuple(periods)))
    return TrustedList(
        sequence=int(seq) if seq and seq.isdigit() else None,
        territory=_first(root, info + "tsl:SchemeTerritory/text()"),
        issued=parse_time(_first(root, info + "tsl:ListIssueDateTime/text()")),
        next_update=parse_time(_first(root, info + "tsl:NextUpdate/tsl:dateTime/text()")),
        signer=signer, services=tuple(services), pointers=tuple(pointers[:MAX_POINTERS]))


def chain_matches(chain: Sequence[x509.Certificate], listed: Sequence[x509.Certificate],
                  at: datetime) -> str | None:
    """Step 3: how the chain reaches a listed certificate (``"listed"``/``"issued_by"``),
    or ``None``. The chain's own links and validity periods are checked at ``at``."""
    if not chain:
        return None
    for cert in chain:
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            return None
    for child, parent in itertools.pairwise(chain):
        try:
            child.verify_directly_issued_by(parent)
        except (InvalidSignature, ValueError, TypeError):
            return None
    digests = {hashlib.sha256(c.public_bytes(_DER)).hexdigest() for c in listed}
    if any(hashlib.sha256(c.public_bytes(_DER)).hexdigest() in digests for c in chain):
        return "listed"
    top = chain[-1]
    for anchor in listed:
        try:
            top.verify_directly_issued_by(anchor)
        except (InvalidSignature, ValueError, TypeError):
            pass  # not issued by this one
        else:
            return "issued_by"
    return None


class TrustedListSource:
    """A LoTL (pinned certificates) and the national lists it points to, or directly
    configured lists with their own pinned certificates."""

    def __init__(self, name: str, *, clock: Clock, lotl: str | None = None,
                 lotl_certs: Sequence[x509.Certificate] = (),
                 lists: Sequence[tuple[str, Sequence[x509.Certificate]]] = (),
                 fetcher: SafeFetcher | None = None,
                 service_types: Sequence[str] = DEFAULT_SERVICE_TYPES,
                 cache: Cache | None = None) -> None:
        self.name = name
        self.clock = clock
        self.fetcher = fetcher
        self.cache = cache
        self.service_types = frozenset(service_types)
        self.lotl = self._feed(lotl, lotl_certs) if lotl else None
        self.feeds: dict[str, ListFeed[TrustedList]] = {
            loc: self._feed(loc, certs) for loc, certs in lists}

    def _feed(self, location: str, certs: Sequence[x509.Certificate]) -> ListFeed[TrustedList]:
        pinned = tuple(certs)
        return ListFeed(location, lambda raw: parse_trusted_list(raw, pinned),
                        lambda tl: tl.next_update, clock=self.clock, fetcher=self.fetcher,
                        accept=f"{TSL_MIME}, application/xml, text/xml", cache=self.cache)

    async def _lists(self) -> tuple[list[tuple[ListFeed[TrustedList], Any]], list[str]]:
        problems: list[str] = []
        if self.lotl is not None:
            lotl = await self.lotl.current()
            if lotl is None:
                problems.append(f"LoTL {self.lotl.location}: {self.lotl.last_error}")
            else:
                for ptr in lotl.value.pointers:
                    # a list names only remote lists, never this node's files
                    if not ptr.location.startswith(("https://", "http://")):
                        continue
                    if ptr.location not in self.feeds:
                        self.feeds[ptr.location] = self._feed(ptr.location, ptr.certs)
        out = []
        for feed in self.feeds.values():
            snap = await feed.current()
            if snap is None:
                problems.append(f"{feed.location}: {feed.last_error}")
            else:
                out.append((feed, snap))
        return out, problems

    def list_digests(self) -> dict[str, str | None]:
        """The digest of every list in use, the LoTL included (see ``TrustService.epoch``)."""
        feeds = [*([self.lotl] if self.lotl is not None else []), *self.feeds.values()]
        return {feed.location: feed.digest for feed in feeds}

    async def refresh(self) -> None:
        """Reload the LoTL and the lists that are due (and pick up newly pointed-to lists)."""
        await self._lists()

    async def evaluate(self, subject: TrustSubject) -> SourceAnswer:
        if not subject.x5c:
            return answer(self.name, SourceStatus.UNKNOWN, "trust.tl.no_certificate_chain",
                          "trusted lists list certificates; the credential carries no x5c chain")
        try:
            chain = [x509.load_der_x509_certificate(c) for c in subject.x5c]
        except ValueError:
            return answer(self.name, SourceStatus.NOT_TRUSTED, "trust.tl.bad_certificate",
                          "the x5c chain holds an unreadable certificate")
        lists, problems = await self._lists()
        for feed, snap in lists:
            tl = snap.value
            matches = []
            for svc in tl.services:
                if svc.service_type not in self.service_types:
                    continue
                how = chain_matches(chain, svc.certs, subject.at)
                if how is not None:
                    matches.append((svc, svc.periods))
            if matches:
                evidence = list_evidence(snap, tl.sequence, feed.last_error)
                evidence.update(territory=tl.territory, signer=tl.signer,
                                issued=tl.issued.isoformat() if tl.issued else None)
                return judge_services(self.name, matches, subject.at, evidence,
                                      fetched_at=snap.fetched_at, next_update=tl.next_update,
                                      label="tl")
        if problems:
            return answer(self.name, SourceStatus.UNAVAILABLE, "trust.tl.unavailable",
                          "; ".join(problems)[:500],
                          evidence={"lists_loaded": [f.location for f, _ in lists]})
        return answer(self.name, SourceStatus.UNKNOWN, "trust.tl.not_listed",
                      "no listed service certificate matches the chain",
                      evidence={"lists": [f.location for f, _ in lists]})

__all__ = ["DEFAULT_SERVICE_TYPES", "TrustedList", "TrustedListSource", "chain_matches",
           "load_certificates", "parse_trusted_list", "verify_signed_list"]
