"""Pydantic models: wire input, API schemas and results are kept as separate kinds."""
