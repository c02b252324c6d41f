import sys

from cispack.cli.main import main

sys.exit(main())
