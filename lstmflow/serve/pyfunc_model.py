"""The MLflow pyfunc a mirrored champion is logged with ("models from code": this file is the
model, nothing is pickled). It loads the version folder logged beside it through lstmflow's
own verified loader and forecasts with the project's plain-torch predictor.

    model = mlflow.pyfunc.load_model("models:/<name>@champion")
    model.predict(frame)  # the canonical frame: series_id, timestamp, target[, covariates]

returns what `lstmflow predict` writes: series_id, timestamp, forecast, lower_80, ...
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd


class ChampionModel(mlflow.pyfunc.PythonModel):
    """A verified lstmflow model version behind MLflow's pyfunc interface."""

    def load_context(self, context) -> None:
        from lstmflow.core import Forecaster

        self.fitted, self.version = Forecaster.load(context.artifacts["version"])

    def predict(self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None
                ) -> pd.DataFrame:
        from lstmflow.core import Forecaster

        future = None
        if self.fitted.state.get("known"):  # rows after the last target: the known inputs ahead
            from lstmflow.data.ingest import split_future

            model_input, future = split_future(model_input)
        table, _ = Forecaster.forecast(self.fitted, model_input, future)
        table["model_version"] = self.version.name
        return table


mlflow.models.set_model(ChampionModel())
