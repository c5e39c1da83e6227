"""``python -m customercard`` is the ``customercard`` command."""

import sys

from .cli import main

sys.exit(main())
