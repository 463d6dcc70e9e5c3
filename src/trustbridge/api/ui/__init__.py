"""Web pages for HR staff: credential verification and the trusted-issuers registry."""

from trustbridge.api.ui.routes import routes

__all__ = ["routes"]
