"""Apply the dynamic_compression stage to a file (thin entry point: same as `aural apply dynamic_compression IN OUT`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["apply", "dynamic_compression", *sys.argv[1:]])
