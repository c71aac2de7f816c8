"""``python -m tests.kolada_fake --help``: serve the fake standalone (see ``main``)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
