"""The raw limit: signature verifications per second `cryptography` does on this machine.

A VP with one VC needs two signature checks, so half the slower of these numbers
is the ceiling for uncached VP verification on one core.

    python bench/crypto_limit.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


def _rate(fn: Callable[[], None], seconds: float) -> float:
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(100):
            fn()
        n += 100
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def measure(seconds: float) -> dict[str, float]:
    msg = b"x" * 600  # about the size of a JWT signing input
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_sig = ed.sign(msg)
    ed_pub = ed.public_key()
    p256 = ec.generate_private_key(ec.SECP256R1())
    p256_sig = p256.sign(msg, ec.ECDSA(hashes.SHA256()))
    p256_pub = p256.public_key()
    k1 = ec.generate_private_key(ec.SECP256K1())
    k1_sig = k1.sign(msg, ec.ECDSA(hashes.SHA256()))
    k1_pub = k1.public_key()
    return {
        "ed25519_verify_per_s": _rate(lambda: ed_pub.verify(ed_sig, msg), seconds),
        "es256_verify_per_s": _rate(
            lambda: p256_pub.verify(p256_sig, msg, ec.ECDSA(hashes.SHA256())), seconds),
        "es256k_verify_per_s": _rate(
            lambda: k1_pub.verify(k1_sig, msg, ec.ECDSA(hashes.SHA256())), seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.seconds)
    if args.json:
        print(json.dumps(result))
        return
    for name, rate in result.items():
        print(f"{name:24s} {rate:12,.0f}")
    limit = min(result["ed25519_verify_per_s"], result["es256_verify_per_s"]) / 2
    print(f"{'VP(1 VC) ceiling/core':24s} {limit:12,.0f}  (two signature checks per VP)")


if __name__ == "__main__":
    main()
