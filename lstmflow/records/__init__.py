"""Typed records of what lstmflow writes and reads back (pydantic models; the JSON files'
keys are their fields): summary.json (`run`), backtest.json (`backtest`), tune.json (`tune`),
the parts those two share (`fanout`) and a registry version's manifest.json (`manifest`)."""
