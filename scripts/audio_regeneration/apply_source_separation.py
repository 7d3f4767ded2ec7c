"""Apply the source_separation stage to a file (thin entry point: same as `aural apply source_separation IN OUT_DIR`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["apply", "source_separation", *sys.argv[1:]])
