import sys

from labsim.calibration import main

sys.exit(main())
