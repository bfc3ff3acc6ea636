"""Prefect tasks: one step each, thin wrappers over plain functions in lstmflow/ and models/."""
