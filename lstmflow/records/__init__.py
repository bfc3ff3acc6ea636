"""Typed records of what lstmflow writes and reads back (pydantic models; the JSON files'
keys are their fields): summary.json (`run`), backtest.json, tune.json and the manifest."""
