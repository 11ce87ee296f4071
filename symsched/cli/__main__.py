import sys

from symsched.cli import main

sys.exit(main())
