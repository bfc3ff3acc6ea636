"""Config section `tracking`: the experiment tracker a run's curves and results also go to
(Lightning's loggers); lstmflow's own run folder and registry stay the record."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lstmflow.config.base import _Section


class TrackingConfig(_Section):
    """Where runs are mirrored for the trackers people already open (TensorBoard, MLflow)."""

    logger: Literal["none", "csv", "tensorboard", "mlflow"] = Field(
        "none",
        description="'none' (default: nothing to install or run); 'csv' and 'tensorboard' write "
        "under `uri` (a folder); 'mlflow' logs to the tracking server at `uri` and mirrors the "
        "champion into MLflow's model registry (alias 'champion'). Needs the extras "
        "lstmflow[tensorboard] or lstmflow[mlflow]. A tracker that fails is a warning, never a "
        "failed run.",
    )
    uri: str | None = Field(
        None,
        description="csv/tensorboard: the folder (default <output_dir>/tracking); mlflow: the "
        "tracking URI, e.g. http://127.0.0.1:5000 or sqlite:///mlflow.db (default: "
        "MLFLOW_TRACKING_URI).",
    )
    experiment: str | None = Field(
        None, description="Experiment (mlflow) or folder name (csv/tensorboard); default: the "
        "config's `name`.",
    )
    registered_model: str | None = Field(
        None, description="mlflow: the registered model the champion is mirrored to; default: "
        "the config's `name`.",
    )
