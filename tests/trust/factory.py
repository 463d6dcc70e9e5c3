"""Throwaway PKI and ETSI TS 119 612 trusted lists for the tests (generated, never fetched).

``make_pki`` gives a list-signing certificate (pinned by the relying party), a CA listed as
a service, and an issuer leaf under that CA. ``trusted_list`` writes a TS 119 612 v2 list
(SchemeInformation, one TSP with one service and its history, optional pointers) and signs
it with an enveloped XML signature (signxml), as TS 119 612 §5.7 asks (XAdES baseline
qualifying properties omitted).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from cryptography.x509.oid import NameOID
from lxml import etree  # type: ignore[import-untyped]
from signxml import methods
from signxml.signer import XMLSigner

TSL = "http://uri.etsi.org/02231/v2#"
GRANTED = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
WITHDRAWN = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/withdrawn"
CA_QC = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cert:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def make_cert(name: str, issuer: Cert | None = None, *, ca: bool = True,
              not_before: datetime = T0, days: int = 3650) -> Cert:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.COUNTRY_NAME, "AT")])
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer.cert.subject if issuer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_before + timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    signer = issuer.key if issuer else key
    return Cert(key, builder.sign(signer, hashes.SHA256()))


@dataclass(frozen=True)
class Pki:
    list_signer: Cert
    other_signer: Cert
    ca: Cert
    issuer: Cert  # leaf under ``ca``
    stranger: Cert  # self-signed, listed nowhere


def make_pki() -> Pki:
    ca = make_cert("Test Qualified CA")
    return Pki(list_signer=make_cert("Test TL Scheme Operator"),
               other_signer=make_cert("Somebody Else"), ca=ca,
               issuer=make_cert("Hochschule Teststadt", ca, ca=False),
               stranger=make_cert("Stranger"))


def _sub(parent: Any, tag: str, text: str | None = None) -> Any:
    el = etree.SubElement(parent, f"{{{TSL}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _identity(parent: Any, certs: list[bytes]) -> None:
    sdi = _sub(parent, "ServiceDigitalIdentity")
    for der in certs:
        _sub(_sub(sdi, "DigitalId"), "X509Certificate", base64.b64encode(der).decode())


def trusted_list(signer: Cert, *, sequence: int = 1, issued: datetime = T0,
                 next_update: datetime | None = None, territory: str = "AT",
                 services: Sequence[dict[str, Any]] = (), pointers: Sequence[dict[str, Any]] = (),
                 tamper: bool = False) -> bytes:
    """A signed TS 119 612 list. ``services``: ``{name, type, certs: [der], status, since,
    history: [(status, since)]}``; ``pointers``: ``{location, certs: [der], territory}``."""
    root = etree.Element(f"{{{TSL}}}TrustServiceStatusList", nsmap={"tsl": TSL},
                         TSLTag="http://uri.etsi.org/19612/TSLTag", Id="tsl")
    info = _sub(root, "SchemeInformation")
    _sub(info, "TSLVersionIdentifier", "6")
    _sub(info, "TSLSequenceNumber", str(sequence))
    _sub(info, "TSLType", "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric")
    _sub(_sub(info, "SchemeOperatorName"), "Name", "Test Supervisory Body")
    _sub(info, "SchemeTerritory", territory)
    if pointers:
        ptrs = _sub(info, "PointersToOtherTSL")
        for p in pointers:
            ptr = _sub(ptrs, "OtherTSLPointer")
            _identity(_sub(ptr, "ServiceDigitalIdentities"), p["certs"])
            _sub(ptr, "TSLLocation", p["location"])
            extra = _sub(_sub(ptr, "AdditionalInformation"), "OtherInformation")
            _sub(extra, "SchemeTerritory", p.get("territory", "AT"))
            extra2 = _sub(ptr.find(f"{{{TSL}}}AdditionalInformation"), "OtherInformation")
            _sub(extra2, "MimeType", "application/vnd.etsi.tsl+xml")
    _sub(info, "ListIssueDateTime", issued.strftime("%Y-%m-%dT%H:%M:%SZ"))
    nu = _sub(info, "NextUpdate")
    _sub(nu, "dateTime", (next_update or issued + timedelta(days=180))
         .strftime("%Y-%m-%dT%H:%M:%SZ"))
    if services:
        tsps = _sub(root, "TrustServiceProviderList")
        tsp = _sub(tsps, "TrustServiceProvider")
        _sub(_sub(_sub(tsp, "TSPInformation"), "TSPName"), "Name", "Test Trust Services GmbH")
        svcs = _sub(tsp, "TSPServices")
        for s in services:
            svc = _sub(svcs, "TSPService")
            si = _sub(svc, "ServiceInformation")
            _sub(si, "ServiceTypeIdentifier", s.get("type", CA_QC))
            _sub(_sub(si, "ServiceName"), "Name", s.get("name", "Test QC CA"))
            _identity(si, s["certs"])
            _sub(si, "ServiceStatus", s.get("status", GRANTED))
            _sub(si, "StatusStartingTime", s.get("since", T0).strftime("%Y-%m-%dT%H:%M:%SZ"))
            if s.get("history"):
                hist = _sub(svc, "ServiceHistory")
                for status, since in s["history"]:
                    inst = _sub(hist, "ServiceHistoryInstance")
                    _sub(inst, "ServiceTypeIdentifier", s.get("type", CA_QC))
                    _sub(_sub(inst, "ServiceName"), "Name", s.get("name", "Test QC CA"))
                    _identity(inst, s["certs"])
                    _sub(inst, "ServiceStatus", status)
                    _sub(inst, "StatusStartingTime", since.strftime("%Y-%m-%dT%H:%M:%SZ"))
    signed = XMLSigner(method=methods.enveloped, signature_algorithm="ecdsa-sha256",
                       digest_algorithm="sha256").sign(
        root, key=signer.key_pem, cert=[signer.pem.decode()])
    raw: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    if tamper:
        raw = raw.replace(b">Test Trust Services GmbH<", b">Evil Trust Services GmbH<")
    return raw
