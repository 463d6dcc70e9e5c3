"""The HR integration surface: batch and asynchronous verification, idempotent POSTs,
signed receipts, tenants and data minimisation (docs/hr-integration.md)."""
