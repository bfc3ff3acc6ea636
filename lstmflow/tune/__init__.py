"""Hyperparameter search as plain functions (no Prefect): `space` (what a trial draws and the
config it makes), `objective` (one trial's fits, scored on validation data, pruned by the median
rule and by the diagnosis of its curves), `study` (the SQLite-backed Optuna study, the trial
table, best.yaml) and `report` (tune.html). flows/tune.py runs the workers on a task runner.

Import from the submodules: `space` and `study` import no torch.
"""
