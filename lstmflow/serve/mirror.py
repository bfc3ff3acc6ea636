"""The champion mirrored into MLflow's model registry (`tracking.logger: mlflow`): a promoted
version is logged as an MLflow model under the run that trained it and the registered model's
alias 'champion' moves to it; a rollback or a promotion by hand moves the alias. lstmflow's own
registry (manifests, hashes, the champion pointer) stays the source of truth: the mirror is
best-effort, and a failure is one warning, never a failed run or action."""

from __future__ import annotations

from pathlib import Path

from lstmflow.config import PipelineConfig
from lstmflow.fit.tracking import Run, warn_once

ALIAS = "champion"
VERSION_TAG = "lstmflow_version"  # the lstmflow version an MLflow model version mirrors


def model_name(cfg: PipelineConfig) -> str:
    return cfg.tracking.registered_model or cfg.name


def mirror_champion(cfg: PipelineConfig, run: Run | None, folder: Path) -> str | None:
    """Log the version in `folder` as an MLflow model in `run`, register it and point the
    alias at it; the MLflow model version, or None (nothing to do, or warned)."""
    if cfg.tracking.logger != "mlflow" or run is None:
        return None
    try:
        import mlflow
        from mlflow.tracking import MlflowClient

        mlflow.set_tracking_uri(run.uri)
        client = MlflowClient(tracking_uri=run.uri)
        with mlflow.start_run(run_id=run.id):
            info = mlflow.pyfunc.log_model(
                name="model", python_model=str(Path(__file__).with_name("pyfunc_model.py")),
                artifacts={"version": str(folder)})
        mv = mlflow.register_model(info.model_uri, model_name(cfg),
                                   tags={VERSION_TAG: Path(folder).name})
        client.set_registered_model_alias(model_name(cfg), ALIAS, mv.version)
        return str(mv.version)
    except Exception as exc:
        warn_once("mirroring the champion to MLflow", exc, run)
        return None


def move_alias(cfg: PipelineConfig, version: str) -> str | None:
    """Point the alias at the MLflow model version mirroring lstmflow version `version` (after
    a rollback or a promotion by hand); None when none mirrors it (warned)."""
    if cfg.tracking.logger != "mlflow":
        return None
    try:
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=cfg.tracking.uri)
        name = model_name(cfg)
        found = [mv for mv in client.search_model_versions(f"name='{name}'")
                 if mv.tags.get(VERSION_TAG) == version]
        if not found:
            warn_once("moving the MLflow alias", LookupError(
                f"no version of registered model '{name}' mirrors '{version}'"))
            return None
        client.set_registered_model_alias(name, ALIAS, found[0].version)
        return str(found[0].version)
    except Exception as exc:
        warn_once("moving the MLflow alias", exc)
        return None
