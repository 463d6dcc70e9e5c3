"""The append-only, hash-chained change log: pure functions over entries and signed heads.

Each entry commits to its sequence number, the change, where the change came
from (the digest of the signed batch and the change's index in it, or the
upstream registry it was imported from) and the previous entry's hash::

    entry_hash = sha256(JCS({"seq", "change", "origin", "prev"}))

so rewriting any entry changes every later hash and the signed head. The head
(``{seq, hash, node_did, signed_at}``) is a compact JWS by the node's own key.
Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import rfc8785

GENESIS_HASH = "0" * 64
HEAD_TYP = "trustbridge-log-head+jwt"


class ChainError(Exception):
    """The log does not verify; ``code`` is one of ``log.*`` and ``seq`` names the entry."""

    def __init__(self, message: str, *, code: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.seq = seq


def _plain(value: Any) -> bool:
    """JSON made only of ASCII-keyed objects, arrays, strings, integers, booleans and null.

    Iterative, on exact types (a subclass answers False and goes the JCS way): it runs over
    every log entry written or mirrored, and the recursive form was a tenth of a mirror.
    """
    todo = [value]
    while todo:
        item = todo.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is dict:
            for key, member in item.items():
                if type(key) is not str or not key.isascii():
                    return False
                todo.append(member)
        elif kind is list:
            todo.extend(item)
        elif kind is int:
            if abs(item) >= 2**53:  # JCS (I-JSON) integers
                return False
        else:
            return False
    return True


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes: the only serialisation that is ever hashed.

    For plain JSON (no floats, ASCII keys) JCS equals key-sorted compact ``json.dumps``
    without ASCII escaping (same escapes, same integer form, same order for ASCII keys), which
    is much faster than the pure-Python JCS; anything else goes through ``rfc8785``.
    """
    if _plain(value):
        try:
            return _encode_plain(value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: let JCS refuse it
            pass
    return bytes(rfc8785.dumps(value))


# ``json.dumps`` with these options builds a new encoder per call (a fifth of its time on a
# log entry's small members); the encoder holds no state between calls.
_SORTED_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
SORTED_COMPACT = _SORTED_COMPACT.encode
"""Key-sorted compact JSON text (``batch.content_digest``'s form; JCS for plain JSON)."""


def sorted_compact_encoder(*, check_circular: bool = True) -> Callable[[Any], str]:
    """``SORTED_COMPACT`` for many values in a row: the C encoder that ``JSONEncoder.encode``
    builds on every call (a few microseconds per log entry or batch change) built once.
    ``check_circular=False`` only for values known to be acyclic (``_plain`` ones: it never
    returns for a cycle); the encoder then keeps no state between calls."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return SORTED_COMPACT
    e = _SORTED_COMPACT
    iterencode = make({} if check_circular else None, e.default, json.encoder.encode_basestring,
                      None, e.key_separator, e.item_separator, e.sort_keys, e.skipkeys,
                      e.allow_nan)

    def encode(value: Any) -> str:
        return "".join(iterencode(value, 0))

    return encode


_encode_plain = sorted_compact_encoder(check_circular=False)


def known_jcs(value: Any, raw: Any, text: str) -> bytes | None:
    """``canonical(value)`` from ``text``, the ``SORTED_COMPACT`` text of ``raw``, where that is
    certain: ``value`` is plain JSON (so its JCS is its sorted compact text) and ``raw`` the
    same JSON with the same types (so the same text); else ``None``."""
    if not _plain(value) or not _identical(value, raw):
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: ``canonical`` hands it to JCS, which refuses
        return None


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def entry_hash(seq: int, change: Mapping[str, Any], origin: Mapping[str, Any],
               prev_hash: str) -> str:
    return _entry_hash(seq, canonical(dict(change)), origin, prev_hash)


def _entry_hash(seq: int, change_jcs: bytes, origin: Mapping[str, Any], prev_hash: str) -> str:
    """``sha256(JCS({"seq", "change", "origin", "prev"}))`` from the change's own JCS bytes.

    JCS is compositional: an object is its members sorted by name (here ``change`` <
    ``origin`` < ``prev`` < ``seq``, all ASCII), each value serialised on its own. So the
    change is serialised once and those bytes are also what the log stores; the other three
    members are the JCS of ``{origin, prev, seq}`` after its ``{``, in one call.
    """
    rest = canonical({"origin": dict(origin), "prev": prev_hash, "seq": seq})
    return sha256_hex(b"".join((b'{"change":', change_jcs, b",", rest[1:])))


@dataclass(frozen=True)
class LogEntry:
    """One applied change. ``origin`` is ``{"batch": digest, "index": i}`` for a pushed batch
    or ``{"upstream": url}`` for an import from an upstream TIR."""

    seq: int
    change: dict[str, Any]
    origin: dict[str, Any]
    prev_hash: str
    entry_hash: str
    change_jcs: bytes | None = field(default=None, compare=False, repr=False)

    @classmethod
    def chained(cls, seq: int, change: Mapping[str, Any], origin: Mapping[str, Any],
                prev_hash: str, change_jcs: bytes | None = None) -> LogEntry:
        """``change_jcs``: ``canonical(change)`` when the caller has it (``known_jcs``)."""
        if change_jcs is None:
            change_jcs = canonical(dict(change))
        return cls(seq, dict(change), dict(origin), prev_hash,
                   _entry_hash(seq, change_jcs, origin, prev_hash), change_jcs)

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "change": self.change, "origin": self.origin,
                "prev_hash": self.prev_hash, "entry_hash": self.entry_hash}

    @classmethod
    def from_json(cls, data: Any) -> LogEntry:
        """Parse an entry from a peer; shape errors are ``log.malformed``."""
        try:
            seq = data["seq"]
            change, origin = data["change"], data["origin"]
            prev, digest = data["prev_hash"], data["entry_hash"]
        except (KeyError, TypeError) as exc:
            raise ChainError(f"log entry lacks {exc}", code="log.malformed") from exc
        if (not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(change, dict)
                or not isinstance(origin, dict) or not isinstance(prev, str)
                or not isinstance(digest, str)):
            raise ChainError("log entry has wrong member types", code="log.malformed")
        return cls(seq, change, origin, prev, digest)

    @property
    def batch_digest(self) -> str | None:
        value = self.origin.get("batch")
        return value if isinstance(value, str) else None


def chain_entries(start_seq: int, prev_hash: str,
                  items: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
                  jcs: Sequence[bytes | None] | None = None) -> list[LogEntry]:
    """New entries for ``(change, origin)`` pairs appended after ``(start_seq, prev_hash)``;
    ``jcs[i]``, where given, is ``canonical`` of the i-th change (``known_jcs``)."""
    out: list[LogEntry] = []
    seq, prev = start_seq, prev_hash
    for i, (change, origin) in enumerate(items):
        seq += 1
        entry = LogEntry.chained(seq, change, origin, prev, jcs[i] if jcs is not None else None)
        out.append(entry)
        prev = entry.entry_hash
    return out


def verify_chain(entries: Iterable[LogEntry], *, after_seq: int,
                 after_hash: str) -> tuple[int, str]:
    """Check that ``entries`` continue the chain at ``(after_seq, after_hash)``.

    1. sequence numbers are consecutive (a gap is ``log.gap``);
    2. each entry's ``prev_hash`` is the previous hash (else ``log.fork``: history was
       rewritten below us);
    3. each entry's hash recomputes (else ``log.entry_tampered``).
    Returns the new ``(seq, hash)``.
    """
    checked = verified_entries(entries, after_seq=after_seq, after_hash=after_hash)
    return (checked[-1].seq, checked[-1].entry_hash) if checked else (after_seq, after_hash)


def verified_entries(entries: Iterable[LogEntry], *, after_seq: int,
                     after_hash: str) -> list[LogEntry]:
    """``verify_chain``'s checks; the entries come back holding the JCS bytes of their change
    (``change_jcs``, what a log stores), so a mirror writing the same entries into its own
    log neither serialises nor hashes them again (``continuing``)."""
    out: list[LogEntry] = []
    seq, prev = after_seq, after_hash
    for entry in entries:
        if entry.seq != seq + 1:
            raise ChainError(f"expected entry {seq + 1}, got {entry.seq}", code="log.gap",
                             seq=entry.seq)
        if entry.prev_hash != prev:
            raise ChainError(f"entry {entry.seq} does not chain to entry {seq}",
                             code="log.fork", seq=entry.seq)
        change_jcs = canonical(dict(entry.change))
        if _entry_hash(entry.seq, change_jcs, entry.origin, entry.prev_hash) != entry.entry_hash:
            raise ChainError(f"entry {entry.seq} does not match its hash",
                             code="log.entry_tampered", seq=entry.seq)
        out.append(LogEntry(entry.seq, entry.change, entry.origin, entry.prev_hash,
                            entry.entry_hash, change_jcs))
        seq, prev = entry.seq, entry.entry_hash
    return out


def continuing(entries: Sequence[LogEntry], start_seq: int, prev_hash: str,
               items: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]
               ) -> list[LogEntry] | None:
    """``entries`` if they are exactly what ``chain_entries(start_seq, prev_hash, items)``
    would make, else ``None``: a mirror that mirrors one peer from the start writes the
    peer's entries, already hashed by ``verified_entries`` (the entries must come from it
    or from ``chain_entries``: ``change_jcs`` set). The same seq, previous hash, change and
    origin -- equal JSON of the same types -- give the same entry hash."""
    if len(entries) != len(items):
        return None
    seq, prev = start_seq, prev_hash
    for entry, (change, origin) in zip(entries, items, strict=True):
        seq += 1
        if (entry.seq != seq or entry.prev_hash != prev or entry.change_jcs is None
                or not _identical(entry.change, change) or not _identical(entry.origin, origin)):
            return None
        prev = entry.entry_hash
    return list(entries)


def _identical(a: Any, b: Any) -> bool:
    """Equal JSON values with the same types all the way down: Python's ``1 == 1.0 == True``
    would let differently serialised values (so other hashes) pass as equal."""
    todo = [(a, b)]
    while todo:
        x, y = todo.pop()
        kind = type(x)
        if kind is not type(y):
            return False
        if kind is dict:
            if x.keys() != y.keys():
                return False
            todo.extend((x[k], y[k]) for k in x)
        elif kind is list:
            if len(x) != len(y):
                return False
            todo.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


@dataclass(frozen=True)
class LogHead:
    seq: int
    hash: str
    node_did: str
    signed_at: datetime

    def payload(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "node_did": self.node_did,
                "signed_at": self.signed_at.isoformat().replace("+00:00", "Z")}

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> LogHead:
        try:
            seq, digest, node = data["seq"], data["hash"], data["node_did"]
            signed_at = datetime.fromisoformat(str(data["signed_at"]).replace("Z", "+00:00"))
        except (KeyError, ValueError) as exc:
            raise ChainError(f"malformed log head: {exc}", code="log.head_malformed") from exc
        if not isinstance(seq, int) or not isinstance(digest, str) or not isinstance(node, str):
            raise ChainError("malformed log head", code="log.head_malformed")
        return cls(seq, digest, node, signed_at)


def check_head_against_cursor(head: LogHead, *, seq: int, digest: str) -> None:
    """A head behind our cursor, or at our cursor with another hash, is a rewritten history."""
    if head.seq < seq:
        raise ChainError(f"peer head {head.seq} is behind entry {seq} we already have",
                         code="log.fork", seq=head.seq)
    if head.seq == seq and head.hash != digest:
        raise ChainError(f"peer head hash at entry {seq} differs from ours", code="log.fork",
                         seq=seq)


__all__ = ["GENESIS_HASH", "HEAD_TYP", "SORTED_COMPACT", "ChainError", "LogEntry", "LogHead",
           "canonical", "chain_entries", "check_head_against_cursor", "continuing",
           "entry_hash", "known_jcs", "sha256_hex", "sorted_compact_encoder", "verified_entries",
           "verify_chain"]
