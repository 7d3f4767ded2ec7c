"""Train the source_separation stage (thin entry point: same as `aural train source_separation`)."""

import sys

from aural.cli import main

if __name__ == "__main__":
    main(["train", "source_separation", *sys.argv[1:]])
