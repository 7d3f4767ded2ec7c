"""Regenerate a recording with the whole chain (thin entry point: same as `aural regenerate`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["regenerate", *sys.argv[1:]])
