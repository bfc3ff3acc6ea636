"""Report stage: run summary and its renderings (no Prefect)."""
