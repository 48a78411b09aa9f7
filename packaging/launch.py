"""Entry script for the bundled application: the same CLI (GUI without a subcommand)."""

import sys

from mrstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
