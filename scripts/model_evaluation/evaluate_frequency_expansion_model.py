"""Evaluate the frequency_expansion stage (thin entry point: same as `aural evaluate frequency_expansion`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["evaluate", "frequency_expansion", *sys.argv[1:]])
