"""Evaluate the source_separation stage (thin entry point: same as `aural evaluate source_separation`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["evaluate", "source_separation", *sys.argv[1:]])
