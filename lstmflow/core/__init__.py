"""The core: one `Forecaster` that assembles prepare > fit > blend > forecast > evaluate >
diagnose, and the typed results it returns (lstmflow.core.result)."""

from lstmflow.core.forecaster import Forecaster, diagnosis_config, without_test
from lstmflow.core.result import Diagnosis, Evaluation, FitResult, Fitted, Forecasts, Outcome

__all__ = ["Diagnosis", "Evaluation", "FitResult", "Fitted", "Forecaster", "Forecasts", "Outcome",
           "diagnosis_config", "without_test"]
