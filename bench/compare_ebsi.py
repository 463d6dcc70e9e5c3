"""TrustBridge beside EBSI's own verifier library, didkit and the raw signature limit, in one run.

Workload: for ES256 and EdDSA, VPs with 1 and with 5 credentials (``--n`` distinct VPs per
group, a fresh did:key holder per VP, did:key issuers). The JWT VPs are made by EBSI's own
``createVerifiablePresentationJwt`` (scripts/oracle/bench_verify.mjs), so EBSI accepts them;
equivalent JSON-LD VPs (same shape, Ed25519Signature2018 / JsonWebSignature2020) are made
by didkit for didkit. Measured, one after another, each as verifications per second on one
core:

* tb in-process "pipeline": ``Verifier.verify`` with the policy matching what EBSI and didkit
  check (signatures, dates, holder binding; no registry, status or schema);
* tb in-process "full": the default policy (issuer accreditation and schema too; these
  did:key issuers are not accredited, so the verdict is not ``valid``, but every step runs);
* tb HTTP: ``POST /v1/verify`` to ``trustbridge serve`` in its own process on 127.0.0.1,
  bounded concurrent client; per core = requests / server CPU seconds. Uncached (result
  cache off; DID documents memoised, as in steady state) and cached (repeat requests);
* EBSI: ``verifyPresentationJwt`` from @cef-ebsi/verifiable-presentation in Node, offline
  (scripts/oracle/offline.mjs), per CPU second of the Node process;
* didkit: ``verify_presentation`` (it verifies the VP proof and every embedded VC proof);
* the raw limit: ``bench/crypto_limit.measure``; a VP with k VCs needs k + 1 signature checks.

    python bench/compare_ebsi.py [--n 40] [--seconds 2] [--concurrency 16] [--json]
    REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgresql://… python bench/compare_ebsi.py

Needs ``cd scripts/oracle && npm ci`` once (EBSI's libraries from the npm registry).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import aiohttp  # noqa: E402
import didkit  # noqa: E402
from common import LoadResult, ServedApp, bounded_load  # noqa: E402
from crypto_limit import measure  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: E402

from trustbridge.crypto.base64url import b64url_encode  # noqa: E402
from trustbridge.crypto.jwk import jwk_from_public_key  # noqa: E402

ORACLE = ROOT / "scripts" / "oracle"
GROUPS = ("ES256/1", "ES256/5", "EdDSA/1", "EdDSA/5")
PIPELINE = {"require_accredited_issuer": False, "check_status": False, "check_schema": False,
            "require_holder_binding": True}
V1 = "https://www.w3.org/2018/credentials/v1"
PROOF_TYPE = {"ES256": "JsonWebSignature2020", "EdDSA": "Ed25519Signature2018"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- workload ---------------------------------------------------------------------------------

def make_jwt_workload(n: int, path: Path) -> dict[str, Any]:
    if not (ORACLE / "node_modules" / "@cef-ebsi" / "verifiable-presentation").is_dir():
        raise SystemExit("EBSI's libraries are missing: cd scripts/oracle && npm ci")
    subprocess.run(["node", "bench_verify.mjs", "gen", "--n", str(n), "--out", str(path)],
                   cwd=ORACLE, check=True)
    workload: dict[str, Any] = json.loads(path.read_text())
    return workload


def _private_jwk(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        x = key.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)
        d = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                              serialization.NoEncryption())
        return json.dumps({"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(x),
                           "d": b64url_encode(d)})
    jwk = dict(jwk_from_public_key(key.public_key()))
    jwk["d"] = b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))
    return json.dumps(jwk)


async def _didkit_key(alg: str) -> tuple[str, str, str]:
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey = (
        ed25519.Ed25519PrivateKey.generate() if alg == "EdDSA"
        else ec.generate_private_key(ec.SECP256R1()))
    jwk = _private_jwk(key)
    return jwk, didkit.key_to_did("key", jwk), await didkit.key_to_verification_method("key", jwk)


async def make_ldp_workload(n: int, nonce: str, domain: str) -> dict[str, list[str]]:
    """JSON-LD VPs of the same shape as the JWT ones, issued by didkit."""
    groups: dict[str, list[str]] = {}
    for alg in ("ES256", "EdDSA"):
        issuers = [await _didkit_key(alg) for _ in range(8)]
        for count in (1, 5):
            vps = []
            for i in range(n):
                holder_jwk, holder, holder_vm = await _didkit_key(alg)
                vcs = []
                for j in range(count):
                    jwk, did, vm = issuers[(i + j) % len(issuers)]
                    vc = {"@context": [V1], "id": f"urn:uuid:bench-ldp-{alg}-{count}-{i}-{j}",
                          "type": ["VerifiableCredential"], "issuer": did,
                          "issuanceDate": "2025-01-01T00:00:00Z",
                          "expirationDate": "2030-01-01T00:00:00Z",
                          "credentialSubject": {"id": holder}}
                    options = {"proofPurpose": "assertionMethod", "verificationMethod": vm,
                               "type": PROOF_TYPE[alg]}
                    vcs.append(json.loads(await didkit.issue_credential(
                        json.dumps(vc), json.dumps(options), jwk)))
                vp = {"@context": [V1], "type": ["VerifiablePresentation"], "holder": holder,
                      "verifiableCredential": vcs}
                options = {"proofPurpose": "authentication", "verificationMethod": holder_vm,
                           "type": PROOF_TYPE[alg], "challenge": nonce, "domain": domain}
                vps.append(await didkit.issue_presentation(json.dumps(vp), json.dumps(options),
                                                           holder_jwk))
            groups[f"{alg}/{count}"] = vps
    await asyncio.sleep(0)  # see trustbridge.formats._didkit: let pyo3 futures settle
    return groups


# -- measurements -----------------------------------------------------------------------------

async def sequential(fn: Callable[[int], Any], seconds: float) -> dict[str, Any]:
    """One at a time on this process: verifications per wall second and per CPU second."""
    outcomes: dict[str, int] = {}
    count = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        label = await fn(count)
        outcomes[label] = outcomes.get(label, 0) + 1
        count += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"count": count, "per_s": round(count / wall, 1),
            "per_core_s": round(count / cpu, 1) if cpu else None, "outcomes": outcomes}


async def tb_in_process(workload: dict[str, Any], seconds: float, data_dir: Path
                        ) -> dict[str, dict[str, Any]]:
    from trustbridge.config import Settings
    from trustbridge.services import build_services
    from trustbridge.verify.pipeline import VerificationInput
    from trustbridge.verify.policy import Policy
    from trustbridge.verify.service import verifier_of

    services = await build_services(Settings(environment="test", data_dir=data_dir,
                                             result_cache_ttl_seconds=0))
    verifier = verifier_of(services)
    at = datetime.fromisoformat(workload["verify_at"].replace("Z", "+00:00")).astimezone(UTC)
    out: dict[str, dict[str, Any]] = {}
    try:
        for label, policy in (("pipeline", Policy(**PIPELINE)), ("full", Policy())):
            for group in GROUPS:
                vps = workload["groups"][group]

                async def one(i: int, vps: list[str] = vps, policy: Policy = policy) -> str:
                    report = await verifier.verify(VerificationInput(
                        presentation=vps[i % len(vps)], nonce=workload["nonce"],
                        audience=workload["audience"], at=at, policy=policy))
                    return str(report.verdict.value)

                await one(0)
                out[f"{label} {group}"] = await sequential(one, seconds)
    finally:
        await services.close()
    return out


async def tb_http(workload: dict[str, Any], *, seconds: float, concurrency: int,
                  data_dir: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for mode, ttl in (("uncached", "0"), ("cached", "300")):
        with ServedApp(data_dir / mode, {"TRUSTBRIDGE_RESULT_CACHE_TTL_SECONDS": ttl}) as app:
            url = f"{app.base}/v1/verify"
            connector = aiohttp.TCPConnector(limit=concurrency)
            async with aiohttp.ClientSession(connector=connector) as session:
                policies = (("pipeline", PIPELINE), ("full", {})) if mode == "uncached" \
                    else (("pipeline", PIPELINE),)
                for label, policy in policies:
                    for group in GROUPS:
                        vps = workload["groups"][group]

                        async def one(i: int, vps: list[str] = vps, url: str = url,
                                      policy: dict[str, Any] = policy) -> str:
                            body = {"presentation": vps[i % len(vps)],
                                    "nonce": workload["nonce"], "audience": workload["audience"],
                                    "at": workload["verify_at"], "policy": policy}
                            async with session.post(url, json=body) as resp:
                                data = await resp.json()
                                if resp.status != 200:
                                    raise RuntimeError(f"HTTP {resp.status}: {data}")
                            return str(data["verdict"])

                        # warm up: every VP once (fills the result cache in cached mode)
                        await bounded_load(one, concurrency=concurrency, seconds=60,
                                           max_ops=len(vps))
                        cpu0 = app.cpu_seconds()
                        result: LoadResult = await bounded_load(one, concurrency=concurrency,
                                                                seconds=seconds)
                        result.server_cpu_s = app.cpu_seconds() - cpu0
                        out[f"{mode} {label} {group}"] = result.summary()
    return out


def ebsi(workload_path: Path, seconds: float) -> dict[str, dict[str, Any]]:
    done = subprocess.run(["node", "bench_verify.mjs", "verify", "--in", str(workload_path),
                           "--seconds", str(seconds)], cwd=ORACLE, check=True,
                          capture_output=True, text=True)
    groups: dict[str, dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])["groups"]
    return {name: {"count": g["verifications"], "per_s": round(g["per_s"], 1),
                   "per_core_s": round(g["per_cpu_s"], 1),
                   "outcomes": {"valid": g["valid"],
                                "invalid": g["verifications"] - g["valid"]},
                   "first_error": g["first_error"]} for name, g in groups.items()}


async def didkit_verify(groups: dict[str, list[str]], nonce: str, domain: str,
                        seconds: float) -> dict[str, dict[str, Any]]:
    options = json.dumps({"proofPurpose": "authentication", "challenge": nonce, "domain": domain})
    out: dict[str, dict[str, Any]] = {}
    for group in GROUPS:
        vps = groups[group]

        async def one(i: int, vps: list[str] = vps) -> str:
            answer = json.loads(await didkit.verify_presentation(vps[i % len(vps)], options))
            return "valid" if not answer["errors"] and "proof" in answer["checks"] else "invalid"

        await one(0)
        out[group] = await sequential(one, seconds)
    await asyncio.sleep(0)
    return out


# -- report -----------------------------------------------------------------------------------

def limit_for(group: str, crypto: dict[str, float]) -> float:
    alg, count = group.split("/")
    rate = crypto["es256_verify_per_s"] if alg == "ES256" else crypto["ed25519_verify_per_s"]
    return rate / (int(count) + 1)


def table(results: dict[str, Any]) -> str:
    crypto = results["crypto_limit"]
    lines = [f"{'measurement':34} {'group':8} {'per s':>9} {'per core/s':>10} {'p50 ms':>8} "
             f"{'p95 ms':>8} {'p99 ms':>8}  verdicts"]

    def row(name: str, group: str, r: dict[str, Any]) -> None:
        per_core = r.get("per_core_s")
        lines.append(f"{name:34} {group:8} {r['per_s']:>9.1f} "
                     f"{per_core if per_core is not None else float('nan'):>10.1f} "
                     f"{r.get('p50_ms', float('nan')):>8.2f} {r.get('p95_ms', float('nan')):>8.2f}"
                     f" {r.get('p99_ms', float('nan')):>8.2f}  {r['outcomes']}")

    for group in GROUPS:
        row("raw crypto limit (k+1 sigs)", group,
            {"per_s": limit_for(group, crypto), "per_core_s": limit_for(group, crypto),
             "outcomes": {}})
        for key, r in results["tb_in_process"].items():
            if key.endswith(group):
                row(f"tb in-process {key.split()[0]}", group, r)
        for key, r in results["tb_http"].items():
            if key.endswith(group):
                row(f"tb HTTP {' '.join(key.split()[:2])}", group, r)
        if group in results.get("ebsi", {}):
            row("EBSI verifiable-presentation", group, results["ebsi"][group])
        if group in results.get("didkit", {}):
            row("didkit verify_presentation (LD)", group, results["didkit"][group])
    lines.append("")
    lines.append(f"{'ratio (per core)':58} " + " ".join(f"{g:>9}" for g in GROUPS))
    for name, value in ratios(results).items():
        lines.append(f"{name:58} " + " ".join(
            f"{value[g]:>9.2f}" if value.get(g) is not None else f"{'-':>9}" for g in GROUPS))
    return "\n".join(lines)


def ratios(results: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    crypto = results["crypto_limit"]
    out: dict[str, dict[str, float | None]] = {}

    def per_core(section: str, key: str) -> float | None:
        value = results.get(section, {}).get(key, {}).get("per_core_s")
        return float(value) if value else None

    subjects = {"TB HTTP uncached": ("tb_http", "uncached pipeline {g}"),
                "TB in-process": ("tb_in_process", "pipeline {g}")}
    for label, (section, pattern) in subjects.items():
        for other, other_section, other_key in (("EBSI", "ebsi", "{g}"),
                                                ("didkit", "didkit", "{g}")):
            row: dict[str, float | None] = {}
            for g in GROUPS:
                mine = per_core(section, pattern.format(g=g))
                theirs = per_core(other_section, other_key.format(g=g))
                row[g] = mine / theirs if mine and theirs else None
            out[f"{label} / {other}"] = row
        row = {}
        for g in GROUPS:
            mine = per_core(section, pattern.format(g=g))
            row[g] = mine / limit_for(g, crypto) if mine else None
        out[f"{label} / crypto limit"] = row
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"machine_cpus": __import__("os").cpu_count()}
    with tempfile.TemporaryDirectory(prefix="tb-compare-") as tmp:
        tmp_path = Path(tmp)
        workload_path = tmp_path / "workload.json"
        t = time.perf_counter()
        workload = make_jwt_workload(args.n, workload_path)
        log(f"EBSI made {4 * args.n} JWT VPs in {time.perf_counter() - t:.1f} s")
        if not args.skip_didkit:
            t = time.perf_counter()
            ldp = await make_ldp_workload(args.n, workload["nonce"], workload["audience"])
            log(f"didkit made {4 * args.n} JSON-LD VPs in {time.perf_counter() - t:.1f} s")
        log("measuring: crypto limit")
        results["crypto_limit"] = measure(args.seconds)
        log("measuring: TrustBridge in-process")
        results["tb_in_process"] = await tb_in_process(workload, args.seconds,
                                                       tmp_path / "inproc")
        log("measuring: TrustBridge over HTTP")
        results["tb_http"] = await tb_http(workload, seconds=args.seconds,
                                           concurrency=args.concurrency, data_dir=tmp_path)
        if not args.skip_ebsi:
            log("measuring: EBSI verifiable-presentation (node)")
            results["ebsi"] = ebsi(workload_path, args.seconds)
        if not args.skip_didkit:
            log("measuring: didkit")
            results["didkit"] = await didkit_verify(ldp, workload["nonce"],
                                                    workload["audience"], args.seconds)
    results["ratios"] = ratios(results)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=40, help="distinct VPs per group")
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="HTTP requests in flight")
    parser.add_argument("--skip-ebsi", action="store_true")
    parser.add_argument("--skip-didkit", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    started = time.perf_counter()
    results = asyncio.run(main_async(args))
    print(table(results))
    print(f"\n(total {time.perf_counter() - started:.0f} s; per core = per CPU second of the "
          f"verifying process; {results['machine_cpus']} CPUs)")
    if args.json:
        print(json.dumps({"bench": "compare_ebsi", **results}))
    bad = [k for k, r in results["tb_http"].items()
           if " pipeline " in k and set(r["outcomes"]) != {"valid"}]
    bad += [k for k, r in results.get("ebsi", {}).items() if r["outcomes"]["invalid"]]
    bad += [k for k, r in results.get("didkit", {}).items() if set(r["outcomes"]) != {"valid"}]
    if bad:
        print(f"unexpected verdicts in: {bad}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
