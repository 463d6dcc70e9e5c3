"""The trusted issuers registry: EBSI TIR v5 records, trust chains, store, service.

Public entry points: ``registry.service.TrustRegistry.check_issuer`` (the question the
verification pipeline asks), ``registry.chain.evaluate_accreditation`` (the pure
evaluation), ``registry.store.RegistryStore``. See registry/README.md for the seed format.
"""
