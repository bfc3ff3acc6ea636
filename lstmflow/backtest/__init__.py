"""Walk-forward backtesting as plain functions (no Prefect): `plan` (which rows each fold
keeps), `fold` (one fold refit and scored on its own rows; `lstmflow tune` reuses it as its
objective) and `results` (mean and spread across folds, the fold table). The flow
(flows/backtest.py) fans the folds out on a Prefect task runner.

Import from the submodules: `results` and `plan` stay light (no torch) for the CLI.
"""
