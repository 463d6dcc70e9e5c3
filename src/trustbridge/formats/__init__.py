"""Credential formats: one module per wire format, all behind ``formats.base.CredentialFormat``."""
