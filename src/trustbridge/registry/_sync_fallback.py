"""ADAPTER (temporary): a minimal registry behind sync's ``RegistryPort``, used only while the
registry package (``registry/store.py``, ``registry/chain.py``) is not installed.

It keeps accreditation attributes in its own table and checks each accreditation
the way EBSI's TIR does at its simplest: the JWT is signed by the ``tao`` it names
(an ``assertionMethod`` key of that DID), its subject is the issuer, it is inside
its validity window, and the ``tao`` holds a non-revoked TAO/RootTAO accreditation,
up to a RootTAO among the configured ``trust_anchors`` (bounded depth, no cycles).
It does not check that a grant stays within what the granter holds: the real
``registry.chain`` does. Delete this module once the registry package lands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trustbridge.registry._sync_jose import JoseError, parse_jws, verify_jws_by
from trustbridge.registry.batch import Change, Rejection, accredited_jurisdictions
from trustbridge.store import Database
from trustbridge.store.interface import Transaction
from trustbridge.store.migrations import register

register("0501_sync_fallback_registry", [
    "CREATE TABLE IF NOT EXISTS sync_fallback_attributes (did TEXT NOT NULL, id TEXT NOT NULL, "
    "jwt TEXT NOT NULL, issuer_type TEXT NOT NULL, tao TEXT, root_tao TEXT, "
    "revoked BIGINT NOT NULL, PRIMARY KEY (did, id))",
])

_EPOCH_KEY = "sync_fallback.epoch"
MAX_DEPTH = 6
ACCREDITING = frozenset({"TAO", "RootTAO"})


@dataclass(frozen=True)
class _Attr:
    did: str
    id: str
    jwt: str
    issuer_type: str
    tao: str | None
    revoked: bool


class FallbackRegistry:
    """Implements ``trustbridge.registry.sync.RegistryPort`` on its own table."""

    def __init__(self, db: Database, resolver: Any, anchors: Sequence[str]) -> None:
        self.db = db
        self.resolver = resolver
        self.anchors = frozenset(anchors)

    async def _attrs(self, did: str) -> list[_Attr]:
        rows = await self.db.fetch(
            "SELECT did, id, jwt, issuer_type, tao, revoked FROM sync_fallback_attributes "
            "WHERE did = ?", did)
        return [_Attr(r["did"], r["id"], r["jwt"], r["issuer_type"], r["tao"],
                      bool(r["revoked"])) for r in rows]

    async def attribute_ids(self, did: str) -> set[str]:
        return {a.id for a in await self._attrs(did)}

    async def epoch(self) -> int:
        row = await self.db.fetchrow("SELECT value FROM node_state WHERE key = ?", _EPOCH_KEY)
        return int(row["value"]) if row else 0

    async def jurisdictions_of(self, registry_did: str, at: datetime) -> set[str] | None:
        found: set[str] = set()
        held = False
        for attr in await self._attrs(registry_did):
            if attr.revoked or attr.issuer_type not in ACCREDITING:
                continue
            if await self._problem(attr, {}, at, set()) is not None:
                continue
            held = True
            found |= accredited_jurisdictions(attr.jwt) or {"*"}
        return found if held else None

    async def issuer_jurisdictions(self, did: str) -> set[str] | None:
        found: set[str] = set()
        attrs = [a for a in await self._attrs(did) if not a.revoked]
        if not attrs:
            return None
        for attr in attrs:
            limited = accredited_jurisdictions(attr.jwt)
            if limited is None:
                return None
            found |= limited
        return found

    async def check_targets(self, changes: Sequence[tuple[int, Change]]) -> list[Rejection]:
        out: list[Rejection] = []
        added: set[str] = set()
        for i, change in changes:
            live = [a for a in await self._attrs(change.did) if not a.revoked]
            exists = bool(live) or change.did in added
            if change.op == "add_issuer":
                if exists:
                    out.append(Rejection(i, "change.issuer_exists",
                                         f"{change.did} is already registered"))
                added.add(change.did)
            elif not exists:
                out.append(Rejection(i, "change.issuer_unknown", f"{change.did} is not "
                                     "registered"))
            elif change.op == "revoke_attribute" and change.attribute_id not in {
                    a.id for a in live}:
                out.append(Rejection(i, "change.attribute_unknown",
                                     f"{change.did} has no attribute {change.attribute_id}"))
        return out

    async def check_attributes(self, changes: Sequence[tuple[int, Change]], at: datetime
                               ) -> list[Rejection]:
        overlay: dict[str, list[_Attr]] = {}
        for _, change in changes:
            assert change.attribute is not None
            a = change.attribute
            overlay.setdefault(change.did, []).append(
                _Attr(change.did, a.hash, a.jwt, a.issuer_type, a.tao, False))
        out: list[Rejection] = []
        for i, change in changes:
            assert change.attribute is not None
            a = change.attribute
            attr = _Attr(change.did, a.hash, a.jwt, a.issuer_type, a.tao, False)
            problem = await self._problem(attr, overlay, at, set())
            if problem is not None:
                out.append(Rejection(i, problem[0], problem[1]))
        return out

    async def _problem(self, attr: _Attr, overlay: dict[str, list[_Attr]], at: datetime,
                       seen: set[str]) -> tuple[str, str] | None:
        """Why ``attr`` does not verify up to an anchor, or ``None``."""
        if len(seen) > MAX_DEPTH or attr.did in seen:
            return ("accreditation.chain_loop", f"chain through {attr.did} loops or is too deep")
        try:
            _, payload, _ = parse_jws(attr.jwt)
        except JoseError as exc:
            return ("accreditation.malformed", str(exc))
        issuer = payload.get("iss")
        signer = attr.tao or (issuer if isinstance(issuer, str) else None)
        if attr.issuer_type == "RootTAO" and attr.did in self.anchors and signer in (
                None, attr.did):
            signer = attr.did
        if not signer or issuer != signer:
            return ("accreditation.issuer_mismatch",
                    f"accreditation of {attr.did} is issued by {issuer}, not tao {attr.tao}")
        vc = payload.get("vc") if isinstance(payload.get("vc"), dict) else payload
        subject = vc.get("credentialSubject") if isinstance(vc, dict) else None
        sub_id = payload.get("sub") or (subject.get("id") if isinstance(subject, dict) else None)
        if sub_id != attr.did:
            return ("accreditation.subject_mismatch",
                    f"accreditation is about {sub_id}, not {attr.did}")
        window = _window_problem(payload, at)
        if window is not None:
            return window
        try:
            await verify_jws_by(attr.jwt, signer, self.resolver)
        except JoseError as exc:
            return ("accreditation.signature_invalid", str(exc))
        if attr.issuer_type == "RootTAO" and attr.did in self.anchors:
            return None
        if signer == attr.did:
            return ("accreditation.self_issued", f"{attr.did} accredits itself and is not a "
                    "configured trust anchor")
        granters = [g for g in (await self._attrs(signer)) + overlay.get(signer, [])
                    if g.issuer_type in ACCREDITING]
        if not granters:
            return ("accreditation.tao_not_accredited", f"{signer} holds no TAO accreditation")
        if any(g.revoked for g in granters) and all(g.revoked for g in granters):
            return ("accreditation.tao_revoked", f"the accreditation of {signer} is revoked")
        last: tuple[str, str] | None = None
        for granter in granters:
            if granter.revoked:
                continue
            last = await self._problem(granter, overlay, at, seen | {attr.did})
            if last is None:
                return None
        return last or ("accreditation.tao_revoked", f"{signer} holds no live accreditation")

    async def apply(self, tx: Transaction, changes: Sequence[Change]) -> set[str]:
        affected: set[str] = set()
        for change in changes:
            affected.add(change.did)
            if change.op == "revoke_issuer":
                await tx.execute("UPDATE sync_fallback_attributes SET revoked = 1 WHERE did = ?",
                                 change.did)
            elif change.op == "revoke_attribute":
                await tx.execute("UPDATE sync_fallback_attributes SET revoked = 1 "
                                 "WHERE did = ? AND id = ?", change.did, change.attribute_id)
            else:
                a = change.attribute
                assert a is not None
                if change.attribute_id:
                    await tx.execute("UPDATE sync_fallback_attributes SET revoked = 1 "
                                     "WHERE did = ? AND id = ?", change.did, change.attribute_id)
                revoked = 1 if a.issuer_type == "Revoked" else 0
                await tx.execute("DELETE FROM sync_fallback_attributes WHERE did = ? AND id = ?",
                                 change.did, a.hash)
                await tx.execute(
                    "INSERT INTO sync_fallback_attributes (did, id, jwt, issuer_type, tao, "
                    "root_tao, revoked) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    change.did, a.hash, a.jwt, a.issuer_type, a.tao, a.root_tao, revoked)
                if revoked:
                    await tx.execute("UPDATE sync_fallback_attributes SET revoked = 1 "
                                     "WHERE did = ?", change.did)
        row = await tx.fetchrow("SELECT value FROM node_state WHERE key = ?", _EPOCH_KEY)
        epoch = (int(row["value"]) if row else 0) + 1
        await tx.execute("DELETE FROM node_state WHERE key = ?", _EPOCH_KEY)
        await tx.execute("INSERT INTO node_state (key, value) VALUES (?, ?)", _EPOCH_KEY,
                         str(epoch))
        return affected

    async def accredited(self, did: str, at: datetime | None = None) -> tuple[bool, str]:
        """Whether ``did`` holds a live accreditation that verifies up to an anchor."""
        at = at or datetime.now(UTC)
        last = "issuer.unknown"
        for attr in await self._attrs(did):
            if attr.revoked:
                last = "issuer.revoked"
                continue
            problem = await self._problem(attr, {}, at, set())
            if problem is None:
                return True, "accredited"
            last = problem[0]
        return False, last

    async def counts(self) -> dict[str, int]:
        row = await self.db.fetchrow(
            "SELECT COUNT(DISTINCT did) AS n, COUNT(*) AS a FROM sync_fallback_attributes")
        return {"issuers": int(row["n"]) if row else 0, "attributes": int(row["a"]) if row else 0}


def _window_problem(payload: dict[str, Any], at: datetime) -> tuple[str, str] | None:
    ts = at.timestamp()
    nbf, exp = payload.get("nbf"), payload.get("exp")
    if isinstance(nbf, int | float) and ts < nbf:
        return ("accreditation.not_yet_valid", "accreditation is not valid yet")
    if isinstance(exp, int | float) and ts >= exp:
        return ("accreditation.expired", "accreditation has expired")
    return None


__all__ = ["FallbackRegistry"]
