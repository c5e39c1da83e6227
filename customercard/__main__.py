"""``python -m customercard`` is the ``customercard`` command."""

import sys

from .cli import main

if __name__ == "__main__":  # imported (Panel's /components route imports what a URL names), it does nothing
    sys.exit(main())
