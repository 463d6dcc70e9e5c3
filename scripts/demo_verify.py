"""Post the shipped demo presentation to a running TrustBridge and print the report.

Uses only the standard library, so it works before or without the project's venv.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    args = parser.parse_args()
    meta = json.loads((DEMO / "demo.json").read_text(encoding="utf-8"))
    body = {
        "presentation": (DEMO / "ev-safety-vp.jwt").read_text(encoding="utf-8").strip(),
        "nonce": meta["vp_nonce"],
        "audience": meta["vp_audience"],
        "at": meta["vp_verify_at"],
    }
    if not args.url.startswith(("http://", "https://")):
        parser.error("--url must be an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        f"{args.url}/v1/verify", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - local service URL
            report = json.loads(resp.read())
    except urllib.error.URLError as exc:
        print(f"cannot reach TrustBridge at {args.url} ({exc}); start it with `make run`.",
              file=sys.stderr)
        return 3
    print(f"verdict: {report['verdict'].upper()}   holder: {report.get('holder')}")
    for check in report["checks"]:
        print(f"  presentation {check['status']:8s} {check['code']:32s} {check['message']}")
    for i, cred in enumerate(report["credentials"], 1):
        summary = cred.get("summary", {})
        issuer = summary.get("issuer", {})
        print(f"credential {i}: {summary.get('title')} -- {cred['verdict']}")
        print(f"  issuer: {issuer.get('name')} ({issuer.get('country')})")
        chain = summary.get("chain") or []
        if chain:
            print("  chain:  " + "  ->  ".join(f"{link.get('name')} [{link.get('issuer_type')}]"
                                               for link in chain))
        for check in cred["checks"]:
            print(f"  {check['status']:8s} {check['code']:32s} {check['message']}")
    return {"valid": 0, "invalid": 1}.get(report["verdict"], 2)


if __name__ == "__main__":
    sys.exit(main())
