"""`python -m tools.rehearsal`."""

import sys

from tools.rehearsal import main

sys.exit(main())
