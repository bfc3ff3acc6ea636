"""Prefect flows: the order of work, nothing else."""
