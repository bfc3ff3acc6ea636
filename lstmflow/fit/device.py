"""Where a fit runs: `training.accelerator` and `training.precision` resolved against what torch
sees (plain functions). The CPU is the tested default; a GPU is taken only when asked or, with
'auto', when one is there."""

from __future__ import annotations

from dataclasses import dataclass

from lstmflow.config import PipelineConfig
from lstmflow.runs import TrainingError


@dataclass(frozen=True)
class Device:
    accelerator: str  # Lightning's: "cpu" or "gpu"
    precision: str  # Lightning's: "32-true", "16-mixed", "bf16-mixed"


def resolve_device(cfg: PipelineConfig) -> Device:
    """The accelerator and precision of a fit; a TrainingError naming the key when a GPU is
    asked for and torch sees none."""
    import torch

    t = cfg.training
    gpu = torch.cuda.is_available()
    if t.accelerator == "gpu" and not gpu:
        raise TrainingError("training.accelerator is 'gpu' but torch sees no GPU on this machine "
                            "(torch.cuda.is_available() is False): set it to 'auto' or 'cpu'")
    accelerator = "gpu" if t.accelerator == "gpu" or (t.accelerator == "auto" and gpu) else "cpu"
    precision = t.precision
    if precision == "auto":
        precision = "32-true" if accelerator == "cpu" else (
            "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed")
    return Device(accelerator, precision)
