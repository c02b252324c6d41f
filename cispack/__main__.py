import sys

from cispack.cli import main

sys.exit(main())
