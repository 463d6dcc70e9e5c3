"""Soak: minutes of mixed load on ``trustbridge serve``, with memory and file descriptors watched.

Starts the service in its own process (``bench/common.py``'s ``ServedApp``: embedded SQLite +
in-process cache by default; ``--redis URL --database URL`` for Redis + PostgreSQL, each node
in a throwaway database created on that server and dropped afterwards), plus a second node
that mirrors the first's signed change log, and a local HTTPS host serving did:web
documents. Then, for ``--minutes`` (default 5, or ``SOAK_MINUTES``), ``--concurrency``
workers with seeded RNGs drive a mixed, bounded load on 127.0.0.1 only:

* ``verify.valid``: the demo VP (full policy, shipped demo registry) at varying times, the
  demo VC, a fresh holder-signed VP, EBSI's own vectors, a VC from an issuer this soak
  registered, a VC from a did:web issuer on the local HTTPS host -- each must be ``valid``;
* ``verify.forged``: mutations from scripts/forgery_corpus.py (the demo bases, verified by
  the real service) -- ``invalid`` or a 4xx problem, never ``valid``, never a 5xx;
* ``verify.malformed``: unusable requests -- a 4xx problem+json with a code;
* ``did.resolve``: did:key, did:jwk, did:web (local HTTPS), and malformed/unknown DIDs with
  the DIF error each deserves;
* ``registry.read``: the accreditation query, TIR v5 reads, search, read-your-writes;
* ``registry.write``: admin registrations (and refused ones: wrong token, forged
  accreditation, duplicate);
* ``sync``: signed batches pushed by a national registry (and replays, forged signatures,
  gaps, an unauthorised registry), log and head reads;
* ``oid4vp``: create a presentation request, fetch the request object, post the wallet's
  response, read the verdict (and wrong-nonce and replayed responses);
* ``system``: /health, /ready, /metrics.

Every answer is checked against what it should be: no 5xx, errors are problem+json with a
code (the DID resolver's DIF resolution results excepted), valid stays valid, nothing forged
is accepted. At the end, nothing lost: every acknowledged write is read back on the node,
every batch change is found on the mirror, and the log counts match.

Before the load, ``--prefill`` (default 12,000) registry changes are pushed in signed
batches and mirrored, so the registry's fixed-size memos (up to 10,000 entries, filled by
registry writes) are full before memory is judged, not filling at the load's write rate.
Server RSS (``/proc/<pid>/status`` VmRSS) and open file descriptors (``/proc/<pid>/fd``) are
sampled every ``--sample-seconds``. After ``--warmup`` (default 30 % of the run, at most
90 s; caches are given short TTLs so they reach steady state in it) the first samples give a
baseline, and the run FAILS when, for either node:

* RSS exceeds ``baseline * (1 + --rss-growth) + --rss-slack-mb`` (default 20 % + 24 MiB), or
  the least-squares trend of RSS over the measured window, carried on for twice that window,
  would exceed that bound;
* open FDs exceed ``baseline + --fd-slack`` (default 16), or are above ``baseline + 4`` once
  the load has stopped.

Memory is judged only when the measured window is at least 60 s (short runs report it).
Exit 0 on PASS, 1 on FAIL. See docs/soak.md.

    python bench/soak.py [--minutes 5] [--concurrency 8] [--seed 1] [--json]
    python bench/soak.py --redis redis://127.0.0.1:6390/0 \\
        --database postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import importlib.util
import io
import json
import os
import random
import secrets
import ssl
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from common import ROOT, ServedApp, percentile, throwaway_database  # noqa: E402

DEMO = ROOT / "fixtures" / "demo"
EBSI = ROOT / "fixtures" / "ebsi" / "vectors"
DEMO_KEYS = ROOT / "registry" / "demo-keys"
BATCH_TYP = "trustbridge-registry-batch+jwt"  # docs/registry-sync.md
PROBLEM = "application/problem+json"
RELAXED_ISSUER = {"require_accredited_issuer": False}
RELAXED_ALL = {"require_accredited_issuer": False, "check_status": False, "check_schema": False}
EV_TYPE = "EVHighVoltageSafetyCredential"
RESOLVE_PREFIX = "/1.0/identifiers/"
# Registry changes pushed before the load (--prefill): more than the largest fixed-size memo
# that registry writes fill (registry/facts.py's signature verdicts, 10,000; the accreditation
# parse LRU holds 8,192), so the judged window sees them full instead of filling at the
# load's ~13 writes/s. The last PREFILL_READS of them are then read as the load reads its
# own registrations (a VC by each verified, its DID resolved): that fills the memos of
# distinct issuers read (keys, JWKs, did:key documents, issuer records: 4,096 each).
DEFAULT_PREFILL = 12_000
PREFILL_BATCH = 500
PREFILL_READS = 5_000
PREFILL_SAMPLE = 20  # prefilled issuers read back on both nodes at the end

# kind -> weight in the mix (per worker pick)
MIX: dict[str, int] = {"verify.valid": 24, "verify.forged": 20, "verify.malformed": 4,
                       "did.resolve": 14, "registry.read": 14, "registry.write": 3,
                       "sync": 4, "oid4vp": 6, "system": 2}

Json = dict[str, Any]


def load_forgery_corpus() -> ModuleType:
    """scripts/forgery_corpus.py as a module (the same way tests/hostile loads it)."""
    name = "forgery_corpus"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "forgery_corpus.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


fc = load_forgery_corpus()


# -- what this soak holds: keys, tokens, the acknowledged writes -----------------------------

@dataclass
class Registered:
    """An issuer this soak registered and the server acknowledged."""

    did: str
    key: Any  # fc.Key
    via: str  # "admin" | "batch"


class World:
    """Keys, valid inputs, the forgery sample and the ledger of acknowledged writes."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.keys = fc.Keys()
        self.meta: Json = json.loads((DEMO / "demo.json").read_text())
        self.vp = (DEMO / "ev-safety-vp.jwt").read_text().strip()
        self.vc = (DEMO / "ev-safety-vc.jwt").read_text().strip()
        self.vc_payload: Json = fc.dec_segment(self.vc, 1)
        self.vp_header: Json = fc.dec_segment(self.vp, 0)
        self.vp_payload: Json = fc.dec_segment(self.vp, 1)
        self.tao = fc.Key.from_pem(DEMO_KEYS / "es-tao.json")
        self.root_did: str = self.meta["trust_anchor"]
        self.registry = fc.Key.seeded(f"trustbridge-soak-registry-{seed}", "Ed25519")
        self.rogue_registry = fc.Key.seeded(f"trustbridge-soak-rogue-{seed}", "Ed25519")
        self.admin_token = secrets.token_urlsafe(24)
        es = json.loads((ROOT / "registry" / "es.json").read_text())
        navarra = next(i for i in es["issuers"] if i["did"] == self.meta["navarra_provider"])
        self.ti_template: Json = fc.dec_segment(navarra["attributes"][0]["body"], 1)
        self.ebsi = [json.loads((EBSI / f"{n}.json").read_text()) for n in fc.EBSI_BASES]
        self.forgeries = [m for m in fc.corpus() if m.base.verifier == "demo"]
        self.web_keys = [fc.Key.seeded(f"trustbridge-soak-web-{seed}-{i}", "P-256")
                         for i in range(16)]
        self.jwk_keys = [fc.Key.seeded(f"trustbridge-soak-jwk-{seed}-{i}", crv)
                         for i, crv in enumerate(("Ed25519", "P-256", "secp256k1", "P-384"))]
        self.web_host = ""  # "localhost%3A<port>" once the HTTPS host runs
        self.registered: list[Registered] = []
        self.batch_dids: list[str] = []
        self.batch_changes = 0
        self.batches: list[str] = []  # applied batch JWS, in sequence order
        self.prefilled: list[str] = []  # a sample of the issuers --prefill pushed
        self.sequence = 0
        self.push_lock = asyncio.Lock()
        self.minted = 0

    # keys and accreditations

    def new_ti(self) -> Any:
        self.minted += 1
        return fc.Key.seeded(f"trustbridge-soak-ti-{self.seed}-{self.minted}", "Ed25519")

    def accreditation(self, subject: str, *, signer: Any = None) -> Json:
        """A TI accreditation like Navarre's (EV safety, ES, demo schema) for ``subject``,
        signed by the demo Spanish TAO (or ``signer``: a forgery)."""
        payload = copy.deepcopy(self.ti_template)
        jti = f"urn:uuid:{uuid.UUID(int=random.Random(subject).getrandbits(128))}"
        payload.update(sub=subject, jti=jti)
        payload["vc"].update(id=jti)
        payload["vc"]["credentialSubject"]["id"] = subject
        by = signer or self.tao
        jwt = fc.jws({"alg": by.alg, "typ": "JWT", "kid": self.tao.kid}, payload, by)
        return {"jwt": jwt, "issuerType": "TI", "tao": self.tao.did, "rootTao": self.root_did}

    def batch(self, sequence: int, changes: list[Json], signer: Any = None) -> str:
        by = signer or self.registry
        payload = {"registry": by.did, "sequence": sequence,
                   "issued_at": "2026-05-01T10:00:00Z", "changes": changes}
        return str(fc.jws({"alg": by.alg, "kid": by.kid, "typ": BATCH_TYP}, payload, by))

    # credentials and presentations

    def vc_by(self, issuer: Any, kid: str | None = None, did: str | None = None) -> str:
        """The demo credential, issued by ``issuer`` (no terms of use: they name Navarre)."""
        payload = copy.deepcopy(self.vc_payload)
        iss = did or issuer.did
        payload["iss"] = iss
        payload["vc"]["issuer"] = iss
        payload["vc"].pop("termsOfUse", None)
        return str(fc.jws({"alg": issuer.alg, "typ": "JWT", "kid": kid or issuer.kid},
                          payload, issuer))

    def fresh_vp(self, nonce: str, audience: str, credential: str | None = None) -> str:
        """A holder-signed VP made now around the demo credential."""
        now = int(time.time())
        payload = copy.deepcopy(self.vp_payload)
        jti = f"urn:uuid:{uuid.uuid4()}"
        payload.update(aud=audience, nonce=nonce, jti=jti, iat=now, nbf=now - 5, exp=now + 300)
        payload["vp"]["id"] = jti
        payload["vp"]["verifiableCredential"] = [credential or self.vc]
        return str(fc.jws(self.vp_header, payload, self.keys.holder))

    def web_did(self, i: int) -> str:
        return f"did:web:{self.web_host}:soak:u{i}"

    def did_document(self, i: int) -> Json:
        did, key = self.web_did(i), self.web_keys[i]
        vm = f"{did}#key-1"
        return {"@context": ["https://www.w3.org/ns/did/v1",
                             "https://w3id.org/security/suites/jws-2020/v1"],
                "id": did,
                "verificationMethod": [{"id": vm, "type": "JsonWebKey2020", "controller": did,
                                        "publicKeyJwk": key.jwk}],
                "assertionMethod": [vm], "authentication": [vm]}


# -- accounting -----------------------------------------------------------------------------

@dataclass
class KindTally:
    count: int = 0
    ok: int = 0
    expected_errors: int = 0
    unexpected: int = 0
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


@dataclass
class Tally:
    kinds: dict[str, KindTally] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # the first unexpected answers
    forgeries_sent: int = 0
    forgeries_rejected: int = 0
    forgeries_accepted: int = 0

    def record(self, kind: str, latency: float, outcome: str, problem: str | None,
               expected_error: bool) -> None:
        t = self.kinds.setdefault(kind, KindTally())
        t.count += 1
        t.latencies.append(latency)
        t.outcomes[outcome] += 1
        if problem is not None:
            t.unexpected += 1
            if len(self.problems) < 50:
                self.problems.append(f"{kind}: {problem}")
        elif expected_error:
            t.expected_errors += 1
        else:
            t.ok += 1

    def fail(self, kind: str, problem: str) -> None:
        """An unexpected finding that is not one HTTP answer (e.g. a lost write)."""
        self.record(kind, 0.0, "check failed", problem, False)

    @property
    def requests(self) -> int:
        """The load's requests (the prefill before it is listed as its own kind only)."""
        return sum(t.count for k, t in self.kinds.items() if k != "prefill")

    @property
    def unexpected(self) -> int:
        return sum(t.unexpected for t in self.kinds.values())


@dataclass
class Answer:
    status: int
    content_type: str
    body: Any  # parsed JSON, else text
    problem: str | None  # why this answer is not what was expected; None: as expected


Check = Callable[[int, Any], str | None]  # (status, body) -> problem or None


class Client:
    """One aiohttp session; every request is timed, classified and counted."""

    def __init__(self, session: aiohttp.ClientSession, base: str, tally: Tally) -> None:
        self.session = session
        self.base = base
        self.tally = tally

    async def call(self, kind: str, method: str, path: str, check: Check, *,
                   label: str = "", **kw: Any) -> Answer:
        url = path if path.startswith("http") else self.base + path
        started = time.perf_counter()
        try:
            async with self.session.request(method, url, **kw) as resp:
                raw = await resp.read()
                status, ctype = resp.status, resp.content_type
        except (aiohttp.ClientError, TimeoutError) as exc:
            latency = time.perf_counter() - started
            failure = f"{method} {path[:80]}: transport {type(exc).__name__}: {exc}"
            self.tally.record(kind, latency, "transport error", failure, False)
            return Answer(0, "", None, failure)
        latency = time.perf_counter() - started
        body: Any = raw.decode("utf-8", "replace")
        if "json" in ctype:
            with contextlib.suppress(ValueError):
                body = json.loads(raw)
        found = self._classify(path, status, ctype, body, check)
        problem = None if found is None else f"{label or path[:60]}: {found}"
        code = body.get("code") if isinstance(body, dict) else None
        verdict = body.get("verdict") if isinstance(body, dict) else None
        outcome = f"{status}" + (f" {verdict}" if isinstance(verdict, str) else "") + (
            f" {code}" if isinstance(code, str) and status >= 400 else "")
        self.tally.record(kind, latency, outcome, problem, status >= 400)
        return Answer(status, ctype, body, problem)

    @staticmethod
    def _classify(path: str, status: int, ctype: str, body: Any, check: Check) -> str | None:
        if status >= 500 and not path.startswith(RESOLVE_PREFIX):  # DIF: 501 methodNotSupported
            return f"HTTP {status}: {str(body)[:300]}"
        if status == 429:
            return "HTTP 429: rate limited (the soak's server should have rate limits off)"
        if status >= 400 and not path.startswith(RESOLVE_PREFIX):
            if ctype != PROBLEM:
                return f"HTTP {status} as {ctype}, not problem+json"
            if not isinstance(body, dict) or not isinstance(body.get("code"), str):
                return f"HTTP {status} problem without a code: {str(body)[:200]}"
        return check(status, body)


def expect_status(*statuses: int) -> Check:
    def check(status: int, body: Any) -> str | None:
        return None if status in statuses else f"HTTP {status}, expected {statuses}: " \
                                               f"{str(body)[:300]}"
    return check


def expect_verdict(verdict: str) -> Check:
    def check(status: int, body: Any) -> str | None:
        if status != 200:
            return f"HTTP {status}, expected 200 {verdict}: {str(body)[:300]}"
        got = body.get("verdict") if isinstance(body, dict) else None
        if got != verdict:
            failed = [f"{c.get('check')}:{c.get('code')}" for cred in body.get("credentials", [])
                      for c in cred.get("checks", []) if c.get("status") not in
                      ("passed", "skipped")] + [f"{c.get('check')}:{c.get('code')}"
                                                for c in body.get("checks", [])
                                                if c.get("status") not in ("passed", "skipped")]
            return f"verdict {got}, expected {verdict} ({', '.join(failed)[:300]})"
        return None
    return check


def expect_problem(*statuses: int, code: str | None = None) -> Check:
    def check(status: int, body: Any) -> str | None:
        if status not in statuses:
            return f"HTTP {status}, expected {statuses} problem: {str(body)[:300]}"
        if code is not None and body.get("code") != code:
            return f"code {body.get('code')}, expected {code}"
        return None
    return check


def expect_forgery_refused(status: int, body: Any) -> str | None:
    if status == 200:
        verdict = body.get("verdict") if isinstance(body, dict) else None
        return None if verdict == "invalid" else f"forgery answered {verdict}, not invalid"
    return None if 400 <= status < 500 else f"forgery answered HTTP {status}"


def expect_json(pred: Callable[[Any], bool], what: str, status: int = 200) -> Check:
    def check(got: int, body: Any) -> str | None:
        if got != status:
            return f"HTTP {got}, expected {status}: {str(body)[:300]}"
        try:
            ok = pred(body)
        except (KeyError, TypeError, IndexError, AttributeError):
            ok = False
        return None if ok else f"expected {what}: {str(body)[:300]}"
    return check


# -- the load ---------------------------------------------------------------------------------

class Load:
    """The mix: one method per kind, each issuing one or a few checked requests."""

    def __init__(self, world: World, client: Client, mirror: Client | None) -> None:
        self.w = world
        self.c = client
        self.mirror = mirror
        self.ops: dict[str, Callable[[random.Random], Awaitable[None]]] = {
            "verify.valid": self.verify_valid, "verify.forged": self.verify_forged,
            "verify.malformed": self.verify_malformed, "did.resolve": self.resolve,
            "registry.read": self.registry_read, "registry.write": self.registry_write,
            "sync": self.sync, "oid4vp": self.oid4vp, "system": self.system}

    async def verify(self, body: Json, check: Check, label: str,
                     kind: str = "verify.valid") -> Answer:
        return await self.c.call(kind, "POST", "/v1/verify", check, label=label, json=body)

    async def verify_valid(self, rng: random.Random) -> None:
        w, meta = self.w, self.w.meta
        pick = rng.randrange(7)
        valid = expect_verdict("valid")
        if pick == 0:  # the demo VP at one of ~800 instants (~540: cached and uncached)
            at = f"2025-06-02T10:0{rng.randrange(1, 10)}:{rng.randrange(60):02d}Z"  # VP exp 10:10
            await self.verify({"presentation": w.vp, "nonce": meta["vp_nonce"],
                               "audience": meta["vp_audience"], "at": at}, valid, "demo-vp")
        elif pick == 1:  # the demo VC alone, at a random second of its validity
            day = rng.randrange(1, 3000)
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1748768400 + day * 86400
                                                                 + rng.randrange(86400)))
            await self.verify({"credential": w.vc, "at": at}, valid, "demo-vc")
        elif pick == 2:  # a fresh VP: never cached
            nonce = f"soak-{rng.getrandbits(64):x}"
            await self.verify({"presentation": w.fresh_vp(nonce, meta["vp_audience"]),
                               "nonce": nonce, "audience": meta["vp_audience"]}, valid,
                              "fresh-vp")
        elif pick == 3:  # EBSI's own vectors: their issuers are not in this registry
            v = rng.choice(w.ebsi)
            body = {("presentation" if v["kind"] == "vp" else "credential"): v["input"],
                    "nonce": v.get("nonce"), "audience": v.get("audience"),
                    "at": v["verify_at"], "policy": RELAXED_ALL}
            await self.verify(body, valid, f"ebsi:{v['issuer_did'][:24]}")
        elif pick == 4 and w.registered:  # an issuer this soak registered: full policy
            reg = rng.choice(w.registered)
            await self.verify({"credential": w.vc_by(reg.key)}, valid, f"registered-{reg.via}")
        elif pick == 5 and w.web_host:  # a did:web issuer on the local HTTPS host
            i = rng.randrange(len(w.web_keys))
            did = w.web_did(i)
            await self.verify({"credential": w.vc_by(w.web_keys[i], f"{did}#key-1", did),
                               "policy": RELAXED_ISSUER}, valid, "did:web-issuer")
        else:  # the demo VP as application/jwt (the bare-token route)
            body = {"presentation": w.vp, "nonce": meta["vp_nonce"],
                    "audience": meta["vp_audience"], "at": "2025-06-02T10:05:00Z"}
            await self.verify(body, valid, "demo-vp-again")

    async def verify_forged(self, rng: random.Random) -> None:
        m = rng.choice(self.w.forgeries)
        answer = await self.verify(m.as_request(), expect_forgery_refused,
                                   f"{m.category}:{m.name}", kind="verify.forged")
        t = self.c.tally
        t.forgeries_sent += 1
        if answer.status == 200 and isinstance(answer.body, dict) \
                and answer.body.get("verdict") == "valid":
            t.forgeries_accepted += 1
        elif answer.status == 200 or 400 <= answer.status < 500:
            t.forgeries_rejected += 1

    async def verify_malformed(self, rng: random.Random) -> None:
        w = self.w
        cases: list[tuple[str, Json]] = [
            ("not-json", {"data": b"{not json", "headers": {"Content-Type": "application/json"}}),
            ("array", {"json": [1, 2, 3]}),
            ("both", {"json": {"presentation": w.vp, "credential": w.vc}}),
            ("neither", {"json": {"nonce": "x"}}),
            ("unknown-field", {"json": {"credential": w.vc, "evil": True}}),
            ("bad-at", {"json": {"credential": w.vc, "at": "yesterday"}}),
            ("bad-policy", {"json": {"credential": w.vc, "policy": {"check_everything": 1}}}),
            ("text-plain", {"data": w.vc, "headers": {"Content-Type": "text/plain"}}),
            ("jwt-not-jwt", {"data": "abc", "headers": {"Content-Type": "application/jwt"}}),
            ("duplicate-keys", {"data": f'{{"credential": "{w.vc}", "credential": "x"}}',
                                "headers": {"Content-Type": "application/json"}}),
            ("deep", {"data": "[" * 200 + "]" * 200,
                      "headers": {"Content-Type": "application/json"}}),
        ]
        if rng.random() < 0.05:  # rarely: over max_body_bytes (1 MiB)
            cases = [("too-large", {"data": io.BytesIO(b"[" + b"1," * 600_000 + b"1]"),
                                    "headers": {"Content-Type": "application/json"}})]
        name, kw = rng.choice(cases)
        await self.c.call("verify.malformed", "POST", "/v1/verify",
                          expect_problem(400, 413, 415, 422), label=name, **kw)

    async def resolve(self, rng: random.Random) -> None:
        w = self.w
        pick = rng.randrange(6)
        if pick == 0:
            did = rng.choice([w.meta["holder"], w.meta["navarra_provider"], w.root_did,
                              w.meta["catalunya_university"], *(k.did for k in w.jwk_keys)])
        elif pick == 1:
            key = rng.choice(w.jwk_keys)
            did = "did:jwk:" + fc.enc_json(key.jwk)
        elif pick == 2 and w.web_host:
            did = w.web_did(rng.randrange(len(w.web_keys)))
        elif pick == 3 and w.registered:
            did = rng.choice(w.registered).did
        else:
            bad = rng.choice([("did:key:zNotBase58!", "invalidDid", 400),
                              ("did:example:123456", "methodNotSupported", 501),
                              ("not-a-did", "invalidDid", 400),
                              (f"did:web:{w.web_host or 'localhost%3A1'}:soak:missing",
                               "notFound", 404)])
            if not w.web_host and bad[1] == "notFound":
                bad = ("did:key:zNotBase58!", "invalidDid", 400)
            await self._resolve_error(*bad)
            return

        def same_id(body: Any, did: str = did) -> bool:
            return bool(body["didDocument"]["id"] == did)

        await self.c.call("did.resolve", "GET", RESOLVE_PREFIX + quote(did, safe=":"),
                          expect_json(same_id, "a DID document for the DID"),
                          label=did.split(":")[1], headers={"Accept": "application/json"})

    async def _resolve_error(self, did: str, error: str, status: int) -> None:
        def check(got: int, body: Any) -> str | None:
            meta = body.get("didResolutionMetadata", {}) if isinstance(body, dict) else {}
            if got != status or meta.get("error") != error:
                return f"{did[:40]}: HTTP {got} {meta.get('error')}, expected {status} {error}"
            return None

        await self.c.call("did.resolve", "GET", RESOLVE_PREFIX + quote(did, safe=":"), check,
                          label=f"error:{error}", headers={"Accept": "application/json"})

    async def registry_read(self, rng: random.Random) -> None:
        w, meta = self.w, self.w.meta
        tir = "/trusted-issuers-registry/v5/issuers"
        pick = rng.randrange(9)
        if pick == 0:
            await self.accreditation(meta["navarra_provider"], True, "navarra")
        elif pick == 1:
            await self.accreditation(meta["catalunya_university"], False, "type-mismatch")
        elif pick == 2 and w.registered:  # read-your-writes
            await self.accreditation(rng.choice(w.registered).did, True, "registered")
        elif pick == 3:
            await self.accreditation(rng.choice(w.jwk_keys).did, False, "unknown")
        elif pick == 4:
            await self.c.call("registry.read", "GET", f"{tir}?page[size]={rng.randrange(1, 51)}",
                              expect_json(lambda b: isinstance(b["items"], list), "a TIR page"),
                              label="tir-list")
        elif pick == 5:
            did = rng.choice([meta["navarra_provider"], *(r.did for r in w.registered[-50:])])
            await self.c.call("registry.read", "GET", f"{tir}/{did}",
                              expect_json(lambda b: b["did"] == did, "the TIR issuer"),
                              label="tir-issuer")
        elif pick == 6:
            await self.c.call("registry.read", "GET", f"{tir}/{meta['navarra_provider']}"
                              "/attributes", expect_json(lambda b: b["total"] >= 1,
                                                         "its attributes"), label="tir-attrs")
        elif pick == 7:
            await self.c.call("registry.read", "GET",
                              f"/v1/registry/issuers?q={rng.choice(['Navarr', 'Demo', 'zDna'])}",
                              expect_json(lambda b: isinstance(b["items"], list), "hits"),
                              label="search")
        else:  # refused reads: unknown issuer, page too large
            if rng.random() < 0.5:
                await self.c.call("registry.read", "GET", f"{tir}/{rng.choice(w.jwk_keys).did}",
                                  expect_problem(404), label="tir-unknown")
            else:
                await self.c.call("registry.read", "GET", f"{tir}?page[size]=51",
                                  expect_problem(400), label="tir-page-too-large")

    async def accreditation(self, did: str, accredited: bool, label: str,
                            client: Client | None = None) -> Answer:
        meta = self.w.meta
        params = {"issuer": did, "type": EV_TYPE, "schema": meta["schema"],
                  "jurisdiction": "ES"}
        return await (client or self.c).call(
            "registry.read", "GET", "/v1/registry/accreditation",
            expect_json(lambda b: b["accredited"] is accredited, f"accredited={accredited}"),
            label=f"accreditation:{label}", params=params)

    async def registry_write(self, rng: random.Random) -> None:
        w = self.w
        auth = {"Authorization": f"Bearer {w.admin_token}"}
        pick = rng.randrange(10)
        if pick < 6:
            key = w.new_ti()
            body = {"did": key.did, "name": f"Soak provider {w.minted}", "country": "ES",
                    "attributes": [w.accreditation(key.did)]}
            answer = await self.c.call("registry.write", "POST", "/v1/registry/issuers",
                                       expect_status(201), label="register", json=body,
                                       headers=auth)
            if answer.status == 201:
                w.registered.append(Registered(key.did, key, "admin"))
        elif pick == 6:
            key = w.new_ti()
            body = {"did": key.did, "attributes": [w.accreditation(key.did)]}
            await self.c.call("registry.write", "POST", "/v1/registry/issuers",
                              expect_problem(401), label="wrong-token", json=body,
                              headers={"Authorization": "Bearer not-the-token"})
        elif pick == 7:
            key = w.new_ti()
            forged = w.accreditation(key.did, signer=w.keys.attacker["P-256"])
            await self.c.call("registry.write", "POST", "/v1/registry/issuers",
                              expect_problem(400, code="registry.attribute_rejected"),
                              label="forged-accreditation",
                              json={"did": key.did, "attributes": [forged]}, headers=auth)
        elif pick == 8 and w.registered:
            reg = rng.choice(w.registered)
            await self.c.call("registry.write", "POST", "/v1/registry/issuers",
                              expect_problem(409, code="issuer.exists"), label="duplicate",
                              json={"did": reg.did, "attributes": [w.accreditation(reg.did)]},
                              headers=auth)
        else:
            key = w.new_ti()
            await self.c.call("registry.write", "POST", "/v1/registry/issuers",
                              expect_problem(401), label="no-token",
                              json={"did": key.did, "attributes": [w.accreditation(key.did)]})

    async def sync(self, rng: random.Random) -> None:
        w = self.w
        pick = rng.randrange(10)
        if pick < 2:
            after = rng.randrange(0, max(1, w.batch_changes))
            await self.c.call("sync", "GET", f"/v1/registry/log?after={after}&limit=50",
                              expect_json(lambda b: isinstance(b["entries"], list), "a log page"),
                              label="log-page")
            return
        if pick == 2:
            await self.c.call("sync", "GET", "/v1/registry/log/head",
                              expect_json(lambda b: b["head"]["seq"] >= 0, "a signed head"),
                              label="log-head")
            return
        async with w.push_lock:  # one registry pushes in sequence
            await self._push(rng, pick)

    async def _push(self, rng: random.Random, pick: int) -> None:
        w = self.w
        jose = {"Content-Type": "application/jose"}
        if pick == 3 and w.batches:  # a replay of an applied batch: acknowledged, nothing new
            await self.c.call("sync", "POST", "/v1/registry/batches",
                              expect_json(lambda b: b["status"] == "duplicate", "duplicate"),
                              label="replay", data=rng.choice(w.batches), headers=jose)
            return
        keys = [w.new_ti() for _ in range(rng.randrange(1, 5))]
        changes = [{"op": "add_issuer", "did": k.did, "attribute": w.accreditation(k.did)}
                   for k in keys]
        if pick == 4:  # the signature does not verify
            token = w.batch(w.sequence + 1, changes)
            head, payload, sig = token.split(".")
            bad = sig[:-6] + ("AAAAAA" if not sig.endswith("AAAAAA") else "BBBBBB")
            await self.c.call("sync", "POST", "/v1/registry/batches",
                              expect_problem(400, 401, code="batch.signature_invalid"),
                              label="bad-signature", data=f"{head}.{payload}.{bad}",
                              headers=jose)
            return
        if pick == 5:  # a gap in the sequence
            await self.c.call("sync", "POST", "/v1/registry/batches",
                              expect_problem(409, code="batch.out_of_order"), label="gap",
                              data=w.batch(w.sequence + 2, changes), headers=jose)
            return
        if pick == 6:  # a registry nobody authorised
            await self.c.call("sync", "POST", "/v1/registry/batches",
                              expect_problem(403, code="batch.not_authorised"),
                              label="rogue-registry",
                              data=w.batch(1, changes, signer=w.rogue_registry), headers=jose)
            return
        token = w.batch(w.sequence + 1, changes)
        answer = await self.c.call(
            "sync", "POST", "/v1/registry/batches",
            expect_json(lambda b: b["status"] == "applied" and b["changes"] == len(changes),
                        "applied"), label="push", data=token, headers=jose)
        if answer.status == 200 and answer.problem is None:
            w.sequence += 1
            w.batches.append(token)
            w.batch_changes += len(changes)
            w.batch_dids += [k.did for k in keys]
            w.registered += [Registered(k.did, k, "batch") for k in keys]

    async def oid4vp(self, rng: random.Random) -> None:
        w = self.w
        created = await self.c.call(
            "oid4vp", "POST", "/v1/presentation-requests",
            expect_json(lambda b: b["status"] == "pending", "a pending request", 201),
            label="create", json={"types": [EV_TYPE], "formats": ["jwt_vc_json"]})
        if created.problem is not None:
            return
        request_uri = created.body["request_uri"]
        fetched = await self.c.call(
            "oid4vp", "GET", request_uri,
            expect_status(200),
            label="request-object")
        if fetched.problem is not None or not isinstance(fetched.body, str):
            return
        claims = fc.dec_segment(fetched.body.strip(), 1)
        query = next(q for q in claims["dcql_query"]["credentials"]
                     if q["format"] == "jwt_vc_json")
        response_path = urlsplit(claims["response_uri"]).path
        status_path = f"/v1/presentation-requests/{created.body['id']}"
        pick = rng.randrange(10)
        nonce = claims["nonce"] if pick < 8 else "not-the-nonce"
        vp = w.fresh_vp(nonce, claims["client_id"])
        form = {"state": claims["state"], "vp_token": json.dumps({query["id"]: [vp]})}
        if pick < 8:
            await self.c.call("oid4vp", "POST", response_path, expect_status(200),
                              label="response", data=form)
            await self.c.call("oid4vp", "GET", status_path,
                              expect_json(lambda b: b["status"] == "verified"
                                          and b["verdict"] == "valid", "verified, valid"),
                              label="status")
            if pick == 7:  # the same response again: the request is answered
                await self.c.call("oid4vp", "POST", response_path, expect_problem(400, 404),
                                  label="response-replayed", data=form)
        else:  # wrong nonce: refused, never verified
            await self.c.call("oid4vp", "POST", response_path, expect_problem(400),
                              label="response-wrong-nonce", data=form)
            await self.c.call("oid4vp", "GET", status_path,
                              expect_json(lambda b: b["status"] != "verified"
                                          and b["verdict"] != "valid", "not verified"),
                              label="status-after-wrong-nonce")

    async def system(self, rng: random.Random) -> None:
        path = rng.choice(["/health", "/ready", "/metrics"])
        await self.c.call("system", "GET", path, expect_status(200), label=path)


# -- the local did:web host -------------------------------------------------------------------

@contextlib.asynccontextmanager
async def did_web_host(world: World, workdir: Path) -> AsyncIterator[Path]:
    """HTTPS on 127.0.0.1 (certificate for ``localhost`` from a throwaway CA) serving
    ``/soak/u<i>/did.json``; yields the CA file the server is told to trust."""
    import trustme

    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(ctx)
    ca_file = workdir / "did-web-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["user"]
        index = int(name[1:]) if name[1:].isdigit() else -1
        if name.startswith("u") and 0 <= index < len(world.web_keys):
            return web.json_response(world.did_document(index))
        raise web.HTTPNotFound

    app = web.Application()
    app.router.add_get("/soak/{user}/did.json", serve)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    world.web_host = f"localhost%3A{runner.addresses[0][1]}"
    try:
        yield ca_file
    finally:
        await runner.cleanup()


# -- sampling -----------------------------------------------------------------------------------

@dataclass
class Sample:
    t: float  # seconds since the load started
    rss_kb: int
    fds: int


def sample(pid: int, t: float) -> Sample:
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return Sample(t, rss, len(os.listdir(f"/proc/{pid}/fd")))


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x; 0 for fewer than two distinct x."""
    if len(points) < 2:
        return 0.0
    mx = statistics.fmean(p[0] for p in points)
    my = statistics.fmean(p[1] for p in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def judge(samples: list[Sample], final: Sample | None, *, warmup: float, growth: float,
          slack_mb: float, fd_slack: int, min_window: float = 60.0) -> Json:
    """The memory and FD verdict for one process (see the module docstring)."""
    post = [s for s in samples if s.t >= warmup]
    out: Json = {"samples": len(samples),
                 "rss_start_mb": round(samples[0].rss_kb / 1024, 1) if samples else None,
                 "rss_max_mb": round(max(s.rss_kb for s in samples) / 1024, 1) if samples else None,
                 "fd_start": samples[0].fds if samples else None,
                 "fd_max": max(s.fds for s in samples) if samples else None,
                 "rss_end_mb": round(final.rss_kb / 1024, 1) if final else None,
                 "fd_end": final.fds if final else None, "failures": []}
    if len(post) < 5 or post[-1].t - post[0].t < min_window:
        out["judged"] = False
        out["note"] = (f"not judged: {post[-1].t - post[0].t if post else 0:.0f} s measured "
                       f"after warm-up, {min_window:.0f} s needed")
        return out
    out["judged"] = True
    base_rss = statistics.median(s.rss_kb for s in post[:3])
    base_fd = int(statistics.median(s.fds for s in post[:3]))
    bound = base_rss * (1 + growth) + slack_mb * 1024
    window = post[-1].t - post[0].t
    slope = _slope([(s.t, s.rss_kb) for s in post])  # kB per second
    fitted_end = statistics.fmean(s.rss_kb for s in post) + slope * (
        post[-1].t - statistics.fmean(s.t for s in post))
    projected = fitted_end + slope * 2 * window
    max_post = max(s.rss_kb for s in post)
    max_fd = max(s.fds for s in post)
    out.update(rss_baseline_mb=round(base_rss / 1024, 1), rss_bound_mb=round(bound / 1024, 1),
               rss_max_after_warmup_mb=round(max_post / 1024, 1),
               rss_trend_mb_per_min=round(slope * 60 / 1024, 2),
               rss_projected_mb=round(projected / 1024, 1), fd_baseline=base_fd,
               fd_bound=base_fd + fd_slack, fd_max_after_warmup=max_fd)
    failures: list[str] = out["failures"]
    if max_post > bound:
        failures.append(f"RSS {max_post / 1024:.1f} MiB > bound {bound / 1024:.1f} MiB")
    if projected > bound:
        failures.append(f"RSS trend {slope * 60 / 1024:+.2f} MiB/min projects "
                        f"{projected / 1024:.1f} MiB > bound {bound / 1024:.1f} MiB")
    if max_fd > base_fd + fd_slack:
        failures.append(f"open FDs {max_fd} > baseline {base_fd} + {fd_slack}")
    if final is not None and final.fds > base_fd + 4:
        failures.append(f"open FDs {final.fds} after the load > baseline {base_fd} + 4")
    return out


# -- backends ---------------------------------------------------------------------------------

def _redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{db}").geturl()


# -- the run ----------------------------------------------------------------------------------

@dataclass
class Options:
    seconds: float
    concurrency: int = 8
    seed: int = 1
    redis: str | None = None
    database: str | None = None
    mirror: bool = True
    warmup: float | None = None
    sample_seconds: float = 2.0
    progress_seconds: float = 15.0
    rss_growth: float = 0.20
    rss_slack_mb: float = 24.0
    fd_slack: int = 16
    max_requests: int = 5_000_000
    prefill: int = 0  # registry changes pushed before the load (the CLI: DEFAULT_PREFILL)
    quiet: bool = False
    server_env: dict[str, str] = field(default_factory=dict)  # more settings for both nodes
    mix: dict[str, int] = field(default_factory=lambda: dict(MIX))

    @property
    def warmup_s(self) -> float:
        return self.warmup if self.warmup is not None else min(90.0, 0.3 * self.seconds)


def server_env(world: World, ca_file: Path, opts: Options, *, node: str,
               database: str | None, peer: str | None) -> dict[str, str]:
    env = {
        "TRUSTBRIDGE_WORKERS": "1",  # one process: its RSS and FDs are the service's
        "TRUSTBRIDGE_SCHEMA_FETCH_REMOTE": "false",
        "TRUSTBRIDGE_SYNC_REGISTRIES": json.dumps({world.registry.did: ["ES"]}),
        "TRUSTBRIDGE_DID_WEB_ALLOW_HOSTS": json.dumps(["localhost"]),
        "TRUSTBRIDGE_DID_WEB_ALLOW_PRIVATE": "true",
        "TRUSTBRIDGE_DID_WEB_CA_FILE": str(ca_file),
        # short TTLs: caches and sessions reach their steady state within the warm-up
        "TRUSTBRIDGE_RESULT_CACHE_TTL_SECONDS": "30",
        "TRUSTBRIDGE_DID_CACHE_TTL_SECONDS": "30",
        "TRUSTBRIDGE_OID4VP_SESSION_TTL_SECONDS": "60",
        "TRUSTBRIDGE_OID4VP_RESULT_TTL_SECONDS": "30",
        # rate limits (per client on /v1/verify, per registry on pushes) off: one soak
        # client from 127.0.0.1 is not the abuse they are for, and a 429 counts as unexpected
        "TRUSTBRIDGE_RATE_LIMIT_VERIFY_PER_SECOND": "0",
        "TRUSTBRIDGE_RATE_LIMIT_SYNC_BATCHES_PER_MINUTE": "0",
        # the in-process cache runs its default bounds (50,000 entries, 128 MiB): it purges
        # expired entries on writes, so with these TTLs it levels off (~2,800 entries)
        # within the warm-up; --env TRUSTBRIDGE_CACHE_MAX_ENTRIES=... changes them
    }
    if node == "primary":
        env["TRUSTBRIDGE_ADMIN_TOKEN"] = world.admin_token
    if peer is not None:
        env["TRUSTBRIDGE_SYNC_MIRROR_PEERS"] = json.dumps([peer])
        env["TRUSTBRIDGE_SYNC_MIRROR_INTERVAL_SECONDS"] = "2"
    env.update(opts.server_env)
    # exactly what the options say, whatever the caller's environment holds ("" = unset)
    env["REDIS_URL"] = _redis_db(opts.redis, 0 if node == "primary" else 1) if opts.redis else ""
    env["DATABASE_URL"] = database or ""
    return env


async def run(opts: Options) -> Json:
    world = World(opts.seed)
    tally = Tally()
    started_wall = time.time()
    dbs: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tb-soak-") as tmp:
        workdir = Path(tmp)
        async with did_web_host(world, workdir) as ca_file:
            urls: list[str | None] = [None, None]
            if opts.database:
                for i, node in enumerate(("primary", "mirror")):
                    name = f"tb_soak_{os.getpid()}_{node}"
                    urls[i] = await throwaway_database(opts.database, name, create=True)
                    dbs.append(name)
            try:
                with ServedApp(workdir / "primary",
                               server_env(world, ca_file, opts, node="primary",
                                          database=urls[0], peer=None)) as primary:
                    mirror_cm = (ServedApp(workdir / "mirror",
                                           server_env(world, ca_file, opts, node="mirror",
                                                      database=urls[1], peer=primary.base))
                                 if opts.mirror else contextlib.nullcontext())
                    with mirror_cm as mirror:
                        result = await drive(world, tally, opts, primary,
                                             mirror if opts.mirror else None)
            finally:
                for name in dbs:
                    assert opts.database is not None
                    await throwaway_database(opts.database, name, create=False)
    result["started"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_wall))
    return result


async def drive(world: World, tally: Tally, opts: Options, primary: ServedApp,
                mirror: ServedApp | None) -> Json:
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=opts.concurrency + 4)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        client = Client(session, primary.base, tally)
        mirror_client = Client(session, mirror.base, tally) if mirror else None
        load = Load(world, client, mirror_client)
        filled = await prefill(world, load, opts, mirror_client)
        status = await client.call("sync", "GET", "/v1/registry/sync/status",
                                   expect_status(200), label="status-before")
        log_before = int(status.body["log"]["seq"]) if status.problem is None else 0
        procs = {"primary": primary.pid, **({"mirror": mirror.pid} if mirror else {})}
        samples: dict[str, list[Sample]] = {name: [] for name in procs}
        start = time.monotonic()
        deadline = start + opts.seconds
        issued = iter(range(opts.max_requests))
        stop = asyncio.Event()

        async def worker(index: int) -> None:
            rng = random.Random(opts.seed * 1000 + index)  # a reproducible mix
            kinds, weights = zip(*opts.mix.items(), strict=True)
            for _ in issued:
                if time.monotonic() >= deadline:
                    return
                kind = rng.choices(kinds, weights)[0]
                await load.ops[kind](rng)

        async def monitor() -> None:
            next_progress = start + opts.progress_seconds
            while not stop.is_set():
                now = time.monotonic()
                for name, pid in procs.items():
                    samples[name].append(sample(pid, now - start))
                if now >= next_progress and not opts.quiet:
                    next_progress += opts.progress_seconds
                    p = samples["primary"][-1]
                    print(f"[{now - start:6.0f} s] {tally.requests:>8} requests "
                          f"({tally.requests / (now - start):6.1f}/s)  unexpected "
                          f"{tally.unexpected}  forgeries {tally.forgeries_sent} sent / "
                          f"{tally.forgeries_accepted} accepted  writes "
                          f"{len(world.registered)}  RSS {p.rss_kb / 1024:.1f} MiB  "
                          f"FDs {p.fds}", flush=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), opts.sample_seconds)

        monitor_task = asyncio.create_task(monitor())
        await asyncio.gather(*(worker(i) for i in range(opts.concurrency)))
        load_seconds = time.monotonic() - start
        stop.set()
        await monitor_task
        lost = await nothing_lost(world, load, tally, log_before, mirror_client)
        lost["prefill"] = filled
    await asyncio.sleep(1.0)  # connections closed: FDs should be back at the baseline
    finals = {name: sample(pid, time.monotonic() - start) for name, pid in procs.items()}
    memory = {name: judge(samples[name], finals[name], warmup=opts.warmup_s,
                          growth=opts.rss_growth, slack_mb=opts.rss_slack_mb,
                          fd_slack=opts.fd_slack) for name in procs}
    return report(world, tally, opts, load_seconds, lost, memory, samples)


async def mirror_log_seq(mirror: Client, kind: str, want: int, seconds: float) -> int:
    """Poll the mirror's sync status (counted under ``kind``) until its change log reaches
    ``want`` or ``seconds`` pass; the last sequence number it reported (-1: none)."""
    deadline = time.monotonic() + seconds
    seq = -1
    while True:
        answer = await mirror.call(kind, "GET", "/v1/registry/sync/status",
                                   expect_status(200), label="mirror-status")
        if answer.problem is None:
            seq = int(answer.body["log"]["seq"])
        if seq >= want or time.monotonic() >= deadline:
            return seq
        await asyncio.sleep(1.0)


async def prefill(world: World, load: Load, opts: Options, mirror: Client | None) -> Json:
    """Push ``opts.prefill`` new TIs in large signed batches before the load, and wait for
    the mirror to apply them: the fixed-size memos registry writes fill (see
    ``DEFAULT_PREFILL``) are full before the memory baseline is taken. Counted under the
    kind ``prefill``; every batch must be ``applied``."""
    out: Json = {"changes": 0, "batches": 0, "read": 0, "seconds": 0.0}
    if opts.prefill <= 0:
        return out
    started = time.monotonic()
    jose = {"Content-Type": "application/jose"}
    readers: list[Any] = []
    while out["changes"] < opts.prefill:
        keys = [world.new_ti() for _ in range(min(PREFILL_BATCH, opts.prefill - out["changes"]))]
        changes = [{"op": "add_issuer", "did": k.did, "attribute": world.accreditation(k.did)}
                   for k in keys]
        n = len(changes)

        def done(b: Any, n: int = n) -> bool:
            return bool(b["status"] == "applied" and b["changes"] == n)

        applied = expect_json(done, "applied")
        answer = await load.c.call("prefill", "POST", "/v1/registry/batches", applied,
                                   label="push", data=world.batch(world.sequence + 1, changes),
                                   headers=jose)
        if answer.problem is not None:
            break  # counted as unexpected: the run fails
        world.sequence += 1
        out["changes"] += len(changes)
        out["batches"] += 1
        world.prefilled.append(keys[0].did)
        readers = (readers + keys)[-PREFILL_READS:]
    world.prefilled = world.prefilled[-PREFILL_SAMPLE:]
    queue = iter(readers)

    async def read() -> None:
        for key in queue:
            await load.verify({"credential": world.vc_by(key)}, expect_verdict("valid"),
                              "verify", kind="prefill")
            await load.c.call("prefill", "GET", RESOLVE_PREFIX + key.did, expect_status(200),
                              label="resolve")

    await asyncio.gather(*(read() for _ in range(opts.concurrency)))
    out["read"] = len(readers)
    if mirror is not None:
        head = await load.c.call("prefill", "GET", "/v1/registry/sync/status",
                                 expect_status(200), label="status")
        want = int(head.body["log"]["seq"]) if head.problem is None else 0
        out["mirror_caught_up"] = await mirror_log_seq(mirror, "prefill", want, 180) >= want
    out["seconds"] = round(time.monotonic() - started, 1)
    if not opts.quiet:
        print(f"prefill: {out['changes']} registry changes in {out['batches']} batches, "
              f"{out['read']} of them read, {out['seconds']} s", flush=True)
    return out


async def nothing_lost(world: World, load: Load, tally: Tally, log_before: int,
                       mirror: Client | None) -> Json:
    """Every acknowledged write is there: read back on the node, log counts match, and the
    mirror holds every batch change."""
    c = load.c
    found = 0
    for reg in world.registered:
        answer = await load.accreditation(reg.did, True, f"final:{reg.via}")
        found += answer.problem is None
    if found != len(world.registered):
        tally.fail("nothing-lost", f"{len(world.registered) - found} acknowledged writes "
                                   "not found accredited")
    for did in world.prefilled:  # a sample: the prefill's batches were each acknowledged
        for node in (c, mirror) if mirror is not None else (c,):
            await load.accreditation(did, True, "final:prefill", client=node)
    status = await c.call("sync", "GET", "/v1/registry/sync/status", expect_status(200),
                          label="status-after")
    log_after = int(status.body["log"]["seq"]) if status.problem is None else -1
    if log_after - log_before != world.batch_changes:
        tally.fail("nothing-lost", f"log grew by {log_after - log_before}, "
                                   f"{world.batch_changes} batch changes were applied")
    out: Json = {"writes_acknowledged": len(world.registered),
                 "admin_writes": sum(r.via == "admin" for r in world.registered),
                 "batches_applied": len(world.batches),
                 "batch_changes_applied": world.batch_changes,
                 "writes_found": found, "log_before": log_before, "log_after": log_after}
    if mirror is None:
        return out
    mirror_seq = await mirror_log_seq(mirror, "sync", log_after, 60)
    on_mirror = 0
    for did in world.batch_dids:
        answer = await load.accreditation(did, True, "mirror", client=mirror)
        on_mirror += answer.problem is None
    if mirror_seq != log_after or on_mirror != len(world.batch_dids):
        tally.fail("nothing-lost", f"mirror at log {mirror_seq} of {log_after}, "
                                   f"{on_mirror} of {len(world.batch_dids)} batch issuers")
    out.update(mirror_log=mirror_seq, batch_issuers_on_mirror=on_mirror)
    return out


def report(world: World, tally: Tally, opts: Options, load_seconds: float, lost: Json,
           memory: Json, samples: dict[str, list[Sample]]) -> Json:
    kinds: Json = {}
    all_lat: list[float] = []
    for name in sorted(tally.kinds):
        t = tally.kinds[name]
        lat = sorted(x for x in t.latencies if x > 0)
        all_lat += lat if name != "prefill" else []
        kinds[name] = {"requests": t.count, "ok": t.ok, "expected_errors": t.expected_errors,
                       "unexpected": t.unexpected,
                       "p50_ms": round(percentile(lat, .50) * 1000, 1),
                       "p95_ms": round(percentile(lat, .95) * 1000, 1),
                       "p99_ms": round(percentile(lat, .99) * 1000, 1),
                       "outcomes": dict(t.outcomes.most_common(12))}
    all_lat.sort()
    failures = [f"{tally.unexpected} unexpected answers"] if tally.unexpected else []
    if tally.forgeries_accepted:
        failures.append(f"{tally.forgeries_accepted} forgeries accepted")
    for name, m in memory.items():
        failures += [f"{name}: {f}" for f in m["failures"]]
    return {
        "verdict": "FAIL" if failures else "PASS", "failures": failures,
        "mode": "redis+postgresql" if opts.redis or opts.database else "embedded",
        "seconds": round(load_seconds, 1), "concurrency": opts.concurrency, "seed": opts.seed,
        "warmup_s": opts.warmup_s, "requests": tally.requests,
        "per_s": round(tally.requests / load_seconds, 1) if load_seconds else 0.0,
        "unexpected": tally.unexpected,
        "expected_errors": sum(t.expected_errors for t in tally.kinds.values()),
        "latency": {"p50_ms": round(percentile(all_lat, .50) * 1000, 1),
                    "p95_ms": round(percentile(all_lat, .95) * 1000, 1),
                    "p99_ms": round(percentile(all_lat, .99) * 1000, 1)},
        "forgeries": {"sent": tally.forgeries_sent, "rejected": tally.forgeries_rejected,
                      "accepted": tally.forgeries_accepted,
                      "distinct_in_sample": len(world.forgeries)},
        "nothing_lost": lost, "kinds": kinds, "memory": memory,
        "problems": tally.problems,
        "rss_series_mb": {name: [[round(s.t), round(s.rss_kb / 1024, 1), s.fds]
                                 for s in series] for name, series in samples.items()},
    }


def print_table(r: Json) -> None:
    print(f"\nsoak: {r['mode']}, {r['seconds']} s, concurrency {r['concurrency']}, seed "
          f"{r['seed']}, warm-up {r['warmup_s']:.0f} s  (shared machine: figures are indicative)")
    print(f"{'kind':18} {'requests':>9} {'ok':>8} {'expected':>9} {'unexpected':>10} "
          f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, k in r["kinds"].items():
        print(f"{name:18} {k['requests']:>9} {k['ok']:>8} {k['expected_errors']:>9} "
              f"{k['unexpected']:>10} {k['p50_ms']:>8} {k['p95_ms']:>8} {k['p99_ms']:>8}")
    lat = r["latency"]
    print(f"{'total':18} {r['requests']:>9} {'':>8} {r['expected_errors']:>9} "
          f"{r['unexpected']:>10} {lat['p50_ms']:>8} {lat['p95_ms']:>8} {lat['p99_ms']:>8}"
          f"   ({r['per_s']}/s)")
    f = r["forgeries"]
    print(f"forgeries: {f['sent']} sent ({f['distinct_in_sample']} distinct), {f['rejected']} "
          f"rejected, {f['accepted']} accepted")
    lost = r["nothing_lost"]
    line = (f"writes: {lost['writes_acknowledged']} acknowledged ({lost['admin_writes']} admin, "
            f"{lost['batch_changes_applied']} in {lost['batches_applied']} batches), "
            f"{lost['writes_found']} found; log {lost['log_before']} -> {lost['log_after']}")
    if "mirror_log" in lost:
        line += (f"; mirror log {lost['mirror_log']}, {lost['batch_issuers_on_mirror']} batch "
                 "issuers found on the mirror")
    pre = lost.get("prefill") or {}
    if pre.get("changes"):
        line += (f"; before the load: {pre['changes']} prefilled in {pre['batches']} batches, "
                 f"{pre['read']} read ({pre['seconds']} s)")
    print(line)
    for name, m in r["memory"].items():
        text = (f"{name}: RSS start {m['rss_start_mb']} MiB, end {m['rss_end_mb']}, max "
                f"{m['rss_max_mb']}; FDs start {m['fd_start']}, end {m['fd_end']}, max "
                f"{m['fd_max']}")
        if m.get("judged"):
            text += (f"; after warm-up: baseline {m['rss_baseline_mb']} MiB, bound "
                     f"{m['rss_bound_mb']}, trend {m['rss_trend_mb_per_min']:+} MiB/min; "
                     f"FD baseline {m['fd_baseline']}, bound {m['fd_bound']}")
        else:
            text += f"; {m.get('note')}"
        print(text)
    for p in r["problems"][:20]:
        print(f"  unexpected: {p}")
    print(f"verdict: {r['verdict']}" + (f" ({'; '.join(r['failures'])})"
                                        if r["failures"] else ""))


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def parse_args(argv: list[str]) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=_env_float("SOAK_MINUTES", 5.0),
                        help="how long the load runs (default 5, or SOAK_MINUTES)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="how long the load runs, in seconds (overrides --minutes)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL") or None,
                        help="Redis URL for the cache (default REDIS_URL; use a throwaway "
                             "server: the mirror node uses database 1 of it)")
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL") or None,
                        help="PostgreSQL URL (default DATABASE_URL): throwaway databases "
                             "tb_soak_* are created on its server and dropped afterwards")
    parser.add_argument("--no-mirror", action="store_true", help="no second (mirror) node")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds before the RSS/FD baseline (default 30%% of the run, "
                             "at most 90)")
    parser.add_argument("--sample-seconds", type=float, default=2.0)
    parser.add_argument("--progress-seconds", type=float, default=15.0)
    parser.add_argument("--rss-growth", type=float, default=0.20)
    parser.add_argument("--rss-slack-mb", type=float, default=24.0)
    parser.add_argument("--fd-slack", type=int, default=16)
    parser.add_argument("--prefill", type=int, default=DEFAULT_PREFILL, metavar="N",
                        help="registry changes pushed (signed batches of 500) before the load "
                             f"and its warm-up, so the registry's fixed-size memos are full "
                             f"when memory is judged (default {DEFAULT_PREFILL:,}; 0: none)")
    parser.add_argument("--max-requests", type=int, default=5_000_000,
                        help="stop after this many operations even before the deadline")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for both served nodes, e.g. "
                             "TRUSTBRIDGE_CACHE_MAX_ENTRIES=5000 (repeatable)")
    parser.add_argument("--mix", default=None, metavar="KIND=WEIGHT,...",
                        help="replace the mix, e.g. verify.valid=1,verify.forged=1 (kinds: "
                             f"{', '.join(MIX)})")
    parser.add_argument("--json", action="store_true", help="print the report as JSON too")
    parser.add_argument("--json-out", type=Path, default=None, metavar="PATH",
                        help="write the JSON report here (a directory: soak-<mode>.json in it)")
    args = parser.parse_args(argv)
    mix = dict(MIX)
    if args.mix:
        mix = {k: int(v) for k, _, v in (p.partition("=") for p in args.mix.split(","))}
        unknown = set(mix) - set(MIX)
        if unknown:
            parser.error(f"unknown kinds in --mix: {sorted(unknown)}")
    extra = dict(item.split("=", 1) for item in args.env if "=" in item)
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    opts = Options(seconds=seconds, concurrency=args.concurrency, seed=args.seed,
                   redis=args.redis, database=args.database, mirror=not args.no_mirror,
                   warmup=args.warmup, sample_seconds=args.sample_seconds,
                   progress_seconds=args.progress_seconds, rss_growth=args.rss_growth,
                   rss_slack_mb=args.rss_slack_mb, fd_slack=args.fd_slack,
                   max_requests=args.max_requests, prefill=args.prefill, server_env=extra,
                   mix=mix)
    return opts, args


def main(argv: list[str] | None = None) -> int:
    opts, args = parse_args(sys.argv[1:] if argv is None else argv)
    result = asyncio.run(run(opts))
    print_table(result)
    if args.json:
        print(json.dumps(result))
    if args.json_out is not None:
        out: Path = args.json_out
        if out.is_dir() or out.suffix != ".json":  # argparse drops a trailing "/"
            out.mkdir(parents=True, exist_ok=True)
            out = out / f"soak-{result['mode']}.json"
        out.write_text(json.dumps(result, indent=1))
        print(f"report: {out}")
    return 0 if result["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
