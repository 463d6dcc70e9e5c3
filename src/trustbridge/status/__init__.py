"""Revocation and suspension: StatusList2021, BitstringStatusList and EBSI's variants.

``bitstring`` decodes lists (pure), ``statuslist`` reads a status-list credential
and checks one entry against it (pure), ``fetcher`` gets the raw list document
through the SSRF-safe fetcher behind the cache (I/O).
"""
