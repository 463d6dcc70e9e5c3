"""TS 119 612 trusted lists: signature against pinned certificates, a tampered list refused,
status at time from service history, NextUpdate + grace, and a LoTL pointing to a national
list served over HTTP on 127.0.0.1 (verified with the pointer's certificates)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.trust.factory import CA_QC, GRANTED, T0, WITHDRAWN, Pki, make_pki, trusted_list
from trustbridge.errors import InputError
from trustbridge.fetch import SafeFetcher
from trustbridge.trust.interface import SourceStatus, TrustSubject
from trustbridge.trust.service import TrustService
from trustbridge.trust.sources.etsi_tl import TrustedListSource, parse_trusted_list


class Clockwork:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


def chain_subject(pki: Pki, at: datetime) -> TrustSubject:
    return TrustSubject(issuer="did:web:hs-teststadt.example", at=at,
                        x5c=(pki.issuer.der, pki.ca.der))


def write(tmp_path: Path, name: str, raw: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(raw)
    return str(path)


def test_signature_verified_tampered_and_unpinned_refused(pki: Pki) -> None:
    raw = trusted_list(pki.list_signer, services=[{"certs": [pki.ca.der]}])
    tl = parse_trusted_list(raw, [pki.other_signer.cert, pki.list_signer.cert])
    assert tl.signer == "C=AT,CN=Test TL Scheme Operator" and tl.services[0].service_type == CA_QC
    for bad, pinned, code in (
            (trusted_list(pki.list_signer, services=[{"certs": [pki.ca.der]}], tamper=True),
             [pki.list_signer.cert], "trust.tl.signature_invalid"),
            (raw, [pki.other_signer.cert], "trust.tl.signature_invalid"),
            (raw, [], "trust.tl.no_pinned_certificate"),
            (b"<TrustServiceStatusList/>", [pki.list_signer.cert], "trust.tl.signature_invalid")):
        with pytest.raises(InputError) as exc:
            parse_trusted_list(bad, pinned)
        assert exc.value.code == code


async def test_chain_matched_with_status_at_time(pki: Pki, tmp_path: Path) -> None:
    withdrawn_at = datetime(2025, 6, 1, tzinfo=UTC)
    raw = trusted_list(pki.list_signer, issued=datetime(2025, 12, 1, tzinfo=UTC),
                       next_update=datetime(2026, 6, 1, tzinfo=UTC),
                       services=[{"certs": [pki.ca.der], "status": WITHDRAWN,
                                  "since": withdrawn_at, "history": [(GRANTED, T0)]}])
    clock = Clockwork(datetime(2026, 1, 1, tzinfo=UTC))
    src = TrustedListSource("etsi_tl", clock=clock,
                            lists=[(write(tmp_path, "at.xml", raw), [pki.list_signer.cert])])
    ok = await src.evaluate(chain_subject(pki, datetime(2025, 1, 1, tzinfo=UTC)))
    assert (ok.status, ok.code) == (SourceStatus.TRUSTED, "trust.tl.granted")
    assert ok.evidence["signer"] == "C=AT,CN=Test TL Scheme Operator"
    assert ok.evidence["services"][0]["current_status"] == WITHDRAWN
    gone = await src.evaluate(chain_subject(pki, datetime(2025, 7, 1, tzinfo=UTC)))
    assert (gone.status, gone.code, gone.authoritative) == (
        SourceStatus.NOT_TRUSTED, "trust.tl.withdrawn", True)
    stranger = TrustSubject(issuer="did:web:x.example", at=datetime(2025, 1, 1, tzinfo=UTC),
                            x5c=(pki.stranger.der,))
    assert (await src.evaluate(stranger)).status is SourceStatus.UNKNOWN
    no_chain = TrustSubject(issuer="did:web:x.example", at=datetime(2025, 1, 1, tzinfo=UTC))
    assert (await src.evaluate(no_chain)).code == "trust.tl.no_certificate_chain"
    # a chain whose leaf claims the CA but is signed by somebody else does not match
    forged = TrustSubject(issuer="did:web:x.example", at=datetime(2025, 1, 1, tzinfo=UTC),
                          x5c=(pki.stranger.der, pki.ca.der))
    assert (await src.evaluate(forged)).status is SourceStatus.UNKNOWN


async def test_expired_list_past_grace_is_unknown(pki: Pki, tmp_path: Path) -> None:
    raw = trusted_list(pki.list_signer, next_update=datetime(2025, 3, 1, tzinfo=UTC),
                       services=[{"certs": [pki.ca.der]}])
    clock = Clockwork(datetime(2025, 3, 2, tzinfo=UTC))
    service = TrustService(
        [TrustedListSource("etsi_tl", clock=clock,
                           lists=[(write(tmp_path, "tl.xml", raw), [pki.list_signer.cert])])],
        clock=clock, grace=timedelta(days=7))
    at = datetime(2025, 1, 1, tzinfo=UTC)
    x5c = [pki.issuer.der, pki.ca.der]
    assert (await service.decide("did:web:i.example", at=at, x5c=x5c)).status == "trusted"
    clock.now = datetime(2025, 3, 9, tzinfo=UTC)
    late = await service.decide("did:web:i.example", at=at, x5c=x5c)
    assert (late.status, late.code) == ("unknown", "trust.source_stale")


@pytest.fixture
async def tl_server() -> AsyncIterator[Callable[[dict[str, bytes]], str]]:
    """Serves given bodies at given paths on 127.0.0.1; returns the base URL."""
    bodies: dict[str, bytes] = {}

    async def handler(request: web.Request) -> web.Response:
        body = bodies.get(request.path)
        if body is None:
            return web.Response(status=404)
        return web.Response(body=body, content_type="application/vnd.etsi.tsl+xml")

    app = web.Application()
    app.router.add_get("/{name}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()

    def serve(items: dict[str, bytes]) -> str:
        bodies.update(items)
        return str(server.make_url("")).rstrip("/")

    yield serve
    await server.close()


async def test_lotl_pointer_to_national_list_over_http(
        pki: Pki, tmp_path: Path, tl_server: Callable[[dict[str, bytes]], str]) -> None:
    national_signer = pki.other_signer  # the LoTL pins it for the national list
    national = trusted_list(national_signer, services=[{"certs": [pki.ca.der]}],
                            next_update=datetime(2026, 6, 1, tzinfo=UTC))
    base = tl_server({"/at.xml": national})
    lotl = trusted_list(pki.list_signer, territory="EU",
                        next_update=datetime(2026, 6, 1, tzinfo=UTC),
                        pointers=[{"location": f"{base}/at.xml", "certs": [national_signer.der]},
                                  {"location": str(tmp_path / "local.xml"),  # never followed
                                   "certs": [national_signer.der]}])
    clock = Clockwork(datetime(2026, 1, 1, tzinfo=UTC))
    src = TrustedListSource("etsi_tl", clock=clock, lotl=write(tmp_path, "lotl.xml", lotl),
                            lotl_certs=[pki.list_signer.cert],
                            fetcher=SafeFetcher(allow_private=True, timeout=5))
    got = await src.evaluate(chain_subject(pki, datetime(2025, 1, 1, tzinfo=UTC)))
    assert got.status is SourceStatus.TRUSTED, got.reason
    assert got.evidence["list"] == f"{base}/at.xml"
    assert list(src.feeds) == [f"{base}/at.xml"]


async def test_lotl_pointer_with_wrong_certificate_is_refused(
        pki: Pki, tmp_path: Path, tl_server: Callable[[dict[str, bytes]], str]) -> None:
    national = trusted_list(pki.stranger, services=[{"certs": [pki.ca.der]}])
    base = tl_server({"/xx.xml": national})
    lotl = trusted_list(pki.list_signer, territory="EU",
                        pointers=[{"location": f"{base}/xx.xml", "certs": [pki.other_signer.der]}])
    clock = Clockwork(datetime(2024, 3, 1, tzinfo=UTC))
    src = TrustedListSource("etsi_tl", clock=clock, lotl=write(tmp_path, "lotl.xml", lotl),
                            lotl_certs=[pki.list_signer.cert],
                            fetcher=SafeFetcher(allow_private=True, timeout=5))
    got = await src.evaluate(chain_subject(pki, datetime(2024, 2, 1, tzinfo=UTC)))
    assert (got.status, got.code) == (SourceStatus.UNAVAILABLE, "trust.tl.unavailable")
    assert "signature" in got.reason


def test_signature_over_a_fragment_only_is_refused(pki: Pki) -> None:
    from lxml import etree  # type: ignore[import-untyped]
    from signxml import methods
    from signxml.signer import XMLSigner

    raw = trusted_list(pki.list_signer, services=[{"certs": [pki.ca.der]}])
    root = etree.fromstring(raw)
    for sig in root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        root.remove(sig)
    info = root.find("{http://uri.etsi.org/02231/v2#}SchemeInformation")
    info.set("Id", "scheme")
    signed = XMLSigner(method=methods.enveloped, signature_algorithm="ecdsa-sha256",
                       digest_algorithm="sha256").sign(
        root, key=pki.list_signer.key_pem, cert=[pki.list_signer.pem.decode()],
        reference_uri="#scheme")
    with pytest.raises(InputError) as exc:  # the services are not covered by the signature
        parse_trusted_list(etree.tostring(signed), [pki.list_signer.cert])
    assert exc.value.code in {"trust.tl.signature_scope", "trust.tl.signature_invalid"}
