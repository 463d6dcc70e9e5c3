"""QR codes of the wallet deep link (cross-device flow, OpenID4VP 1.0 section 3.2)."""

from __future__ import annotations

import io

import segno

# Medium error correction keeps the by-reference link small enough for phone cameras.
_ERROR = "m"


def qr_png(data: str, *, scale: int = 6) -> bytes:
    buf = io.BytesIO()
    segno.make(data, error=_ERROR, micro=False).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def qr_svg(data: str, *, scale: int = 6) -> bytes:
    buf = io.BytesIO()
    segno.make(data, error=_ERROR, micro=False).save(buf, kind="svg", scale=scale, border=4,
                                                     xmldecl=True)
    return buf.getvalue()


__all__ = ["qr_png", "qr_svg"]
