"""TrustBridge: verification backbone for European learning credentials."""

__version__ = "0.1.0"
__all__ = ["__version__"]
