"""Train the dynamic_compression stage (thin entry point: same as `aural train dynamic_compression`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["train", "dynamic_compression", *sys.argv[1:]])
