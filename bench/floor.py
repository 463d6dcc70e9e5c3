"""Where an uncached VP's server time goes: HTTP floor + signatures + everything else.

Issue 11 asks for uncached VP verification over HTTP at 40 % of the two-signature crypto
limit. This script shows how much of that is reachable at all with this HTTP stack, by
measuring, per server CPU second, on the same request bodies (the JWT VPs of
``compare_ebsi``/``scaling``, ES256 or EdDSA, 1 VC each, wrk with one thread):

* **floor**: a bare aiohttp app (same aiohttp, same event loop, no middleware) whose handler
  reads the body and answers a fixed JSON body of the size of TrustBridge's real report --
  the least any aiohttp service can spend on such a request;
* **floor + JSON**: the same, plus ``json.loads`` of the request body;
* **TrustBridge**: ``POST /v1/verify``, result cache off ("uncached"), the "pipeline"
  policy (signatures, dates, holder binding, nonce/audience);
* **lean verifier**: the least a JWT VP verification can be in Python on this stack -- the
  same bare app, whose handler parses the body, both compact JWS (TrustBridge's own
  ``parse_compact_jws``), takes the did:key keys from a dict (decoded once per DID), checks
  both signatures (``verify_jws``: the same ``cryptography`` calls), the VC's issuer and
  the holder binding, aud/nonce and the validity dates, and answers a ten-check report
  padded to the real report's size. No status list, registry, schema or micro-credential
  work, no error reporting worth the name: a bound, not a product;
* **crypto**: ``cryptography``'s verification rate for the algorithm (``crypto_limit``);
  a VP with one VC needs two checks.

It prints microseconds of server CPU per request for each, the split of TrustBridge's time
into floor / signatures / the rest, and the best share of the crypto limit this stack could
reach if "the rest" were zero: ``crypto / (floor + crypto)``.

    python bench/floor.py [--alg ES256] [--seconds 5] [--n 40] [--json]

Needs ``wrk`` (``apt-get install wrk``) and ``cd scripts/oracle && npm ci`` once. On a
shared machine run it twice: per-CPU-second figures hold up under load better than
per-wall-second ones, but not perfectly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import ServedApp, free_port, process_cpu_seconds, wait_until_healthy  # noqa: E402
from crypto_limit import measure  # noqa: E402
from scaling import WRK_SCRIPT, check_and_warm, make_workload, request_bodies, wrk_peak  # noqa: E402

# The serving part both apps share: ``verify`` answers POST /v1/verify, on argv[1]'s port.
SERVE = """
async def health(request):
    return web.Response(text="ok")
app = web.Application(client_max_size=2 ** 22)
app.router.add_post("/v1/verify", verify)
app.router.add_get("/health", health)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

FLOOR_APP = """
import json, sys
from aiohttp import web
reply = b'{"pad":"' + b"x" * (int(sys.argv[2]) - 10) + b'"}'
parse = sys.argv[3] == "json"
async def verify(request):
    body = await request.read()
    if parse:
        json.loads(body)
    return web.Response(body=reply, content_type="application/json")
"""


LEAN_APP = """
import json, sys
from datetime import datetime
from aiohttp import web
from trustbridge.crypto.jws import parse_compact_jws, verify_jws
from trustbridge.did.key import decode_did_key
size = int(sys.argv[2])
ALGS = frozenset({"ES256", "EdDSA"})
keys = {}
def signed_by(jws, now):
    did = jws.header["kid"].partition("#")[0]
    key = keys.get(did)
    if key is None:
        key = keys[did] = decode_did_key(did)[2]
    verify_jws(jws, key, allowed_algs=ALGS)
    claims = json.loads(jws.payload)
    if claims["iss"] != did or not claims.get("nbf", 0) <= now < claims.get("exp", 2e9):
        raise ValueError("issuer or dates")
    return claims
async def verify(request):
    body = json.loads(await request.read())
    now = datetime.fromisoformat(body["at"].replace("Z", "+00:00")).timestamp()
    vp = signed_by(parse_compact_jws(body["presentation"]), now)
    if vp["aud"] != body["audience"] or vp["nonce"] != body["nonce"]:
        raise ValueError("audience or nonce")
    checks = []
    for token in vp["vp"]["verifiableCredential"]:
        vc = signed_by(parse_compact_jws(token), now)
        if vc["sub"] != vp["iss"]:
            raise ValueError("holder binding")
        checks += [{"check": c, "status": "passed", "code": c + ".ok", "message": "ok"}
                   for c in ("structure", "signature", "validity", "holder_binding",
                             "issuer_trust", "status", "schema", "microcredential")]
    checks += [{"check": c, "status": "passed", "code": c + ".ok", "message": "ok"}
               for c in ("presentation_signature", "nonce_audience")]
    report = {"verdict": "valid", "holder": vp["iss"], "checks": checks}
    text = json.dumps(report)
    report["pad"] = "x" * max(0, size - len(text) - 10)
    return web.Response(text=json.dumps(report), content_type="application/json")
"""


class FloorApp:
    """The bare aiohttp app in its own process, answering ``size`` bytes."""

    def __init__(self, size: int, mode: str) -> None:
        self.port = free_port()
        code = (LEAN_APP if mode == "lean" else FLOOR_APP) + SERVE
        self.args = [sys.executable, "-c", code, str(self.port), str(size), mode]
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> FloorApp:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL)
        wait_until_healthy(self.proc, f"http://127.0.0.1:{self.port}/health", seconds=30,
                           name="the floor app")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def per_cpu(port: int, pid: int, bodies_file: Path, script: Path, seconds: float
            ) -> dict[str, Any]:
    """wrk for ``seconds`` (after a 1 s warm-up); requests per server CPU second."""
    wrk_peak(port, bodies_file, script, connections=16, seconds=1)
    cpu0 = process_cpu_seconds(pid)
    peak = wrk_peak(port, bodies_file, script, connections=16, seconds=seconds)
    cpu = process_cpu_seconds(pid) - cpu0
    if peak["errors"]:
        raise RuntimeError(f"wrk reported errors: {peak['errors']}")
    return {"per_s": peak["per_s"], "per_core_s": round(peak["count"] / cpu, 1),
            "us_per_request": round(cpu / peak["count"] * 1e6, 1)}


def report_size(port: int, body: bytes) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/verify", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (127.0.0.1)
        return len(response.read())


def run(args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="tb-floor-"))
    workload = make_workload(args.n, [1], args.alg, tmp / "workload.json")
    group = f"{args.alg}/1"
    bodies = request_bodies(workload, group)
    bodies_file = tmp / "bodies.txt"
    bodies_file.write_bytes(b"\n".join(bodies) + b"\n")
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT)
    out: dict[str, Any] = {"alg": args.alg, "n": args.n, "seconds": args.seconds}
    with ServedApp(tmp / "tb", {"TRUSTBRIDGE_RESULT_CACHE_TTL_SECONDS": "0"}) as app:
        verdicts = asyncio.run(check_and_warm(app.port, bodies))
        if set(verdicts) != {"valid"}:
            raise RuntimeError(f"TrustBridge did not find every VP valid: {verdicts}")
        out["report_bytes"] = report_size(app.port, bodies[0])
        out["trustbridge"] = per_cpu(app.port, app.pid, bodies_file, script, args.seconds)
    for mode in ("plain", "json", "lean"):
        with FloorApp(out["report_bytes"], mode) as floor:
            if mode == "lean" and set(asyncio.run(check_and_warm(floor.port, bodies))) != {
                    "valid"}:
                raise RuntimeError("the lean verifier did not find every VP valid")
            out[f"floor_{mode}"] = per_cpu(floor.port, floor.pid, bodies_file, script,
                                           args.seconds)
    rates = measure(2.0)
    rate = rates["es256_verify_per_s" if args.alg == "ES256" else "ed25519_verify_per_s"]
    crypto_us = 2 / rate * 1e6
    tb_us = out["trustbridge"]["us_per_request"]
    floor_us = out["floor_plain"]["us_per_request"]
    out["crypto"] = {"verify_per_s": round(rate), "us_per_vp": round(crypto_us, 1),
                     "vp_limit_per_s": round(rate / 2)}
    out["split_us"] = {"floor": floor_us, "signatures": round(crypto_us, 1),
                       "rest": round(tb_us - floor_us - crypto_us, 1)}
    out["share_of_limit"] = round(crypto_us / tb_us, 3)
    out["lean_share_of_limit"] = round(crypto_us / out["floor_lean"]["us_per_request"], 3)
    out["best_share_on_this_stack"] = round(crypto_us / (floor_us + crypto_us), 3)
    return out


def table(r: dict[str, Any]) -> str:
    lines = [f"uncached {r['alg']}/1 VP over HTTP, per server CPU second (report "
             f"{r['report_bytes']} bytes, {r['seconds']} s each, wrk -t1 -c16)",
             f"{'':34}{'req/s':>10}{'per core/s':>12}{'µs CPU/req':>12}"]
    for key, name in (("floor_plain", "bare aiohttp (floor)"),
                      ("floor_json", "bare aiohttp + json.loads"),
                      ("floor_lean", "lean Python verifier (bound)"),
                      ("trustbridge", "TrustBridge /v1/verify")):
        m = r[key]
        lines.append(f"{name:34}{m['per_s']:>10,.0f}{m['per_core_s']:>12,.0f}"
                     f"{m['us_per_request']:>12,.1f}")
    c, s = r["crypto"], r["split_us"]
    lines += [f"{'two signature checks (crypto)':34}{'':10}{c['vp_limit_per_s']:>12,}"
              f"{c['us_per_vp']:>12,.1f}",
              "",
              f"TrustBridge per request: floor {s['floor']:.0f} µs + signatures "
              f"{s['signatures']:.0f} µs + the rest {s['rest']:.0f} µs",
              f"share of the crypto limit: {r['share_of_limit']:.0%}; best reachable on this "
              f"HTTP stack if the rest were free: {r['best_share_on_this_stack']:.0%}; the "
              f"lean Python verifier: {r['lean_share_of_limit']:.0%}"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alg", choices=("ES256", "EdDSA"), default="ES256")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--n", type=int, default=40, help="distinct VPs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    result = run(args)
    print(table(result))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
