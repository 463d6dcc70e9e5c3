"""Relational storage behind one async interface: SQLite (default) and PostgreSQL."""

from trustbridge.store.interface import Database, Transaction, open_database

__all__ = ["Database", "Transaction", "open_database"]
