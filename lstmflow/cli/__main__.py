"""`python -m lstmflow.cli`."""

from lstmflow.cli import run

run()
