"""``python -m labsim.classroom``: the same as ``labsim-classroom``."""

import sys

from labsim.classroom import main

sys.exit(main())
