"""Serve stage: model registry and promotion (no Prefect)."""
