"""The pure combination of source answers into one ``TrustDecision`` (no I/O, no clock).

Steps (each numbered in ``decide``):
1. Freshness: an answer whose data is past ``next_update`` + grace becomes ``unavailable``
   (fail closed: stale data never makes an issuer trusted).
2. Veto: an authoritative ``not_trusted`` (deny-list, withdrawn service, negative
   accreditation in force) decides ``not_trusted`` whatever the policy says.
3. Policy: a composable expression over source names, e.g. ``ebsi | (etsi_tl & deqar)``,
   evaluated in three-valued logic: trusted = true, not_trusted/unknown = false,
   unavailable/missing = undecided. Undecided never becomes trusted.
Every answer is kept as evidence, whichever way the decision goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from trustbridge.errors import InputError
from trustbridge.trust.interface import SourceAnswer, SourceStatus


class Tri(Enum):
    TRUE = "true"
    FALSE = "false"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Source:
    """A leaf: what one source said."""

    name: str

    def evaluate(self, answers: Mapping[str, SourceAnswer]) -> Tri:
        got = answers.get(self.name)
        if got is None or got.status is SourceStatus.UNAVAILABLE:
            return Tri.UNDECIDED
        return Tri.TRUE if got.status is SourceStatus.TRUSTED else Tri.FALSE

    def names(self) -> set[str]:
        return {self.name}

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class AnyOf:
    """Sufficient sources: true if one is true; undecided if none is but one is undecided."""

    parts: tuple[Policy, ...]

    def evaluate(self, answers: Mapping[str, SourceAnswer]) -> Tri:
        got = [p.evaluate(answers) for p in self.parts]
        if Tri.TRUE in got:
            return Tri.TRUE
        return Tri.UNDECIDED if Tri.UNDECIDED in got else Tri.FALSE

    def names(self) -> set[str]:
        return set().union(*(p.names() for p in self.parts))

    def __str__(self) -> str:
        return "(" + " | ".join(str(p) for p in self.parts) + ")"


@dataclass(frozen=True)
class AllOf:
    """Required sources: false if one is false; undecided if one is undecided."""

    parts: tuple[Policy, ...]

    def evaluate(self, answers: Mapping[str, SourceAnswer]) -> Tri:
        got = [p.evaluate(answers) for p in self.parts]
        if Tri.FALSE in got:
            return Tri.FALSE
        return Tri.UNDECIDED if Tri.UNDECIDED in got else Tri.TRUE

    def names(self) -> set[str]:
        return set().union(*(p.names() for p in self.parts))

    def __str__(self) -> str:
        return "(" + " & ".join(str(p) for p in self.parts) + ")"


Policy = Source | AnyOf | AllOf

_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_.-]*)|(\|)|(&)|(\()|(\)))")
MAX_POLICY_LENGTH = 1000


def parse_policy(text: str) -> Policy:
    """``a | (b & c)``: ``|`` is any-of, ``&`` all-of (binds tighter), parentheses group."""
    if len(text) > MAX_POLICY_LENGTH:
        raise InputError("trust policy too long", code="trust.policy_invalid")
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise InputError(f"unexpected character in trust policy at {pos}",
                             code="trust.policy_invalid")
        tokens.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    policy, rest = _parse_or(tokens, 0)
    if rest != len(tokens):
        raise InputError("trailing tokens in trust policy", code="trust.policy_invalid")
    return policy


def _parse_or(tokens: Sequence[str], i: int, depth: int = 0) -> tuple[Policy, int]:
    if depth > 16:
        raise InputError("trust policy nested too deeply", code="trust.policy_invalid")
    parts = []
    part, i = _parse_and(tokens, i, depth)
    parts.append(part)
    while i < len(tokens) and tokens[i] == "|":
        part, i = _parse_and(tokens, i + 1, depth)
        parts.append(part)
    return (parts[0] if len(parts) == 1 else AnyOf(tuple(parts))), i


def _parse_and(tokens: Sequence[str], i: int, depth: int) -> tuple[Policy, int]:
    parts = []
    part, i = _parse_atom(tokens, i, depth)
    parts.append(part)
    while i < len(tokens) and tokens[i] == "&":
        part, i = _parse_atom(tokens, i + 1, depth)
        parts.append(part)
    return (parts[0] if len(parts) == 1 else AllOf(tuple(parts))), i


def _parse_atom(tokens: Sequence[str], i: int, depth: int) -> tuple[Policy, int]:
    if i >= len(tokens):
        raise InputError("trust policy ends early", code="trust.policy_invalid")
    tok = tokens[i]
    if tok == "(":
        inner, i = _parse_or(tokens, i + 1, depth + 1)
        if i >= len(tokens) or tokens[i] != ")":
            raise InputError("unbalanced parenthesis in trust policy",
                             code="trust.policy_invalid")
        return inner, i + 1
    if tok in {"|", "&", ")"}:
        raise InputError(f"unexpected {tok!r} in trust policy", code="trust.policy_invalid")
    return Source(tok), i + 1


def any_of(names: Iterable[str]) -> Policy:
    parts = tuple(Source(n) for n in names)
    return parts[0] if len(parts) == 1 else AnyOf(parts)


class TrustDecision(BaseModel):
    """The combined answer. ``accredited``/``reason`` keep the registry answer's shape so the
    verification pipeline's issuer-trust check reads it unchanged; ``evidence`` has every
    source's answer."""

    model_config = ConfigDict(frozen=True)

    status: Literal["trusted", "not_trusted", "unknown"]
    code: str
    reason: str
    issuer: str
    policy: str
    evidence: tuple[SourceAnswer, ...] = ()
    issuer_name: str | None = None
    country: str | None = None
    chain: tuple[dict[str, object], ...] | None = None
    since_then: dict[str, str] | None = None  # the decision now, when ``at`` is in the past

    @property
    def trusted(self) -> bool:
        return self.status == "trusted"

    @property
    def accredited(self) -> bool:
        return self.trusted

    @property
    def message(self) -> str:
        return self.reason


def freshen(ans: SourceAnswer, *, now: datetime, grace: timedelta) -> SourceAnswer:
    """Step 1: data past its ``next_update`` + grace is unavailable, whatever it said."""
    if ans.next_update is None or now <= ans.next_update + grace:
        return ans
    if ans.status is SourceStatus.UNAVAILABLE:
        return ans
    return ans.model_copy(update={
        "status": SourceStatus.UNAVAILABLE, "code": "trust.source_stale", "authoritative": False,
        "reason": f"{ans.source}: data past its next update ({ans.next_update.isoformat()}) "
                  f"and the grace period; it said {ans.status.value} ({ans.code})",
        "evidence": {**ans.evidence, "stale_answer": ans.status.value}})


def decide(issuer: str, answers: Sequence[SourceAnswer], policy: Policy, *, now: datetime,
           grace: timedelta) -> TrustDecision:
    """Combine answers (steps 1-3 of the module docstring)."""
    fresh = tuple(freshen(a, now=now, grace=grace) for a in answers)  # 1.
    by_name = {a.source: a for a in fresh}
    base = {"issuer": issuer, "policy": str(policy), "evidence": fresh}
    veto = next((a for a in fresh if a.status is SourceStatus.NOT_TRUSTED and a.authoritative),
                None)
    if veto is not None:  # 2.
        return TrustDecision(status="not_trusted", code=veto.code,
                             reason=f"{veto.source}: {veto.reason}", **base)
    outcome = policy.evaluate(by_name)  # 3.
    if outcome is Tri.TRUE:
        used = [a for a in fresh if a.status is SourceStatus.TRUSTED]
        return TrustDecision(
            status="trusted", code="trust.trusted",
            reason="trusted by " + ", ".join(a.source for a in used) + f" under policy {policy}",
            **base, **_display(used))
    if outcome is Tri.UNDECIDED:
        gaps = [a for a in fresh if a.status is SourceStatus.UNAVAILABLE]
        first = gaps[0] if gaps else None
        missing = sorted(policy.names() - set(by_name))
        reason = (f"{first.source}: {first.reason}" if first else
                  f"no answer from {', '.join(missing)}")
        return TrustDecision(status="unknown",
                             code=first.code if first else "trust.source_unavailable",
                             reason=reason, **base)
    negative = next((a for a in fresh if a.status is SourceStatus.NOT_TRUSTED),
                    next((a for a in fresh if a.status is SourceStatus.UNKNOWN), None))
    if negative is not None:
        return TrustDecision(status="not_trusted", code=negative.code,
                             reason=f"{negative.source}: {negative.reason}", **base)
    return TrustDecision(status="not_trusted", code="trust.not_listed",
                         reason=f"no source satisfying policy {policy} lists the issuer",
                         **base)


def _display(used: Sequence[SourceAnswer]) -> dict[str, object]:
    """Issuer name/country/chain for the report summary, from the first source that has them."""
    out: dict[str, object] = {}
    for a in used:
        for key in ("issuer_name", "country", "chain"):
            value = a.evidence.get(key)
            if key not in out and value is not None:
                out[key] = tuple(value) if key == "chain" else value
    return out


__all__ = ["AllOf", "AnyOf", "Policy", "Source", "Tri", "TrustDecision", "any_of", "decide",
           "freshen", "parse_policy"]
