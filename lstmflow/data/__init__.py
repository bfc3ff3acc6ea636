"""Data stage: read, canonicalize, split, impute, engineer features, scale (no Prefect)."""
