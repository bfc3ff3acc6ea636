"""Walk-forward backtesting as plain functions: the fold plan, one fold refit on its own rows,
and the results across folds. The flow (flows/backtest.py) fans the folds out on a Prefect
task runner; `lstmflow tune` reuses `run_fold` as its objective.
"""

from lstmflow.backtest.fold import FoldResult, run_fold
from lstmflow.backtest.plan import Fold, backtest_rows, fold_frame, fold_step, plan_folds
from lstmflow.backtest.results import BACKTEST, across_folds, fold_rows, render_text

__all__ = ["BACKTEST", "Fold", "FoldResult", "across_folds", "backtest_rows", "fold_frame",
           "fold_rows", "fold_step", "plan_folds", "render_text", "run_fold"]
