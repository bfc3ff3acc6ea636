"""`lstmflow init`: from a data file to a working, commented config (plain function, no Prefect).

read the file > give columns roles > ingest as a run would > frequency, season, horizon, sizes >
the gate checks this file already fails become warnings (said why) > the target transform by
short validation fits > a config that `lstmflow train --config FILE` runs without edits.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic.fields import FieldInfo

from lstmflow.config import DataConfig, PipelineConfig, build_config
from lstmflow.config.keys import COMMON_KEYS
from lstmflow.data.ingest import canonicalize
from lstmflow.data.timestamps import fixed_step
from lstmflow.init.choose import (
    SHORT_FIT_STEPS,
    TransformsRefused,
    choose_transform,
    failing_checks,
    transform_candidates,
)
from lstmflow.init.dialect import read_raw
from lstmflow.init.infer import (
    MIN_TRAIN_WINDOWS,
    Inference,
    calendar_cycles,
    choose_season,
    choose_sizes,
)
from lstmflow.init.origins import fit_split, fit_window
from lstmflow.init.read import assign_columns

# Keys init writes beside COMMON_KEYS, where it infers them, because the file is read with them:
# the CSV dialect, how the timestamps parse, the layout, clashing rows, missing-value markers,
# readings off the grid; the scaler; the quality checks this file already fails (as warnings).
FILE_KEYS: tuple[str, ...] = (
    "data.layout", "data.timestamp_format", "data.time_of_day_column", "data.timezone",
    "data.delimiter", "data.decimal", "data.thousands", "data.skip_rows", "data.duplicates",
    "data.na_values", "data.off_grid", "preprocess.scaler", "quality.severity",
)
# With data.layout wide every column but the timestamp is a series: these do not apply.
NOT_IN_WIDE: tuple[str, ...] = ("data.series_column", "data.target_column", "data.covariates")


def config_field(dotted: str) -> FieldInfo:
    """The pydantic field of a dotted config key ('model.hidden_size')."""
    model: type = PipelineConfig
    *sections, name = dotted.split(".")
    for section in sections:
        model = model.model_fields[section].annotation
    return model.model_fields[name]


def with_common_keys(raw: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """What `lstmflow init` writes: the inferred `raw` plus every COMMON_KEYS key it lacks, at
    the config's default (so the file loads to the same config), sections and keys in the
    config's field order; and the dotted keys so added."""
    out = copy.deepcopy(raw)
    added: set[str] = set()
    wide = raw.get("data", {}).get("layout") == "wide"
    for key in COMMON_KEYS:
        if wide and key in NOT_IN_WIDE:
            continue
        *sections, name = key.split(".")
        node = out
        for section in sections:
            node = node.setdefault(section, {})
        if name not in node:
            node[name] = copy.deepcopy(config_field(key).get_default(call_default_factory=True))
            added.add(key)
    return _in_field_order(out, PipelineConfig), added


def _in_field_order(node: dict[str, Any], model: type) -> dict[str, Any]:
    fields = list(model.model_fields)
    rank = {name: i for i, name in enumerate(fields)}
    out = {}
    for key in sorted(node, key=lambda k: rank.get(k, len(fields))):
        value = node[key]
        sub = model.model_fields[key].annotation if key in model.model_fields else None
        if isinstance(value, dict) and isinstance(sub, type) and hasattr(sub, "model_fields"):
            value = _in_field_order(value, sub)
        out[key] = value
    return out


def _data_section(path: str, cols, dialect: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"path": path, "timestamp_column": cols.timestamp}
    if cols.timestamp_format:
        data["timestamp_format"] = cols.timestamp_format
    if cols.timezone:
        data["timezone"] = cols.timezone
    if cols.time_of_day:
        data["time_of_day_column"] = cols.time_of_day
    if cols.wide:
        data["layout"] = "wide"
    else:
        if cols.series:
            data["series_column"] = cols.series
        data["target_column"] = cols.target
        data["covariates"] = cols.covariates
        if cols.known:
            data["known_covariates"] = cols.known
    data.update(dialect)  # delimiter, decimal, thousands where not the defaults
    if cols.duplicates:
        data["duplicates"] = cols.duplicates
    if cols.na_markers:
        default = DataConfig.model_fields["na_values"].get_default(call_default_factory=True)
        data["na_values"] = [*default, *cols.na_markers]
    return data


def drifting_clock(report: dict[str, Any], freq: str) -> str | None:
    """The share of rows off a fixed-step grid ('74%') when it is more than the off_grid
    check allows, else None (calendar steps are never rounded)."""
    from lstmflow.config.quality import QualityConfig

    share = report.get("off_grid_rows_dropped", 0) / max(1, report.get("rows_read", 1))
    limit = QualityConfig.model_fields["max_off_grid_ratio"].default
    if fixed_step(freq) is None or share <= limit:
        return None
    return f"{share:.0%}"


def infer_config(
    path: str, target: str | None = None, horizon: int | None = None,
    output_dir: str = "outputs", try_transforms: bool = True,
    log: Callable[[str], None] = print, fit_steps: int = SHORT_FIT_STEPS,
    holidays: str | None = None,
) -> Inference:
    """Infer a config for the file at `path` (`holidays`: 'US' or 'US-CA', the public holidays
    to use); raises DataError for what it cannot read."""
    raw_table, dialect = read_raw(path)
    cols = assign_columns(raw_table, path, target)
    data = _data_section(path, cols, dialect)
    ingested = canonicalize(raw_table, DataConfig(**data))
    inf = Inference(raw={}, notes=list(cols.notes))
    inf.undecided += cols.undecided
    if cols.known:
        inf.why["data.known_covariates"] = ("values in the rows after the last observed target: "
                                            "known ahead (see the notes)")
    drifted = drifting_clock(ingested.report, ingested.freq)
    if drifted:  # readings that drift off the grid: moved to it instead of dropped
        data["off_grid"] = "round"
        ingested = canonicalize(raw_table, DataConfig(**data, freq=ingested.freq))
        moved = ingested.report["rounded_to_grid"]
        inf.why["data.off_grid"] = (
            f"{drifted} of the rows sit off the '{ingested.freq}' grid (a clock that drifts): "
            f"each moved to its nearest step, {moved['dropped_as_farther']} dropped where "
            "another row was closer to the same step")
    frame, freq = ingested.frame, ingested.freq
    data["freq"] = freq
    inf.why["data.freq"] = f"the most common step between timestamps is '{freq}'"
    if cols.wide:
        inf.why["data.layout"] = ("one series per column beside the timestamp: series_column, "
                                  "target_column and covariates do not apply")
    if dialect.get("skip_rows"):
        inf.why["data.skip_rows"] = (f"the table's header is line {dialect['skip_rows'] + 1}: "
                                     "the lines before it (a title or a note) are skipped")
    if "thousands" in dialect:
        inf.why["data.thousands"] = (f"numbers group their digits with '{dialect['thousands']}' "
                                     "(as in '4,742.83'), so they are read with it")
    lengths = [int(n) for n in frame.groupby("series_id").size()]
    train_share = 1 - 0.2  # the season is measured on the part before validation and test
    season, why_season = choose_season(frame, freq, train_share)
    inf.why["evaluation.season"] = why_season
    if horizon is None:
        cycles = calendar_cycles(freq)
        horizon = season if season > 1 else (cycles[0][0] if cycles else 1)
        horizon = max(1, min(horizon, int(np.median(lengths)) // 20))
        inf.why["forecast.horizon"] = ("one season" if season > 1 else
                                       "one calendar cycle of the frequency (no season found)") \
            + " (give --horizon to choose)"
    else:
        inf.why["forecast.horizon"] = "given with --horizon"
    sizes, why_sizes = choose_sizes(lengths, horizon, season)
    inf.why["forecast.input_size"] = why_sizes[1]
    inf.why["evaluation.val_size"] = inf.why["evaluation.test_size"] = why_sizes[0]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(path).name.split(".")[0]) or "lstmflow"
    candidates, why_candidates = transform_candidates(frame, train_share)
    raw: dict[str, Any] = {
        "name": name, "data": data,
        "forecast": {"horizon": horizon, "input_size": sizes["input_size"]},
        "preprocess": {"scaler": "auto", "target_transform": "diff"},
        "model": {},
        "evaluation": {"test_size": sizes["test_size"], "val_size": sizes["val_size"],
                       "season": season},
        "training": {},
        "output_dir": output_dir,
    }
    inf.why["preprocess.scaler"] = ("per series and column on the training rows: robust where "
                                    "the values are heavy-tailed, standard otherwise")
    holiday_keys(raw, inf, holidays, freq)
    raw, shortened, no_window = fit_window(frame, raw, MIN_TRAIN_WINDOWS)
    if shortened:
        inf.notes.append(shortened)
        inf.why["forecast.input_size"] += (f"; changed to {raw['forecast']['input_size']}: see "
                                           "the note on the window")
    if no_window:
        inf.undecided.append(no_window)
    chosen = raw
    raw, widened, unscorable = fit_split(frame, raw, lengths, MIN_TRAIN_WINDOWS)
    if widened:
        inf.notes.append(widened)
        for key in ("forecast.input_size", "evaluation.val_size", "evaluation.test_size"):
            part, name = key.split(".")
            if raw[part][name] != chosen[part][name]:
                inf.why[key] += f"; changed to {raw[part][name]}: see the note on the split"
    if unscorable:
        inf.undecided.append(unscorable)
    cfg = build_config(raw)
    short = sum(n < cfg.min_history() for n in lengths)
    if short:
        inf.notes.append(f"{short} of {len(lengths)} series have fewer than the "
                         f"{cfg.min_history()} rows these sizes need: each run leaves them out "
                         "with a warning (data.short_series: drop)")
    failed = failing_checks(frame, cfg, ingested.report)
    if failed:
        raw["quality"] = {"severity": {check: "warning" for check in failed}}
        for check, lines in failed.items():
            inf.undecided.append(f"the file fails the '{check}' check ({'; '.join(lines)[:300]}): "
                                 "set to a warning so that training runs; fix the data or "
                                 f"remove quality.severity.{check} to enforce it")
    if try_transforms and len(candidates) > 1 and not no_window:
        log(f"comparing target transforms by a short validation fit ({why_candidates}):")
        try:
            best, scores, refused = choose_transform(frame, raw, candidates, log, fit_steps)
        except TransformsRefused as exc:
            inf.undecided.append(
                "every target transform makes inputs the model-input gate refuses ("
                + "; ".join(f"{k}: {v}" for k, v in exc.refused.items())[:600] + "): the run "
                "would stop at gate 2; 'diff' kept. Raise quality.max_scaled_abs if such "
                "values are real, or cut the file to a period of similar scale")
        else:
            raw["preprocess"]["target_transform"] = best
            inf.why["preprocess.target_transform"] = (
                "lowest validation MAE after the same short fit: " + ", ".join(
                    f"{k} {v['val_mae']:.4g}" for k, v in scores.items())
                + "".join(f"; {k} not fitted, the model-input gate would refuse it: "
                          f"{v[:200]}" for k, v in refused.items()))
    else:
        why_not = "no training window fits" if no_window else "--no-fit"
        inf.undecided.append(f"target transform not compared ({why_not}): 'diff' kept")
    p = build_config(raw).segment_len()  # what is written must load
    inf.why["model"] = (f"the LSTM reads its {raw['forecast']['input_size']}-step window in "
                        f"{p}-step segments (model.segment_len, chosen when training starts: "
                        "about 12 recurrent steps a window; 1 reads it step by step)")
    inf.raw = raw
    return inf


def holiday_keys(raw: dict[str, Any], inf: Inference, given: str | None, freq: str) -> None:
    """features.holidays_country from `--holidays COUNTRY[-SUBDIVISION]`; without it, on daily
    or finer data, left NOT DECIDED (which country's holidays a series follows is not in it)."""
    if given:
        country, _, subdivision = given.partition("-")
        raw["features"] = {"holidays_country": country,
                           **({"holidays_subdivision": subdivision} if subdivision else {})}
        inf.why["features.holidays_country"] = "given with --holidays"
    elif daily_or_finer(freq):
        inf.undecided.append("public holidays not used: pass --holidays COUNTRY (e.g. US, or "
                             "US-CA with a state) if the series follows a country's holidays "
                             "(features.holidays_country, known ahead)")


def daily_or_finer(freq: str) -> bool:
    """Whether a step of `freq` is a day or less (business days included): where holidays show."""
    step = fixed_step(freq)
    if step is not None:
        return step <= pd.Timedelta(days=1)
    return pd.tseries.frequencies.to_offset(freq).name in ("B", "C")  # the rest: longer steps
