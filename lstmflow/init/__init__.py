"""`lstmflow init`: from a data file to a working, commented config (plain functions)."""
