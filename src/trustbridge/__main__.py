"""``python -m trustbridge`` is the ``trustbridge`` command."""

import sys

from trustbridge.cli import main

sys.exit(main())
