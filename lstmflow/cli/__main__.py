"""`python -m lstmflow.cli`."""

import sys

from lstmflow.cli import main

sys.exit(main())
