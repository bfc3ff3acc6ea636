"""Automatic repair (`training.auto_repair`): refit with the diagnosis' remedies through the
core's Forecaster and keep the attempt best on the validation period (plain functions)."""

from lstmflow.repair.candidates import Candidate, Repair
from lstmflow.repair.policy import repair

__all__ = ["Candidate", "Repair", "repair"]
