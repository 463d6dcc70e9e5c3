"""Reading untrusted JSON values: text, concepts, EQF, ECTS, durations, countries, ESCO, dates.

Every reader takes ``Any`` (the credential is untrusted JSON) and either returns a value,
``None`` when nothing usable is there, or raises ``Invalid`` when a value is present but
malformed. Nothing here recurses without a bound, and strings and lists are capped, so a
hostile credential costs a bounded amount of work.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from trustbridge.microcred.countries import ALIASES, ALPHA2_TO_ALPHA3, ALPHA3_TO_ALPHA2

MAX_TEXT = 2000
"""Longest string kept in a summary (longer ones are cut and flagged)."""
MAX_ITEMS = 50
"""Most list items read for any element (outcomes, skills, bodies …)."""
_MAX_DEPTH = 4
_LANG_PREFERENCE = ("en", "@value", "value", "und")
_LANG_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}")


class Invalid(ValueError):
    """A value is present but malformed; ``reason`` is the dotted code's last part."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def items(value: Any, cap: int = MAX_ITEMS) -> list[Any]:
    """A JSON value that may be one item or a list, as a bounded list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value[:cap]
    return [value]


def mapping(value: Any) -> Mapping[str, Any] | None:
    """The first JSON object in ``value`` (an object, or a list holding one)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        for item in value[:MAX_ITEMS]:
            if isinstance(item, dict):
                return item
    return None


def mappings(value: Any, cap: int = MAX_ITEMS) -> list[Mapping[str, Any]]:
    return [m for m in items(value, cap) if isinstance(m, dict)]


def clip(value: str) -> str:
    """Strip and cap a string; a cut string ends with ``…`` (see ``was_clipped``)."""
    value = value.strip()
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT - 1] + "…"


def was_clipped(value: str | None) -> bool:
    return value is not None and len(value) == MAX_TEXT and value.endswith("…")


def text(value: Any, _depth: int = 0) -> str | None:
    """Plain text from a string, an ELM language map ``{"en": …}``, a ``Note``
    (``noteLiteral``), ``{"@value": …}`` or a list of those (English preferred)."""
    if value is None:  # most lookups find nothing
        return None
    if _depth > _MAX_DEPTH:
        return None
    if isinstance(value, str):
        return clip(value) or None
    if isinstance(value, list):
        for item in value[:MAX_ITEMS]:
            found = text(item, _depth + 1)
            if found:
                return found
        return None
    if not isinstance(value, dict):
        return None
    if "noteLiteral" in value:
        return text(value["noteLiteral"], _depth + 1)
    for key in _LANG_PREFERENCE:
        if key in value:
            found = text(value[key], _depth + 1)
            if found:
                return found
    for key, item in list(value.items())[:MAX_ITEMS]:
        # a language map: language tags as keys (``id`` and ``type`` are JSON-LD, not
        # Indonesian), strings as values
        if (isinstance(key, str) and key not in ("id", "type") and _LANG_TAG.fullmatch(key)
                and isinstance(item, str | list)):
            found = text(item, _depth + 1)
            if found:
                return found
    return None


def label(value: Any) -> str | None:
    """A readable label for an ELM ``Concept`` (``prefLabel``), a named object or a string."""
    if isinstance(value, str):
        return clip(value) or None
    node = mapping(value)
    if node is None:
        return None
    for key in ("prefLabel", "label", "title", "name", "legalName", "noteLiteral",
                "description"):
        found = text(node.get(key))
        if found:
            return found
    ident = node.get("id")
    return clip(ident) if isinstance(ident, str) and ident.strip() else None


def ident(value: Any) -> str | None:
    """The ``id`` of an object, or the string itself."""
    if isinstance(value, str):
        return clip(value) or None
    node = mapping(value)
    if node is not None and isinstance(node.get("id"), str):
        return clip(node["id"]) or None
    return None


# -- numbers -------------------------------------------------------------------------------

def number(value: Any, reason: str, what: str) -> float | None:
    """A finite number from a JSON number or a numeric string (``"2.5"``, ``"2,5"``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise Invalid(reason, f"{what} is a boolean, not a number")
    if isinstance(value, int) and abs(value) > 10**15:  # float() would overflow or round
        raise Invalid(reason, f"{what} is not a plausible number")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        candidate = value.strip().replace(",", ".")
        if not re.fullmatch(r"[+-]?[0-9]{1,9}(\.[0-9]{1,6})?", candidate):
            raise Invalid(reason, f"{what} {value[:40]!r} is not a number")
        result = float(candidate)
    else:
        raise Invalid(reason, f"{what} is a {type(value).__name__}, not a number")
    if not math.isfinite(result):
        raise Invalid(reason, f"{what} is not a finite number")
    if result < 0:
        raise Invalid(reason, f"{what} is negative ({result:g})")
    return result


_DURATION = re.compile(
    r"P(?:(?P<Y>\d+(?:[.,]\d+)?)Y)?(?:(?P<Mo>\d+(?:[.,]\d+)?)M)?(?:(?P<W>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<D>\d+(?:[.,]\d+)?)D)?(?:T(?:(?P<H>\d+(?:[.,]\d+)?)H)?(?:(?P<Mi>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<S>\d+(?:[.,]\d+)?)S)?)?")


def duration_hours(value: str) -> float | None:
    """Hours in an ISO 8601 duration (ELM ``volumeOfLearning``, e.g. ``PT60H``).

    Returns ``None`` for durations in calendar units (``P1M``, ``P2D``): they give a span,
    not a workload in hours. Raises ``Invalid`` when the string is not a duration.
    """
    raw = value.strip()
    found = _DURATION.fullmatch(raw) if len(raw) <= 64 else None
    if found is None or raw in ("P", "PT") or raw.endswith("T"):
        raise Invalid("workload_hours", f"volume of learning {value[:40]!r} is not an "
                      "ISO 8601 duration")
    parts = {k: float(v.replace(",", ".")) for k, v in found.groupdict().items() if v}
    if any(k in parts for k in ("Y", "Mo", "W", "D")):
        return None
    return parts.get("H", 0.0) + parts.get("Mi", 0.0) / 60 + parts.get("S", 0.0) / 3600


# -- EQF and QF-EHEA -----------------------------------------------------------------------

_EQF_URI = re.compile(r"https?://data\.europa\.eu/snb/eqf/([0-9]{1,3})/?")
_EQF_TEXT = re.compile(r"(?:eqf[\s_-]*)?(?:level[\s_-]*)?([0-9]{1,3})", re.IGNORECASE)


def eqf_level(value: Any, _depth: int = 0) -> int | None:
    """EQF level 1-8 from ``http://data.europa.eu/snb/eqf/4``, ``4``, ``"4"``, ``"EQF 4"``,
    ``"Level 4"`` or an ELM concept holding one of those."""
    if value is None:
        return None
    if _depth > _MAX_DEPTH:
        raise Invalid("eqf_level", "the EQF level is nested too deeply")
    if isinstance(value, dict):
        for key in ("id", "notation", "targetCode", "prefLabel", "level"):
            candidate = value.get(key)
            if key == "prefLabel":
                candidate = text(candidate)
            if candidate is not None:
                return eqf_level(candidate, _depth + 1)
        raise Invalid("eqf_level", "the EQF level object has no id, notation or label")
    if isinstance(value, list):
        return eqf_level(value[0], _depth + 1) if value else None
    level: int | None = None
    if isinstance(value, bool):
        level = None
    elif isinstance(value, int):
        level = value
    elif isinstance(value, float) and value.is_integer():
        level = int(value)
    elif isinstance(value, str) and len(value) <= 200:
        found = _EQF_URI.fullmatch(value.strip()) or _EQF_TEXT.fullmatch(value.strip())
        level = int(found.group(1)) if found else None
    if level is None or not 1 <= level <= 8:
        shown = value[:60] if isinstance(value, str) else (
            value if isinstance(value, int | float) and abs(value) < 10**6 else
            type(value).__name__)
        raise Invalid("eqf_level", f"EQF level {shown!r} is not a level from 1 to 8")
    return level


QF_EHEA_CYCLES = ("short", "first", "second", "third")
QF_EHEA_TO_EQF = {"short": 5, "first": 6, "second": 7, "third": 8}
_QF_WORDS = {"short": "short", "short cycle": "short", "sc": "short", "0": "short",
             "first": "first", "1": "first", "1st": "first", "second": "second", "2": "second",
             "2nd": "second", "third": "third", "3": "third", "3rd": "third"}


def qf_ehea_cycle(value: Any) -> str | None:
    """QF-EHEA cycle (``short``/``first``/``second``/``third``) from a word, a number or
    a concept label such as ``"First cycle"``."""
    if value is None:
        return None
    raw = label(value) if isinstance(value, Mapping | list) else value
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if isinstance(raw, str) and len(raw) <= 200:
        word = raw.strip().lower().replace("-", " ").replace("_", " ")
        word = re.sub(r"^qf ehea\s*", "", word)
        word = re.sub(r"\s*cycle$", "", word).strip()
        if word in _QF_WORDS:
            return _QF_WORDS[word]
    raise Invalid("qf_ehea_level", f"QF-EHEA cycle {str(raw)[:60]!r} is not short, first, "
                  "second or third")


# -- countries -----------------------------------------------------------------------------

_AUTHORITY = re.compile(r"https?://publications\.europa\.eu/resource/authority/country/"
                        r"([A-Za-z0-9]{3})/?")


def country_code(value: Any) -> str | None:
    """ISO 3166-1 alpha-2 from alpha-2, alpha-3 or an EU authority URI
    (``http://publications.europa.eu/resource/authority/country/ESP``) or a concept."""
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return None
    if isinstance(value, dict):
        for key in ("id", "addressCountryCode", "countryCode", "code"):
            if isinstance(value.get(key), str):
                return country_code(value[key])
        raise Invalid("country", "the country object has no id or code")
    if not isinstance(value, str):
        raise Invalid("country", f"country is a {type(value).__name__}, not a code")
    raw = value.strip()
    found = _AUTHORITY.fullmatch(raw)
    code = (found.group(1) if found else raw).upper()
    if len(raw) <= 6 and "-" in code:  # ISO 3166-2 subdivision: its country
        code = code.split("-", 1)[0]
    code = ALIASES.get(code, code)
    if len(code) == 3:
        code = ALPHA3_TO_ALPHA2.get(code, "?")
    code = ALIASES.get(code, code)
    if code not in ALPHA2_TO_ALPHA3:
        raise Invalid("country", f"{raw[:60]!r} is not an ISO 3166-1 country code or EU "
                      "country authority URI")
    return code


def alpha3(code: str) -> str:
    return ALPHA2_TO_ALPHA3[code]


# -- ESCO ----------------------------------------------------------------------------------

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ESCO = re.compile(rf"http://data\.europa\.eu/esco/(?:(skill)/(?:{_UUID}|[A-Z]?[0-9]+(?:\.[0-9]+)*)"
                   rf"|(occupation)/{_UUID}|(isco)/C[0-9]{{1,4}})")
ESCO_PREFIX = "data.europa.eu/esco/"


def claims_esco(uri: str) -> bool:
    """Whether a URI is in the ESCO namespace (and so must be well formed)."""
    return ESCO_PREFIX in uri[:40].lower()


def esco_uri(uri: str) -> tuple[str, str]:
    """A well-formed ESCO skill/occupation/ISCO URI and its kind; ``https`` is normalised
    to the canonical ``http`` form (the caller warns)."""
    candidate = uri.strip()
    if candidate.lower().startswith("https://"):
        candidate = "http://" + candidate[len("https://"):]
    found = _ESCO.fullmatch(candidate) if len(candidate) <= 120 else None
    if found is None:
        raise Invalid("esco_uri", f"{uri[:80]!r} is not a well-formed ESCO skill, occupation "
                      "or ISCO URI")
    kind = found.group(1) or found.group(2) or found.group(3) or "skill"
    return candidate, kind


# -- dates ---------------------------------------------------------------------------------

_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}"
                      r"(?:\.[0-9]{1,9})?(?P<tz>[Zz]|[+-][0-9]{2}:[0-9]{2})?)?")


def rfc3339(value: Any) -> tuple[datetime, bool]:
    """A timezone-aware datetime from an RFC 3339 date-time or full-date, and whether an
    offset was given (no offset: read as UTC, and the caller warns)."""
    if not isinstance(value, str):
        raise Invalid("issued", f"the date of issuing is a {type(value).__name__}, not an "
                      "RFC 3339 date")
    raw = value.strip()
    found = _RFC3339.fullmatch(raw) if len(raw) <= 40 else None
    if found is None:
        raise Invalid("issued", f"date of issuing {raw[:40]!r} is not an RFC 3339 date-time")
    normalised = raw.upper().replace("Z", "+00:00")
    if "." in normalised:  # Python wants at most 6 fraction digits
        head, _, tail = normalised.partition(".")
        digits = re.match(r"[0-9]+", tail)
        frac = digits.group(0) if digits else ""
        normalised = f"{head}.{frac[:6].ljust(6, '0')}{tail[len(frac):]}"
    try:
        parsed = datetime.fromisoformat(normalised)
    except ValueError as exc:
        raise Invalid("issued", f"date of issuing {raw[:40]!r} is not a valid date") from exc
    has_offset = found.group("tz") is not None or "T" not in raw.upper()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed, has_offset


__all__ = [
    "MAX_ITEMS",
    "MAX_TEXT",
    "QF_EHEA_CYCLES",
    "QF_EHEA_TO_EQF",
    "Invalid",
    "alpha3",
    "claims_esco",
    "clip",
    "country_code",
    "duration_hours",
    "eqf_level",
    "esco_uri",
    "ident",
    "items",
    "label",
    "mapping",
    "mappings",
    "number",
    "qf_ehea_cycle",
    "rfc3339",
    "text",
    "was_clipped",
]
