"""Verification: pure checks, a pipeline that gathers facts concurrently, policies, the report.

Public API: ``Verifier``, ``VerificationInput``, ``Policy`` (and the composable
``AllOf``/``UnsafeNoOp``). Imported lazily so ``import trustbridge.verify`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AllOf", "Policy", "UnsafeNoOp", "VerificationInput", "Verifier"]


def __getattr__(name: str) -> Any:
    if name in {"Policy", "AllOf", "UnsafeNoOp"}:
        from trustbridge.verify import policy

        return getattr(policy, name)
    if name in {"Verifier", "VerificationInput"}:
        from trustbridge.verify import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
