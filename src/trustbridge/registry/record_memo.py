"""Issuer records remembered per registry epoch, so chain evaluations stop re-reading the
same TAO and RootTAO rows for every issuer asked about.

Why it is safe: every registry write goes through ``RegistryWriter``, which moves the
epoch in the same transaction. A view is bound to an epoch read *before* its records, so
what it stores under epoch E is at least as new as E; a later epoch never sees it.
Across worker processes sharing PostgreSQL an evaluation reuses the epoch it read for at
most ``registry_epoch_max_age_seconds`` (``TrustRegistry.current_epoch``), so another
node's write is seen within that; this process's own, at once. Only raw records are kept (absent
DIDs as ``None``); signatures are still checked on every evaluation (their verdicts have
their own memo keyed on the exact bytes).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from trustbridge.registry.facts import RecordSource
from trustbridge.registry.model import IssuerRecord

DEFAULT_MAX_ENTRIES = 4096


class EpochRecordMemo:
    """An LRU of ``(epoch, did) -> record | None`` in front of a ``RecordSource``."""

    def __init__(self, source: RecordSource, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.source = source
        self.max_entries = max_entries
        self._memo: OrderedDict[tuple[int | str, str], IssuerRecord | None] = OrderedDict()

    def at(self, epoch: int | str) -> RecordSource:
        """A record source that reads through this memo at ``epoch``."""
        return _EpochView(self, epoch)

    def clear(self) -> None:
        self._memo.clear()

    async def get_issuers(self, epoch: int | str, dids: Iterable[str]) -> dict[str, IssuerRecord]:
        wanted = list(dict.fromkeys(dids))
        out: dict[str, IssuerRecord] = {}
        missing: list[str] = []
        for did in wanted:
            key = (epoch, did)
            if key in self._memo:
                self._memo.move_to_end(key)
                record = self._memo[key]
                if record is not None:
                    out[did] = record
            else:
                missing.append(did)
        if missing:
            fetched = await self.source.get_issuers(missing)
            out.update(fetched)
            for did in missing:
                self._memo[(epoch, did)] = fetched.get(did)
            while len(self._memo) > self.max_entries:
                self._memo.popitem(last=False)
        return out


class _EpochView:
    def __init__(self, memo: EpochRecordMemo, epoch: int | str) -> None:
        self._memo = memo
        self._epoch = epoch

    async def get_issuers(self, dids: Iterable[str]) -> dict[str, IssuerRecord]:
        return await self._memo.get_issuers(self._epoch, dids)


__all__ = ["EpochRecordMemo"]
