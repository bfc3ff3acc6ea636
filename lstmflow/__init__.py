"""lstmflow: scheduled LSTM retraining that refuses bad data and bad fits."""

__version__ = "0.1.0"
