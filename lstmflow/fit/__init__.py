"""Fit stage: train the LSTM, evaluate it against baselines (no Prefect)."""
