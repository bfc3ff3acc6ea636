"""Torch / Lightning code with no Prefect in it."""
