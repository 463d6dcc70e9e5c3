"""Jurisdictions in accreditations: ISO 3166-1 alpha-2 codes and ``EU``.

EBSI's accreditation examples write ``limitJurisdiction`` as an EU Publications
Office authority URI (``https://publications.europa.eu/resource/authority/atu/FIN``,
``…/country/ESP``: alpha-3); people write ``ES`` or ``es``. Everything is reduced
to alpha-2 (or ``EU``) before comparing. ``EU`` contains every member state.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

EU = "EU"

# The 27 member states: alpha-3 -> alpha-2 (EL is the EU's own code for Greece).
EU_MEMBERS: dict[str, str] = {
    "AUT": "AT", "BEL": "BE", "BGR": "BG", "HRV": "HR", "CYP": "CY", "CZE": "CZ",
    "DNK": "DK", "EST": "EE", "FIN": "FI", "FRA": "FR", "DEU": "DE", "GRC": "GR",
    "HUN": "HU", "IRL": "IE", "ITA": "IT", "LVA": "LV", "LTU": "LT", "LUX": "LU",
    "MLT": "MT", "NLD": "NL", "POL": "PL", "PRT": "PT", "ROU": "RO", "SVK": "SK",
    "SVN": "SI", "ESP": "ES", "SWE": "SE",
}
_OTHER_ALPHA3: dict[str, str] = {
    "ISL": "IS", "LIE": "LI", "NOR": "NO", "CHE": "CH", "GBR": "GB", "UKR": "UA",
    "EUR": EU, "EUU": EU,
}
_ALIASES = {"EL": "GR", "UK": "GB"}
MEMBER_CODES = frozenset(EU_MEMBERS.values())


class JurisdictionError(ValueError):
    """Not a jurisdiction we can compare."""


@functools.lru_cache(maxsize=1024)  # pure; asked several times per accreditation checked
def normalise(value: str) -> str:
    """``ES``/``es``/``ESP``/``ES-NA``/``…/atu/ESP``/``…/country/ESP`` -> ``ES``; ``EU`` stays."""
    text = value.strip().rstrip("/")
    if "/" in text:
        text = text.rsplit("/", 1)[-1]
    code = text.upper()
    if "-" in code:  # ISO 3166-2 subdivision: its country
        code = code.split("-", 1)[0]
    code = EU_MEMBERS.get(code) or _OTHER_ALPHA3.get(code) or _ALIASES.get(code) or code
    if len(code) != 2 or not code.isalpha():
        raise JurisdictionError(f"{value!r} is not an ISO 3166 country code, EU, or an EU "
                                "authority URI")
    return code


def contains(outer: str, inner: str) -> bool:
    """Whether jurisdiction ``outer`` includes ``inner`` (both normalised)."""
    return outer == inner or (outer == EU and inner in MEMBER_CODES)


def within(inner: Iterable[str] | None, outer: Iterable[str] | None) -> list[str]:
    """Members of ``inner`` not covered by ``outer``; ``None`` means unlimited.

    An unlimited ``inner`` under a limited ``outer`` is reported as ``["*"]``.
    """
    if outer is None:
        return []
    outer_set = list(outer)
    if inner is None:
        return ["*"]
    return sorted({j for j in inner if not any(contains(o, j) for o in outer_set)})


__all__ = ["EU", "EU_MEMBERS", "MEMBER_CODES", "JurisdictionError", "contains", "normalise",
           "within"]
